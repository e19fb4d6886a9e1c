using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Tessera.Storage;
using Tessera.Storage.Ext2;
using Xunit;

namespace Tessera.Tests.Host.Ext2;

/// <summary>
/// Model-based property: random sequences of file operations (over a small set of names so
/// they collide: create, mkdir, write, truncate, unlink, rmdir, rename, link, read, stat,
/// list) are applied to the ext2 implementation and to an in-memory tree. Every operation
/// must give the same result (the same errno, the same bytes, sizes, types, link counts and
/// directory listings), and at the end e2fsck -fn must find the image clean and debugfs must
/// read the same file contents.
/// </summary>
public sealed class Ext2ModelTests
{
    public enum Kind { Create, Mkdir, Write, Truncate, Unlink, Rmdir, Rename, Link, Read, Stat, List, Remount }

    /// <summary>
    /// One operation. Paths are chosen when the operation runs, from the model's state at that
    /// moment (Aim below 8: an existing file or directory, else any path of a small universe),
    /// so most operations act on something that exists and sequences still shrink by dropping
    /// steps. Path and Path2, when given, are used as they are.
    /// </summary>
    public sealed record Op(Kind Kind, int Pick, int Pick2, int Aim, long Offset, int Length, int Seed, string? Path = null, string? Path2 = null);

    private static readonly string[] Names = ["a", "b", "c"];

    // Offsets around the interesting edges with 1 KiB blocks: block boundaries, the first
    // indirect block (12 KiB), the doubly-indirect range (268 KiB), the triply-indirect one (~64 MiB).
    private static readonly long[] Offsets = [0, 1, 1000, 1023, 1024, 4096, 12 * 1024 - 1, 12 * 1024, 100_000, 268 * 1024 - 3, 300_000, (12 + 256 + 65536) * 1024L + 5];

    private static Gen<Op> OpGen =>
        from kind in Gen.Frequency(
            (6, Gen.Constant(Kind.Create)), (4, Gen.Constant(Kind.Mkdir)), (10, Gen.Constant(Kind.Write)),
            (5, Gen.Constant(Kind.Truncate)), (3, Gen.Constant(Kind.Unlink)), (2, Gen.Constant(Kind.Rmdir)),
            (4, Gen.Constant(Kind.Rename)), (2, Gen.Constant(Kind.Link)), (6, Gen.Constant(Kind.Read)),
            (2, Gen.Constant(Kind.Stat)), (2, Gen.Constant(Kind.List)), (1, Gen.Constant(Kind.Remount)))
        from pick in Gen.Choose(0, 1000)
        from pick2 in Gen.Choose(0, 1000)
        from aim in Gen.Choose(0, 9)
        from offset in Gen.Elements(Offsets)
        from delta in Gen.Choose(-3, 3)
        from length in Gen.Frequency((3, Gen.Choose(1, 100)), (2, Gen.Choose(100, 5000)), (1, Gen.Choose(5000, 20000)))
        from seed in Gen.Choose(0, int.MaxValue)
        select new Op(kind, pick, pick2, aim, Math.Max(0, offset + delta), length, seed);

    private static Arbitrary<Op[]> Sequences =>
        Arb.From(Gen.Choose(20, 60).SelectMany(n => Gen.ArrayOf(OpGen, n)),
            ops => Enumerable.Range(0, ops.Length).Select(i => ops.Where((_, j) => j != i).ToArray()));

    /// <summary>Every path of depth 1 to 3 over Names: where operations aimed at nothing in particular go.</summary>
    private static readonly string[] Universe =
        (from a in Names select "/" + a)
        .Concat(from a in Names from b in Names select $"/{a}/{b}")
        .Concat(from a in Names from b in Names from c in Names select $"/{a}/{b}/{c}").ToArray();

