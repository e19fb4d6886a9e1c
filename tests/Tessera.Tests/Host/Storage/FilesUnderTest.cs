using System.Security.Cryptography;
using Tessera.Core.Rpc;
using Tessera.Tools.Storage;

namespace Tessera.Tests.Host.Storage;

/// <summary>
/// File operations as a program sees them, each answering with a short text (a count, an
/// errno, a digest of the bytes read, a stat summary) so two implementations can be compared
/// call by call: the host's Linux in a scratch folder, and the storage component through the
/// file protocol. Open files are named by slot (0 .. Slots-1), as a program names descriptors.
/// Paths are absolute from the file system's root ("/a/b").
/// </summary>
public interface IFilesUnderTest
{
    const int Slots = 8;
    string Name { get; }
    int Open(int slot, string path, uint flags, uint mode);
    int Close(int slot);
    string Read(int slot, long offset, int count);
    int Write(int slot, long offset, byte[] data);
    int Mkdir(string path, uint mode);
    int Rmdir(string path);
    int Unlink(string path);
    int Rename(string from, string to, uint flags);
    int Truncate(string path, long length);
    int Ftruncate(int slot, long length);
    int Symlink(string target, string path);
    int Link(string from, string to);
    string Readlink(string path);
    string Stat(string path, bool follow);
    string Fstat(int slot);
    int Access(string path, uint mode);
    int Fsync(int slot);
    string List(string path);
}

internal static class Summaries
{
    public const int EBADF = -9;

    public static string Digest(int count, byte[] data) => count < 0 ? count.ToString() : $"{count} bytes {Convert.ToHexString(SHA256.HashData(data))[..16]}";

    /// <summary>What both sides must agree on in a struct stat: type, permissions, links, and the size of what is not a directory.</summary>
    public static string Stat(LinuxStat s) =>
        $"{(s.IsDirectory ? "dir" : s.IsRegular ? "file" : s.IsSymlink ? "link" : "other")} {Convert.ToString(s.Permissions, 8)} nlink={s.Links}" +
        (s.IsDirectory ? "" : $" size={s.Size}");
}

/// <summary>The host's Linux, rooted at a scratch folder.</summary>
public sealed class HostFiles(string root) : IFilesUnderTest, IDisposable
{
    private readonly int[] _fds = Enumerable.Repeat(-1, IFilesUnderTest.Slots).ToArray();
    public string Name => "host";
    public string Root => root;

    private string P(string path) => path.StartsWith('/') ? root + path : root + "/" + path;
    private int Fd(int slot) => _fds[slot];

    public int Open(int slot, string path, uint flags, uint mode)
    {
        if (_fds[slot] >= 0) Close(slot);
        int fd = LinuxFiles.Open(P(path), flags, mode);
        if (fd < 0) return fd;
        _fds[slot] = fd;
        return 0;
    }

    public int Close(int slot)
    {
        if (_fds[slot] < 0) return Summaries.EBADF;
        int r = LinuxFiles.Close(_fds[slot]);
        _fds[slot] = -1;
        return r;
    }

    public string Read(int slot, long offset, int count)
    {
        if (Fd(slot) < 0) return Summaries.EBADF.ToString();
        int r = LinuxFiles.Pread(Fd(slot), offset, count, out byte[] data);
        return Summaries.Digest(r, data);
    }

    public int Write(int slot, long offset, byte[] data) => Fd(slot) < 0 ? Summaries.EBADF : LinuxFiles.Pwrite(Fd(slot), offset, data);
    public int Mkdir(string path, uint mode) => LinuxFiles.Mkdir(P(path), mode);
    public int Rmdir(string path) => LinuxFiles.Rmdir(P(path));
    public int Unlink(string path) => LinuxFiles.Unlink(P(path));
    public int Rename(string from, string to, uint flags) => LinuxFiles.Rename(P(from), P(to), flags);
    public int Truncate(string path, long length) => LinuxFiles.Truncate(P(path), length);
    public int Ftruncate(int slot, long length) => Fd(slot) < 0 ? Summaries.EBADF : LinuxFiles.Ftruncate(Fd(slot), length);
    public int Symlink(string target, string path) => LinuxFiles.Symlink(target, P(path));
    public int Link(string from, string to) => LinuxFiles.Link(P(from), P(to));
    public int Access(string path, uint mode) => LinuxFiles.Access(P(path), mode);
    public int Fsync(int slot) => Fd(slot) < 0 ? Summaries.EBADF : LinuxFiles.Fsync(Fd(slot));

    public string Readlink(string path)
    {
        int r = LinuxFiles.Readlink(P(path), out string target);
        return r < 0 ? r.ToString() : "-> " + target;
    }

    public string Stat(string path, bool follow)
    {
        int r = LinuxFiles.Stat(P(path), follow, out byte[] raw);
        return r < 0 ? r.ToString() : Summaries.Stat(LinuxStat.Parse(raw));
    }

