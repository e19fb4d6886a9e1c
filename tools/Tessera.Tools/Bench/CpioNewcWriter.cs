using System.Text;

namespace Tessera.Tools.Bench;

/// <summary>
/// Writes a cpio archive in the "newc" (SVR4, no CRC) format, the one the Linux kernel unpacks
/// as an initramfs (Documentation/driver-api/early-userspace/buffer-format.rst). Written here
/// rather than with `cpio -o` because the Linux guest needs a /dev/console device node, and
/// `cpio -o` can only copy nodes that exist on the host, which needs mknod and so root.
///
/// Each member: a 110-byte ASCII header ("070701" and thirteen 8-digit hex fields), the path
/// with its NUL, padding to a multiple of 4, the data, padding to a multiple of 4. The archive
/// ends with a member named "TRAILER!!!".
/// </summary>
public sealed class CpioNewcWriter
{
    // File type bits of st_mode (POSIX <sys/stat.h>).
    public const uint TypeDirectory = 0x4000;      // S_IFDIR
    public const uint TypeRegular = 0x8000;        // S_IFREG
    public const uint TypeCharDevice = 0x2000;     // S_IFCHR

    private const string Magic = "070701";
    private const string Trailer = "TRAILER!!!";

    private readonly MemoryStream _out = new();
    private uint _nextInode = 1;
    private bool _finished;

    public void AddDirectory(string path, uint permissions = 0x1ED /* 0755 */) =>
        AddMember(path, TypeDirectory | permissions, nlink: 2, [], 0, 0);

    public void AddFile(string path, ReadOnlySpan<byte> data, uint permissions = 0x1A4 /* 0644 */) =>
        AddMember(path, TypeRegular | permissions, nlink: 1, data, 0, 0);

    public void AddCharDevice(string path, uint major, uint minor, uint permissions = 0x180 /* 0600 */) =>
        AddMember(path, TypeCharDevice | permissions, nlink: 1, [], major, minor);

    /// <summary>Closes the archive with its trailer and returns it.</summary>
    public byte[] ToArray()
    {
        if (!_finished)
        {
            // The trailer is a member like any other, with inode and mode 0 and nlink 1.
            WriteMember(Trailer, 0, 0, 1, [], 0, 0);
            _finished = true;
        }
        return _out.ToArray();
    }

    private void AddMember(string path, uint mode, uint nlink, ReadOnlySpan<byte> data, uint rdevMajor, uint rdevMinor)
    {
        if (_finished) throw new InvalidOperationException("the archive is already closed");
        // The kernel takes names as given; relative names without "./" are what it expects.
        path = path.TrimStart('/');
        if (path.Length == 0 || path == Trailer) throw new ArgumentException($"bad member name '{path}'", nameof(path));
        WriteMember(path, _nextInode++, mode, nlink, data, rdevMajor, rdevMinor);
    }

    private void WriteMember(string name, uint inode, uint mode, uint nlink, ReadOnlySpan<byte> data, uint rdevMajor, uint rdevMinor)
    {
        byte[] nameBytes = Encoding.UTF8.GetBytes(name + "\0");
        var header = new StringBuilder(110);
        header.Append(Magic);
        foreach (uint field in new uint[]
        {
            inode, mode, 0 /* uid */, 0 /* gid */, nlink, 0 /* mtime: fixed, so the archive is reproducible */,
            (uint)data.Length, 0 /* devmajor */, 0 /* devminor */, rdevMajor, rdevMinor,
            (uint)nameBytes.Length, 0 /* check: only used by the "070702" CRC format */,
        })
            header.Append(field.ToString("X8"));
        _out.Write(Encoding.ASCII.GetBytes(header.ToString()));
        _out.Write(nameBytes);
        Pad();
        _out.Write(data);
        Pad();
    }

    private void Pad()
    {
        while (_out.Length % 4 != 0) _out.WriteByte(0);
    }
}