    /// <summary>The paths op works on, chosen from the model's current state.</summary>
    private static (string Path, string Path2) Choose(Op op, Model model)
    {
        var files = model.Paths().Where(p => !p.Node.IsDirectory).Select(p => p.Path).ToList();
        var dirs = model.Paths().Where(p => p.Node.IsDirectory).Select(p => p.Path).Prepend("/").ToList();
        bool aimed = op.Aim < 8;
        string Pick(List<string> from, int pick) => aimed && from.Count > 0 ? from[pick % from.Count] : Universe[pick % Universe.Length];
        string Child(int pick)
        {
            string parent = aimed ? dirs[pick % dirs.Count] : Universe[pick % Universe.Length];
            return (parent == "/" ? "" : parent) + "/" + Names[pick / 7 % Names.Length];
        }
        string path = op.Path ?? op.Kind switch
        {
            Kind.Create or Kind.Mkdir => Child(op.Pick),
            Kind.Rmdir or Kind.List => Pick(dirs.Skip(op.Kind == Kind.Rmdir ? 1 : 0).ToList(), op.Pick),
            Kind.Rename => Pick(files.Concat(dirs.Skip(1)).ToList(), op.Pick),
            _ => Pick(files, op.Pick),
        };
        string path2 = op.Path2 ?? Child(op.Pick2);
        return (path, path2);
    }

    private static string Describe(Op op, string path, string path2) => op.Kind switch
    {
        Kind.Write => $"Write({path}, at {op.Offset}, {op.Length} bytes)",
        Kind.Truncate => $"Truncate({path}, {op.Offset})",
        Kind.Rename or Kind.Link => $"{op.Kind}({path}, {path2})",
        Kind.Remount => "Remount",
        _ => $"{op.Kind}({path})",
    };

    [Property(MaxTest = 40)]
    public Property RandomOperationsMatchAnInMemoryModel() =>
        Prop.ForAll(Sequences, ops => Run(ops).GetAwaiter().GetResult());

    /// <summary>A fixed sequence through the interesting cases, so they are covered on every run.</summary>
    [Fact]
    public async Task AKnownSequenceMatchesTheModel()
    {
        Op O(Kind k, string p, string p2 = "/", long off = 0, int len = 0) => new(k, 0, 0, 0, off, len, 7, p, p2);
        Assert.True(await Run([
            O(Kind.Mkdir, "/a"), O(Kind.Create, "/a/b"), O(Kind.Write, "/a/b", off: 12 * 1024 - 5, len: 3000),
            O(Kind.Write, "/a/b", off: Offsets[^1], len: 2000), O(Kind.Link, "/a/b", "/c"), O(Kind.Rename, "/a", "/b"),
            O(Kind.Stat, "/c"), O(Kind.Truncate, "/c", off: 300_000), O(Kind.Read, "/b/b"), O(Kind.Rmdir, "/b"),
            O(Kind.Unlink, "/b/b"), O(Kind.Rmdir, "/b"), O(Kind.Mkdir, "/a"), O(Kind.Mkdir, "/a/a"), O(Kind.Rename, "/a", "/a/a/c"),
            O(Kind.Rename, "/a/a", "/b"), O(Kind.Rename, "/c", "/b"), O(Kind.Remount, "/"), O(Kind.List, "/a"), O(Kind.Read, "/c"),
        ]));
    }

    private static async Task<bool> Run(Op[] ops)
    {
        using var scratch = new Ext2Scratch();
        await scratch.MakeAsync(24L << 20, 1024);
        var fs = scratch.Mount();
        var model = new Model();
        var log = new List<string>();
        for (int i = 0; i < ops.Length; i++)
        {
            Op op = ops[i];
            var (path, path2) = Choose(op, model);
            log.Add(Describe(op, path, path2));
            string? mismatch = Apply(ref fs, scratch, model, op, path, path2);
            if (mismatch is not null)
                throw new Xunit.Sdk.XunitException($"step {i}: {mismatch}\nsequence:\n  {string.Join("\n  ", log)}");
        }
        // The whole tree, then e2fsck and debugfs.
        string? diff = CompareTree(fs, model, "/", model.Root);
        if (diff is not null) throw new Xunit.Sdk.XunitException($"final tree: {diff}\nsequence:\n  {string.Join("\n  ", log)}");
        Assert.Equal(0, fs.Unmount());
        Assert.Equal(0, fs.CorruptionsFound);
        var check = await E2fsprogs.CheckAsync(scratch.Image);
        if (check.ExitCode != 0) throw new Xunit.Sdk.XunitException($"e2fsck -fn exit {check.ExitCode}:\n{check.Output}\nsequence:\n  {string.Join("\n  ", log)}");
        foreach (var (path, node) in model.Files("/", model.Root))
        {
            if (node.Size > 1 << 20) continue;   // debugfs cat of a 64 MiB sparse file is slow; our reader compared it above
            byte[] seen = await E2fsprogs.CatAsync(scratch.Image, path);
            if (!seen.AsSpan().SequenceEqual(node.Contents())) throw new Xunit.Sdk.XunitException($"debugfs reads other bytes in {path}");
        }
        return true;
    }