    public string Fstat(int slot)
    {
        if (Fd(slot) < 0) return Summaries.EBADF.ToString();
        int r = LinuxFiles.Fstat(Fd(slot), out byte[] raw);
        return r < 0 ? r.ToString() : Summaries.Stat(LinuxStat.Parse(raw));
    }

    public string List(string path)
    {
        string full = P(path);
        int r = LinuxFiles.Stat(full, true, out byte[] raw);
        if (r < 0) return r.ToString();
        if (!LinuxStat.Parse(raw).IsDirectory) return (-20).ToString();   // ENOTDIR, as open(O_DIRECTORY) says
        var names = new DirectoryInfo(full).EnumerateFileSystemInfos()
            .Select(i => i.Name + (i.LinkTarget != null ? "@" : i is DirectoryInfo ? "/" : ""))
            .Order(StringComparer.Ordinal);
        return string.Join(" ", names);
    }

    public void Dispose()
    {
        for (int i = 0; i < _fds.Length; i++) if (_fds[i] >= 0) Close(i);
    }
}

/// <summary>The storage component through the file protocol, doing what a processor does (umask, write and read loops).</summary>
public sealed class TesseraFiles(FileClient client, uint umask) : IFilesUnderTest
{
    private readonly uint?[] _handles = new uint?[IFilesUnderTest.Slots];
    public string Name => "tessera";
    public FileClient Client => client;

    public int Open(int slot, string path, uint flags, uint mode)
    {
        if (_handles[slot] is not null) Close(slot);
        int r = client.Open(path, flags, mode & ~umask, out uint handle);
        if (r < 0) return r;
        _handles[slot] = handle;
        return 0;
    }

    public int Close(int slot)
    {
        if (_handles[slot] is not uint h) return Summaries.EBADF;
        _handles[slot] = null;
        return client.Close(h);
    }

    public string Read(int slot, long offset, int count)
    {
        if (_handles[slot] is not uint h) return Summaries.EBADF.ToString();
        var all = new MemoryStream();
        while (all.Length < count)
        {
            int n = (int)Math.Min(FileProtocol.MaxRead, count - all.Length);
            int r = client.Pread(h, (ulong)(offset + all.Length), n, out byte[] data);
            if (r < 0)
            {
                if (all.Length > 0) break;
                return r.ToString();
            }
            if (r == 0) break;
            all.Write(data);
        }
        return Summaries.Digest((int)all.Length, all.ToArray());
    }

    public int Write(int slot, long offset, byte[] data)
    {
        if (_handles[slot] is not uint h) return Summaries.EBADF;
        if (data.Length == 0) return client.Pwrite(h, (ulong)offset, [], out _);
        long done = client.WriteAll(h, (ulong)offset, data);
        return (int)done;
    }

    public int Mkdir(string path, uint mode) => client.Mkdir(path, mode & ~umask);
    public int Rmdir(string path) => client.Rmdir(path);
    public int Unlink(string path) => client.Unlink(path);
    public int Rename(string from, string to, uint flags) => client.Rename(from, to, flags);
    public int Truncate(string path, long length) => client.Truncate(path, (ulong)length);
    public int Ftruncate(int slot, long length) => _handles[slot] is uint h ? client.Ftruncate(h, (ulong)length) : Summaries.EBADF;
    public int Symlink(string target, string path) => client.Symlink(target, path);
    public int Link(string from, string to) => client.Link(from, to);
    public int Access(string path, uint mode) => client.Access(path, mode);
    public int Fsync(int slot) => _handles[slot] is uint h ? client.Fsync(h) : Summaries.EBADF;

    public string Readlink(string path)
    {
        int r = client.Readlink(path, out string target);
        return r < 0 ? r.ToString() : "-> " + target;
    }

    public string Stat(string path, bool follow)
    {
        int r = client.Stat(path, out LinuxStat? s, follow);
        return r < 0 ? r.ToString() : Summaries.Stat(s!);
    }

    public string Fstat(int slot)
    {
        if (_handles[slot] is not uint h) return Summaries.EBADF.ToString();
        int r = client.Fstat(h, out LinuxStat? s);
        return r < 0 ? r.ToString() : Summaries.Stat(s!);
    }

    public string List(string path)
    {
        var entries = client.List(path, out int error);
        if (entries is null) return error.ToString();
        return string.Join(" ", entries.Select(e => e.Name + (e.Type == 10 ? "@" : e.Type == 4 ? "/" : "")).Order(StringComparer.Ordinal));
    }

    /// <summary>Closes every slot still open (a program's exit).</summary>
    public void CloseAll()
    {
        for (int i = 0; i < _handles.Length; i++) if (_handles[i] is not null) Close(i);
    }
}
