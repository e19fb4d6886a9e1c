using System.Runtime.InteropServices;
using System.Text;

namespace Tessera.Tests.Host.Storage;

/// <summary>
/// The host's own file system calls through glibc, returning 0 / a count or a negative errno
/// like the file protocol does: the reference the storage component's answers are compared
/// with (same flags, same struct stat layout: the host is Linux x86-64 too).
/// </summary>
internal static unsafe partial class LinuxFiles
{
    private const string Libc = "libc";

    [LibraryImport(Libc, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open_(string path, int flags, uint mode);
    [LibraryImport(Libc, EntryPoint = "close", SetLastError = true)]
    private static partial int close_(int fd);
    [LibraryImport(Libc, EntryPoint = "pread", SetLastError = true)]
    private static partial nint pread_(int fd, byte* buffer, nuint count, long offset);
    [LibraryImport(Libc, EntryPoint = "pwrite", SetLastError = true)]
    private static partial nint pwrite_(int fd, byte* buffer, nuint count, long offset);
    [LibraryImport(Libc, EntryPoint = "mkdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int mkdir_(string path, uint mode);
    [LibraryImport(Libc, EntryPoint = "rmdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int rmdir_(string path);
    [LibraryImport(Libc, EntryPoint = "unlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int unlink_(string path);
    [LibraryImport(Libc, EntryPoint = "renameat2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int renameat2_(int olddirfd, string oldpath, int newdirfd, string newpath, uint flags);
    [LibraryImport(Libc, EntryPoint = "truncate", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int truncate_(string path, long length);
    [LibraryImport(Libc, EntryPoint = "ftruncate", SetLastError = true)]
    private static partial int ftruncate_(int fd, long length);
    [LibraryImport(Libc, EntryPoint = "symlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int symlink_(string target, string path);
    [LibraryImport(Libc, EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int link_(string oldpath, string newpath);
    [LibraryImport(Libc, EntryPoint = "readlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint readlink_(string path, byte* buffer, nuint size);
    [LibraryImport(Libc, EntryPoint = "access", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int access_(string path, int mode);
    [LibraryImport(Libc, EntryPoint = "fstatat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int fstatat_(int dirfd, string path, byte* buffer, int flags);
    [LibraryImport(Libc, EntryPoint = "fstat", SetLastError = true)]
    private static partial int fstat_(int fd, byte* buffer);
    [LibraryImport(Libc, EntryPoint = "fsync", SetLastError = true)]
    private static partial int fsync_(int fd);

    private const int AT_FDCWD = -100;

    private static int Result(long r) => r < 0 ? -Marshal.GetLastPInvokeError() : (int)r;

    public static int Open(string path, uint flags, uint mode) => Result(open_(path, (int)flags, mode));
    public static int Close(int fd) => Result(close_(fd));

    public static int Pread(int fd, long offset, int count, out byte[] data)
    {
        var buffer = new byte[count];
        nint r;
        fixed (byte* p = buffer) r = pread_(fd, p, (nuint)count, offset);
        int result = Result(r);
        data = result >= 0 ? buffer[..result] : [];
        return result;
    }

    public static int Pwrite(int fd, long offset, byte[] data)
    {
        nint r;
        fixed (byte* p = data) r = pwrite_(fd, p, (nuint)data.Length, offset);
        return Result(r);
    }

    public static int Mkdir(string path, uint mode) => Result(mkdir_(path, mode));
    public static int Rmdir(string path) => Result(rmdir_(path));
    public static int Unlink(string path) => Result(unlink_(path));
    public static int Rename(string from, string to, uint flags) => Result(renameat2_(AT_FDCWD, from, AT_FDCWD, to, flags));
    public static int Truncate(string path, long length) => Result(truncate_(path, length));
    public static int Ftruncate(int fd, long length) => Result(ftruncate_(fd, length));
    public static int Symlink(string target, string path) => Result(symlink_(target, path));
    public static int Link(string from, string to) => Result(link_(from, to));
    public static int Access(string path, uint mode) => Result(access_(path, (int)mode));
    public static int Fsync(int fd) => Result(fsync_(fd));

    public static int Readlink(string path, out string target)
    {
        var buffer = new byte[4096];
        nint r;
        fixed (byte* p = buffer) r = readlink_(path, p, (nuint)buffer.Length);
        int result = Result(r);
        target = result >= 0 ? Encoding.UTF8.GetString(buffer, 0, result) : "";
        return result;
    }

    /// <summary>fstatat into the raw 144-byte struct stat (the layout the file protocol carries).</summary>
    public static int Stat(string path, bool follow, out byte[] stat)
    {
        stat = new byte[144];
        int r;
        fixed (byte* p = stat) r = fstatat_(AT_FDCWD, path, p, follow ? 0 : 0x100);
        return Result(r);
    }

    public static int Fstat(int fd, out byte[] stat)
    {
        stat = new byte[144];
        int r;
        fixed (byte* p = stat) r = fstat_(fd, p);
        return Result(r);
    }

    /// <summary>The process's umask, from /proc/self/status (reading it with umask(2) would change it for a moment).</summary>
    public static uint Umask()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("Umask:")) return Convert.ToUInt32(line[6..].Trim(), 8);
        return 0x12;
    }
}