    private static byte[] Data(Op op)
    {
        var data = new byte[op.Length];
        new Random(op.Seed).NextBytes(data);
        return data;
    }

    /// <summary>Applies op to both; returns null when they agree, else what differs.</summary>
    private static string? Apply(ref Ext2FileSystem fs, Ext2Scratch scratch, Model model, Op op, string path, string path2)
    {
        int expected, actual;
        switch (op.Kind)
        {
            case Kind.Create: expected = model.Create(path, dir: false); actual = fs.CreateFile(path); break;
            case Kind.Mkdir: expected = model.Create(path, dir: true); actual = fs.Mkdir(path); break;
            case Kind.Write:
            {
                byte[] data = Data(op);
                expected = model.Write(path, op.Offset, data);
                actual = fs.WriteAt(path, (ulong)op.Offset, data);
                break;
            }
            case Kind.Truncate: expected = model.Truncate(path, op.Offset); actual = fs.Truncate(path, (ulong)op.Offset); break;
            case Kind.Unlink: expected = model.Unlink(path); actual = fs.Unlink(path); break;
            case Kind.Rmdir: expected = model.Rmdir(path); actual = fs.Rmdir(path); break;
            case Kind.Rename: expected = model.Rename(path, path2); actual = fs.Rename(path, path2); break;
            case Kind.Link: expected = model.Link(path, path2); actual = fs.HardLink(path, path2); break;
            case Kind.Remount:
                if (fs.Unmount() != 0) return "unmount failed";
                fs = scratch.Mount();
                return null;
            default:
            {
                expected = model.Find(path, out Model.Node? node);
                actual = fs.Resolve(path, out uint ino);
                if (expected != actual) return $"lookup: model {expected}, ext2 {actual}";
                if (expected != 0) return null;
                return op.Kind switch
                {
                    Kind.Read => node!.IsDirectory ? null : CompareFile(fs, ino, node),
                    Kind.Stat => CompareStatus(fs, ino, node!),
                    _ => node!.IsDirectory ? CompareTree(fs, model, path, node, recurse: false) : null,
                };
            }
        }
        return expected == actual ? null : $"model {expected}, ext2 {actual}";
    }

    private static string? CompareStatus(Ext2FileSystem fs, uint ino, Model.Node node)
    {
        if (fs.GetStatus(ino, out FileStatus st) != 0) return "stat failed";
        if ((st.Mode & 0xF000) != (node.IsDirectory ? 0x4000u : 0x8000u)) return $"type {st.Mode:x}";
        if (st.Links != node.Links) return $"links {st.Links}, model {node.Links}";
        if (!node.IsDirectory && st.Size != (ulong)node.Size) return $"size {st.Size}, model {node.Size}";
        return null;
    }

    private static string? CompareFile(Ext2FileSystem fs, uint ino, Model.Node node)
    {
        string? status = CompareStatus(fs, ino, node);
        if (status is not null) return status;
        // Every page the model holds data in, and the first and last 64 KiB (holes read as zeros).
        var ranges = node.Pages.Keys.Select(p => (p * Model.PageSize, Model.PageSize)).ToList();
        ranges.Add((0, 65536));
        ranges.Add((Math.Max(0, node.Size - 65536), 65536));
        foreach (var (start, length) in ranges)
        {
            if (start >= node.Size) continue;
            int n = (int)Math.Min(length, node.Size - start);
            var buffer = new byte[n];
            int r = fs.Read(ino, (ulong)start, buffer);
            if (r != n) return $"read at {start}: {r}, expected {n}";
            if (!buffer.AsSpan().SequenceEqual(node.Read(start, n))) return $"bytes differ in [{start}, {start + n})";
        }
        return null;
    }

