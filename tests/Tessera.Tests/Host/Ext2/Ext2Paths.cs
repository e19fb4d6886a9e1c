using System.Buffers.Binary;
using System.Text;
using Tessera.Storage;
using Tessera.Storage.Ext2;
using Xunit;

namespace Tessera.Tests.Host.Ext2;

/// <summary>
/// Path-based operations over Ext2FileSystem's (directory inode, name) API, the way the file
/// RPC server will use it: LookupParent, then the operation. Results are 0 / counts or
/// negative errno values, exactly as the file system returns them.
/// </summary>
public static class Ext2Paths
{
    public static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    public static int Resolve(this Ext2FileSystem fs, string path, out uint ino, bool follow = true) =>
        fs.Lookup(Ext2FileSystem.RootInode, Bytes(path), follow, out ino);

    public static uint Ino(this Ext2FileSystem fs, string path, bool follow = true)
    {
        int r = fs.Resolve(path, out uint ino, follow);
        Assert.True(r == 0, $"lookup {path}: {r}");
        return ino;
    }

    private delegate int NameOperation(uint dir, ReadOnlySpan<byte> name);

    private static int OnParent(Ext2FileSystem fs, string path, NameOperation op)
    {
        byte[] p = Bytes(path);
        int r = fs.LookupParent(Ext2FileSystem.RootInode, p, out uint dir, out int start, out int length, out _);
        return r < 0 ? r : op(dir, p.AsSpan(start, length));
    }

    public static int CreateFile(this Ext2FileSystem fs, string path, uint mode = 0x1A4)
    {
        return OnParent(fs, path, (dir, name) => fs.Create(dir, name, mode, 0, 0, out _));
    }

    public static int Mkdir(this Ext2FileSystem fs, string path, uint mode = 0x1ED) =>
        OnParent(fs, path, (dir, name) => fs.MakeDirectory(dir, name, mode, 0, 0, out _));

    public static int Symlink(this Ext2FileSystem fs, string target, string path) =>
        OnParent(fs, path, (dir, name) => fs.MakeSymlink(dir, name, Bytes(target), 0, 0, out _));

    public static int Unlink(this Ext2FileSystem fs, string path) => OnParent(fs, path, fs.Unlink);

    public static int Rmdir(this Ext2FileSystem fs, string path) => OnParent(fs, path, fs.RemoveDirectory);

    public static int HardLink(this Ext2FileSystem fs, string existing, string path)
    {
        int r = fs.Resolve(existing, out uint target, follow: false);
        return r < 0 ? r : OnParent(fs, path, (dir, name) => fs.Link(dir, name, target));
    }

    public static int Rename(this Ext2FileSystem fs, string from, string to)
    {
        byte[] a = Bytes(from), b = Bytes(to);
        int r = fs.LookupParent(Ext2FileSystem.RootInode, a, out uint dirA, out int sa, out int la, out _);
        if (r < 0) return r;
        r = fs.LookupParent(Ext2FileSystem.RootInode, b, out uint dirB, out int sb, out int lb, out _);
        if (r < 0) return r;
        return fs.Rename(dirA, a.AsSpan(sa, la), dirB, b.AsSpan(sb, lb));
    }

    public static int WriteAt(this Ext2FileSystem fs, string path, ulong offset, byte[] data)
    {
        int r = fs.Resolve(path, out uint ino);
        return r < 0 ? r : fs.Write(ino, offset, data);
    }

    /// <summary>Creates (or truncates) path and writes data into it; asserts success.</summary>
    public static uint WriteFile(this Ext2FileSystem fs, string path, byte[] data)
    {
        if (fs.Resolve(path, out uint ino) == Errno.ENOENT)
        {
            Assert.Equal(0, fs.CreateFile(path));
            ino = fs.Ino(path);
        }
        else Assert.Equal(0, fs.Truncate(ino, 0));
        if (data.Length > 0) Assert.Equal(data.Length, fs.Write(ino, 0, data));
        return ino;
    }

    public static int Truncate(this Ext2FileSystem fs, string path, ulong size)
    {
        int r = fs.Resolve(path, out uint ino);
        return r < 0 ? r : fs.Truncate(ino, size);
    }

    public static FileStatus Stat(this Ext2FileSystem fs, string path, bool follow = true)
    {
        Assert.Equal(0, fs.GetStatus(fs.Ino(path, follow), out FileStatus st));
        return st;
    }

    /// <summary>The whole file, read in chunks of `chunk` bytes.</summary>
    public static byte[] ReadAll(this Ext2FileSystem fs, string path, int chunk = 1 << 20)
    {
        uint ino = fs.Ino(path);
        Assert.Equal(0, fs.GetStatus(ino, out FileStatus st));
        var result = new byte[st.Size];
        ulong done = 0;
        while (done < st.Size)
        {
            int want = (int)Math.Min((ulong)chunk, st.Size - done);
            int n = fs.Read(ino, done, result.AsSpan((int)done, want));
            Assert.True(n > 0, $"read {path} at {done}: {n}");
            done += (ulong)n;
        }
        return result;
    }

    public static string ReadLinkText(this Ext2FileSystem fs, string path)
    {
        var buffer = new byte[4096];
        int n = fs.ReadLink(fs.Ino(path, follow: false), buffer);
        Assert.True(n >= 0, $"readlink {path}: {n}");
        return Encoding.UTF8.GetString(buffer, 0, n);
    }

    public sealed record Entry(string Name, ulong Ino, byte Type, long NextOffset);

    /// <summary>Every entry of directory path (including "." and ".."), by getdents64 records.</summary>
    public static List<Entry> List(this Ext2FileSystem fs, string path, int bufferSize = 4096)
    {
        uint ino = fs.Ino(path);
        var entries = new List<Entry>();
        var buffer = new byte[bufferSize];
        ulong position = 0;
        while (true)
        {
            int n = fs.ReadDirectory(ino, position, buffer, out ulong next);
            Assert.True(n >= 0, $"getdents {path}: {n}");
            if (n == 0) break;
            entries.AddRange(ParseDirents(buffer.AsSpan(0, n)));
            position = next;
        }
        return entries;
    }

    public static List<Entry> ParseDirents(ReadOnlySpan<byte> records)
    {
        var list = new List<Entry>();
        int at = 0;
        while (at < records.Length)
        {
            ulong ino = BinaryPrimitives.ReadUInt64LittleEndian(records[at..]);
            long off = BinaryPrimitives.ReadInt64LittleEndian(records[(at + 8)..]);
            int reclen = BinaryPrimitives.ReadUInt16LittleEndian(records[(at + 16)..]);
            byte type = records[at + 18];
            var name = records.Slice(at + 19, reclen - 19);
            int nul = name.IndexOf((byte)0);
            Assert.True(nul >= 0 && reclen % 8 == 0, "malformed linux_dirent64");
            list.Add(new Entry(Encoding.UTF8.GetString(name[..nul]), ino, type, off));
            at += reclen;
        }
        return list;
    }
}
