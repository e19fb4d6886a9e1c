using System.Text;
using Tessera.Storage;
using Tessera.Storage.Ext2;
using Xunit;

namespace Tessera.Tests.Host.Ext2;

/// <summary>
/// Reading images made by mke2fs -d from a folder built by the test: every file back byte for
/// byte (direct, indirect, doubly- and triply-indirect blocks, sparse holes), directories
/// (getdents64), symlinks (fast and slow), hard links and stat fields, with 1 KiB and 4 KiB
/// blocks.
/// </summary>
public sealed class Ext2ReadTests
{
    /// <summary>Where the triply-indirect range starts, in bytes: (12 + p + p²) blocks, p = blockSize / 4.</summary>
    public static long TripleIndirectStart(int blockSize)
    {
        long p = blockSize / 4;
        return (12 + p + p * p) * blockSize;
    }

    public static byte[] RandomBytes(int seed, int length)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>A sparse file: size bytes, with data only in the given (offset, bytes) pieces.</summary>
    internal static void WriteSparse(string path, long size, params (long Offset, byte[] Data)[] pieces)
    {
        using var f = new FileStream(path, FileMode.Create, FileAccess.Write);
        f.SetLength(size);
        foreach (var (offset, data) in pieces)
        {
            f.Position = offset;
            f.Write(data);
        }
    }