    private static string? CompareTree(Ext2FileSystem fs, Model model, string path, Model.Node dir, bool recurse = true)
    {
        var entries = fs.List(path).Where(e => e.Name is not "." and not ".." and not "lost+found").ToList();
        var names = entries.Select(e => e.Name).Order(StringComparer.Ordinal).ToList();
        var expectedNames = dir.Children.Keys.Order(StringComparer.Ordinal).ToList();
        if (!names.SequenceEqual(expectedNames)) return $"{path} lists [{string.Join(",", names)}], model [{string.Join(",", expectedNames)}]";
        foreach (var e in entries)
        {
            var child = dir.Children[e.Name];
            string childPath = path == "/" ? "/" + e.Name : path + "/" + e.Name;
            if (e.Type != (child.IsDirectory ? 4 : 8)) return $"{childPath} has type {e.Type}";
            string? diff = child.IsDirectory ? (recurse ? CompareTree(fs, model, childPath, child) : CompareStatus(fs, (uint)e.Ino, child))
                : CompareFile(fs, (uint)e.Ino, child);
            if (diff is not null) return $"{childPath}: {diff}";
        }
        return null;
    }

    /// <summary>The in-memory file system the ext2 implementation is compared with: Linux semantics, no disk.</summary>
    private sealed class Model
    {
        public const long PageSize = 4096;

        public sealed class Node(bool isDirectory)
        {
            public readonly bool IsDirectory = isDirectory;
            public readonly SortedDictionary<string, Node> Children = new(StringComparer.Ordinal);
            public readonly SortedDictionary<long, byte[]> Pages = [];   // sparse contents
            public long Size;
            public int Names = 1;                                          // directory entries naming it
            public uint Links => IsDirectory ? (uint)(2 + Children.Values.Count(c => c.IsDirectory)) : (uint)Names;

            public byte[] Read(long start, int count)
            {
                var result = new byte[count];
                for (int i = 0; i < count;)
                {
                    long at = start + i;
                    int inPage = (int)(at % PageSize), n = (int)Math.Min(PageSize - inPage, count - i);
                    if (Pages.TryGetValue(at / PageSize, out var page)) Array.Copy(page, inPage, result, i, n);
                    i += n;
                }
                return result;
            }

            public byte[] Contents() => Read(0, (int)Size);

            public void Write(long start, byte[] data)
            {
                for (int i = 0; i < data.Length;)
                {
                    long at = start + i;
                    int inPage = (int)(at % PageSize), n = (int)Math.Min(PageSize - inPage, data.Length - i);
                    if (!Pages.TryGetValue(at / PageSize, out var page)) Pages[at / PageSize] = page = new byte[PageSize];
                    Array.Copy(data, i, page, inPage, n);
                    i += n;
                }
                Size = Math.Max(Size, start + data.Length);
            }

            public void Truncate(long size)
            {
                foreach (var p in Pages.Keys.Where(p => p * PageSize >= size).ToList()) Pages.Remove(p);
                if (size % PageSize != 0 && Pages.TryGetValue(size / PageSize, out var last)) Array.Clear(last, (int)(size % PageSize), (int)(PageSize - size % PageSize));
                Size = size;
            }
        }

        public readonly Node Root = new(true);

        private static string[] Split(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries);

        /// <summary>The directory holding the last component: ENOENT / ENOTDIR on the way.</summary>
        private int Parent(string path, out Node? parent, out string name)
        {
            var parts = Split(path);
            parent = null;
            name = parts.Length > 0 ? parts[^1] : "";
            Node current = Root;
            for (int i = 0; i < parts.Length - 1; i++)
            {
                if (!current.Children.TryGetValue(parts[i], out var next)) return Errno.ENOENT;
                if (!next.IsDirectory) return Errno.ENOTDIR;
                current = next;
            }
            parent = current;
            return 0;
        }

        public int Find(string path, out Node? node)
        {
            node = Root;
            if (Split(path).Length == 0) return 0;
            node = null;
            int r = Parent(path, out var parent, out string name);
            if (r != 0) return r;
            return parent!.Children.TryGetValue(name, out node) ? 0 : Errno.ENOENT;
        }

        public int Create(string path, bool dir)
        {
            int r = Parent(path, out var parent, out string name);
            if (r != 0) return r;
            if (parent!.Children.ContainsKey(name)) return Errno.EEXIST;
            parent.Children[name] = new Node(dir);
            return 0;
        }

        public int Write(string path, long offset, byte[] data)
        {
            int r = Find(path, out var node);
            if (r != 0) return r;
            if (node!.IsDirectory) return Errno.EISDIR;
            node.Write(offset, data);
            return data.Length;
        }

        public int Truncate(string path, long size)
        {
            int r = Find(path, out var node);
            if (r != 0) return r;
            if (node!.IsDirectory) return Errno.EISDIR;
            node.Truncate(size);
            return 0;
        }

        public int Unlink(string path)
        {
            int r = Parent(path, out var parent, out string name);
            if (r != 0) return r;
            if (!parent!.Children.TryGetValue(name, out var node)) return Errno.ENOENT;
            if (node.IsDirectory) return Errno.EISDIR;
            parent.Children.Remove(name);
            node.Names--;
            return 0;
        }

        public int Rmdir(string path)
        {
            int r = Parent(path, out var parent, out string name);
            if (r != 0) return r;
            if (!parent!.Children.TryGetValue(name, out var node)) return Errno.ENOENT;
            if (!node.IsDirectory) return Errno.ENOTDIR;
            if (node.Children.Count > 0) return Errno.ENOTEMPTY;
            parent.Children.Remove(name);
            return 0;
        }

        public int Link(string existing, string path)
        {
            int r = Find(existing, out var node);
            if (r != 0) return r;
            r = Parent(path, out var parent, out string name);
            if (r != 0) return r;
            if (parent!.Children.ContainsKey(name)) return Errno.EEXIST;
            if (node!.IsDirectory) return Errno.EPERM;
            parent.Children[name] = node;
            node.Names++;
            return 0;
        }

        public int Rename(string from, string to)
        {
            int r = Parent(from, out var oldParent, out string oldName);
            if (r != 0) return r;
            r = Parent(to, out var newParent, out string newName);
            if (r != 0) return r;
            if (!oldParent!.Children.TryGetValue(oldName, out var source)) return Errno.ENOENT;
            newParent!.Children.TryGetValue(newName, out var replaced);
            if (replaced == source) return 0;
            if (source.IsDirectory && oldParent != newParent && IsWithin(source, newParent)) return Errno.EINVAL;
            if (replaced is not null)
            {
                if (source.IsDirectory && !replaced.IsDirectory) return Errno.ENOTDIR;
                if (source.IsDirectory && replaced.Children.Count > 0) return Errno.ENOTEMPTY;
                if (!source.IsDirectory && replaced.IsDirectory) return Errno.EISDIR;
                replaced.Names--;
            }
            oldParent.Children.Remove(oldName);
            newParent.Children[newName] = source;
            return 0;
        }

        /// <summary>Whether dir is ancestor or lies under it.</summary>
        private bool IsWithin(Node ancestor, Node dir)
        {
            if (ancestor == dir) return true;
            return ancestor.Children.Values.Any(c => c.IsDirectory && IsWithin(c, dir));
        }

        /// <summary>Every name in the tree, depth first, in a stable order.</summary>
        public List<(string Path, Node Node)> Paths()
        {
            var all = new List<(string, Node)>();
            void Walk(string path, Node dir)
            {
                foreach (var (name, child) in dir.Children)
                {
                    string childPath = path == "/" ? "/" + name : path + "/" + name;
                    all.Add((childPath, child));
                    if (child.IsDirectory) Walk(childPath, child);
                }
            }
            Walk("/", Root);
            return all;
        }

        public IEnumerable<(string Path, Node Node)> Files(string path, Node dir)
        {
            foreach (var (name, child) in dir.Children)
            {
                string childPath = path == "/" ? "/" + name : path + "/" + name;
                if (child.IsDirectory) foreach (var f in Files(childPath, child)) yield return f;
                else yield return (childPath, child);
            }
        }
    }
}