    [Theory]
    [InlineData(1024)]
    [InlineData(4096)]
    public async Task EveryFileReadsBackAsMke2fsWroteIt(int blockSize)
    {
        using var scratch = new Ext2Scratch();
        string src = scratch.Source;
        long p = blockSize / 4;
        var files = new Dictionary<string, byte[]>
        {
            ["empty.txt"] = [],
            ["one.txt"] = "x"u8.ToArray(),
            ["small.bin"] = RandomBytes(1, 5000),
            ["twelve.bin"] = RandomBytes(2, 12 * blockSize),              // exactly the direct blocks
            ["thirteen.bin"] = RandomBytes(3, 12 * blockSize + 1),        // first indirect block
            ["double.bin"] = RandomBytes(4, (int)((12 + p + 40) * blockSize + 123)), // into the doubly-indirect range
            ["dir/sub/deep.txt"] = "deep inside\n"u8.ToArray(),
        };
        for (int i = 0; i < 300; i++) files[$"many/file-with-a-long-name-{i:D4}.txt"] = Encoding.ASCII.GetBytes($"file {i}\n");
        foreach (var (name, data) in files)
        {
            string path = Path.Combine(src, name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, data);
        }
        Directory.CreateDirectory(Path.Combine(src, "emptydir"));
        File.CreateSymbolicLink(Path.Combine(src, "fast-link"), "small.bin");
        string longTarget = "dir/" + string.Concat(Enumerable.Repeat("./", 40)) + "sub/deep.txt";   // > 60 bytes: a slow symlink
        File.CreateSymbolicLink(Path.Combine(src, "slow-link"), longTarget);
        Assert.Equal(0, Link(Path.Combine(src, "small.bin"), Path.Combine(src, "hard.bin")));

        // A sparse file reaching into the triply-indirect range, with data in each range.
        long triple = TripleIndirectStart(blockSize);
        var pieces = new (long Offset, byte[] Data)[]
        {
            (0, RandomBytes(5, 100)),
            (13 * blockSize + 7, RandomBytes(6, 3 * blockSize)),
            ((12 + p + 3 * p) * blockSize - 5, RandomBytes(7, 10)),       // straddles two indirect blocks
            (triple + 5 * blockSize + 17, RandomBytes(8, 2 * blockSize)),
        };
        long sparseSize = triple + 9 * blockSize + 3;
        WriteSparse(Path.Combine(src, "sparse.bin"), sparseSize, pieces);

        await scratch.MakeAsync(48L << 20, blockSize, populate: true);
        var fs = scratch.Mount(readOnly: true);

        foreach (var (name, data) in files)
        {
            byte[] read = fs.ReadAll("/" + name, chunk: 7777);   // an odd chunk size crosses block edges
            Assert.True(data.AsSpan().SequenceEqual(read), $"{name} differs");
        }
        Assert.Equal(files["small.bin"], fs.ReadAll("/hard.bin"));
        Assert.Equal(files["small.bin"], fs.ReadAll("/fast-link"));
        Assert.Equal("small.bin", fs.ReadLinkText("/fast-link"));
        Assert.Equal(longTarget, fs.ReadLinkText("/slow-link"));
        Assert.Equal(files["dir/sub/deep.txt"], fs.ReadAll("/slow-link"));

        // The sparse file: its size, its pieces, zeros in the holes between them.
        uint sparse = fs.Ino("/sparse.bin");
        Assert.Equal(0, fs.GetStatus(sparse, out FileStatus sparseStatus));
        Assert.Equal((ulong)sparseSize, sparseStatus.Size);
        foreach (var (offset, data) in pieces)
        {
            long before = Math.Min(32, offset);
            var buffer = new byte[data.Length + 64];
            Assert.Equal(buffer.Length, fs.Read(sparse, (ulong)(offset - before), buffer.AsSpan()));
            Assert.True(buffer.AsSpan((int)before, data.Length).SequenceEqual(data));
        }
        foreach (long hole in new[] { 5000L, 40L * blockSize, (12 + p + 10 * p) * blockSize, triple - 100, triple + 1, sparseSize - 3 })
        {
            var buffer = new byte[3];
            Assert.Equal(3, fs.Read(sparse, (ulong)hole, buffer));
            Assert.Equal(new byte[3], buffer);
        }
        // Reading past the end gives 0 bytes; reading across it gives what is there.
        Assert.Equal(0, fs.Read(sparse, (ulong)sparseSize, new byte[10]));
        Assert.Equal(3, fs.Read(sparse, (ulong)sparseSize - 3, new byte[10]));
        // Only the pieces (and the indirect blocks above them) take space.
        Assert.True(sparseStatus.Blocks < 64UL * (ulong)blockSize / 512, $"sparse file owns {sparseStatus.Blocks} sectors");

        // Directories: the same names and types as the source folder, "." and ".." included.
        AssertSameTree(fs, src, "/");

        // stat: modes, links, sizes.
        var small = fs.Stat("/small.bin");
        Assert.Equal(2u, small.Links);
        Assert.Equal(0x8000u | UnixMode(Path.Combine(src, "small.bin")), small.Mode);
        Assert.Equal(5000ul, small.Size);
        Assert.Equal((ulong)((5000 + blockSize - 1) / blockSize * blockSize / 512), small.Blocks);
        Assert.Equal((uint)blockSize, small.BlockSize);
        var dir = fs.Stat("/dir");
        Assert.Equal(0x4000u, dir.Mode & 0xF000);
        Assert.Equal(3u, dir.Links);                                  // name, ".", sub's ".."
        Assert.Equal(0xA000u, fs.Stat("/fast-link", follow: false).Mode & 0xF000);
        Assert.Equal((ulong)longTarget.Length, fs.Stat("/slow-link", follow: false).Size);
        Assert.Equal(0, fs.CorruptionsFound);
    }

#pragma warning disable CA1416 // the tests run on Linux only (QEMU, e2fsprogs)
    private static uint UnixMode(string path) => (uint)File.GetUnixFileMode(path);
#pragma warning restore CA1416

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true, EntryPoint = "link")]
    private static extern int Link(string oldPath, string newPath);

    /// <summary>Recursively compares a directory of the image with a host folder.</summary>
    internal static void AssertSameTree(Ext2FileSystem fs, string hostFolder, string path)
    {
        var entries = fs.List(path);
        Assert.Contains(entries, e => e.Name == "." && e.Type == 4);
        Assert.Contains(entries, e => e.Name == ".." && e.Type == 4);
        var names = entries.Where(e => e.Name != "." && e.Name != ".." && e.Name != "lost+found").ToList();
        var expected = Directory.EnumerateFileSystemEntries(hostFolder).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, names.Select(e => e.Name).Order(StringComparer.Ordinal).ToList());
        foreach (var e in names)
        {
            string host = Path.Combine(hostFolder, e.Name);
            var info = new FileInfo(host);
            string child = path == "/" ? "/" + e.Name : path + "/" + e.Name;
            Assert.Equal(fs.Ino(child, follow: false), e.Ino);
            if (info.LinkTarget is not null) Assert.Equal(10, e.Type);          // DT_LNK
            else if (Directory.Exists(host))
            {
                Assert.Equal(4, e.Type);                                         // DT_DIR
                AssertSameTree(fs, host, child);
            }
            else Assert.Equal(8, e.Type);                                        // DT_REG
        }
    }
}
