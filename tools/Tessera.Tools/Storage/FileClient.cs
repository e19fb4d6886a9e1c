using System.Buffers.Binary;
using System.Text;
using Tessera.Core.Rpc;

namespace Tessera.Tools.Storage;

/// <summary>How a FileClient reaches a storage component: one request, one reply.</summary>
public abstract class FileTransport
{
    /// <summary>Returns 0 and the reply, or the negative errno of an error reply (or of the transport).</summary>
    public abstract int Call(ushort opcode, ReadOnlySpan<byte> request, Span<byte> reply, out int replyLength);
}

/// <summary>Over the RPC fabric: the host as a node of a rig (an RpcEndpoint on a MulticastLink).</summary>
public sealed class RpcFileTransport(RpcEndpoint endpoint, ushort storageNode) : FileTransport
{
    public override int Call(ushort opcode, ReadOnlySpan<byte> request, Span<byte> reply, out int replyLength) =>
        endpoint.Call(storageNode, opcode, request, reply, out replyLength);
}

/// <summary>struct stat as the file protocol carries it (Linux x86-64 layout, FileProtocol.cs).</summary>
public sealed record LinuxStat(ulong Device, ulong Inode, ulong Links, uint Mode, uint Uid, uint Gid, ulong RDevice,
    long Size, long BlockSize, long Blocks, long AccessTime, long ModifyTime, long ChangeTime)
{
    public const uint TypeMask = 0xF000, Directory = 0x4000, Regular = 0x8000, Symlink = 0xA000;
    public bool IsDirectory => (Mode & TypeMask) == Directory;
    public bool IsRegular => (Mode & TypeMask) == Regular;
    public bool IsSymlink => (Mode & TypeMask) == Symlink;
    public uint Permissions => Mode & 0xFFF;

    public static LinuxStat Parse(ReadOnlySpan<byte> b)
    {
        if (b.Length != FileProtocol.StatSize) throw new ArgumentException($"struct stat is {FileProtocol.StatSize} bytes, got {b.Length}");
        byte[] bytes = b.ToArray();
        long L(int o) => BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(o));
        uint U(int o) => BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(o));
        return new((ulong)L(0), (ulong)L(8), (ulong)L(16), U(24), U(28), U(32), (ulong)L(40), L(48), L(56), L(64), L(72), L(88), L(104));
    }
}

/// <summary>struct statfs as the file protocol carries it (Linux x86-64 layout).</summary>
public sealed record LinuxStatfs(long Type, long BlockSize, ulong Blocks, ulong FreeBlocks, ulong AvailableBlocks,
    ulong Files, ulong FreeFiles, ulong FileSystemId, long NameLength, long FragmentSize, long Flags)
{
    public static LinuxStatfs Parse(ReadOnlySpan<byte> b)
    {
        if (b.Length != FileProtocol.StatfsSize) throw new ArgumentException($"struct statfs is {FileProtocol.StatfsSize} bytes, got {b.Length}");
        byte[] bytes = b.ToArray();
        long L(int o) => BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(o));
        return new(L(0), L(8), (ulong)L(16), (ulong)L(24), (ulong)L(32), (ulong)L(40), (ulong)L(48), (ulong)L(56), L(64), L(72), L(80));
    }
}

/// <summary>One linux_dirent64 record.</summary>
public sealed record DirectoryEntry(ulong Inode, long Offset, byte Type, string Name);

/// <summary>
/// The file protocol (kernel/Core/Rpc/FileProtocol.cs) from the host's side: what a processor
/// does, as calls that return 0 (or a count) or a negative Linux errno. The rig tests and the
/// host tests drive the storage component through it.
/// </summary>
public sealed class FileClient(FileTransport transport)
{
    public const uint Root = FileProtocol.RootBase;
    private readonly byte[] _request = new byte[RpcMessage.MaxPayload];
    private readonly byte[] _reply = new byte[RpcMessage.MaxPayload];

    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>A path request with raw names (bad-input tests send names as bytes).</summary>
    public int PathCall(ushort op, uint baseHandle, uint arg, ulong value, ReadOnlySpan<byte> name1, ReadOnlySpan<byte> name2, out ReadOnlySpan<byte> reply)
    {
        reply = default;
        int length = FileProtocol.WritePathRequest(_request, baseHandle, arg, value, name1, name2);
        if (length < 0) return RpcStatus.EMSGSIZE;
        int r = transport.Call(op, _request.AsSpan(0, length), _reply, out int replyLength);
        if (r == 0) reply = _reply.AsSpan(0, replyLength);
        return r;
    }

    public int HandleCall(ushort op, uint handle, uint arg, ulong value, ReadOnlySpan<byte> data, out ReadOnlySpan<byte> reply)
    {
        reply = default;
        int length = FileProtocol.WriteHandleRequest(_request, handle, arg, value, data);
        if (length < 0) return RpcStatus.EMSGSIZE;
        int r = transport.Call(op, _request.AsSpan(0, length), _reply, out int replyLength);
        if (r == 0) reply = _reply.AsSpan(0, replyLength);
        return r;
    }

    /// <summary>Sends bytes as they are (malformed-request tests).</summary>
    public int RawCall(ushort op, ReadOnlySpan<byte> request, out byte[] reply)
    {
        int r = transport.Call(op, request, _reply, out int replyLength);
        reply = r == 0 ? _reply[..replyLength] : [];
        return r;
    }

    public int Open(string path, uint flags, uint mode, out uint handle, uint dir = Root) => Open(Bytes(path), flags, mode, out handle, out _, out _, dir);

    public int Open(ReadOnlySpan<byte> path, uint flags, uint mode, out uint handle, out uint fileMode, out ulong size, uint dir = Root)
    {
        handle = 0; fileMode = 0; size = 0;
        int r = PathCall(RpcOpcode.Open, dir, flags, mode, path, [], out var reply);
        if (r < 0) return r;
        handle = BinaryPrimitives.ReadUInt32LittleEndian(reply);
        fileMode = BinaryPrimitives.ReadUInt32LittleEndian(reply[4..]);
        size = BinaryPrimitives.ReadUInt64LittleEndian(reply[8..]);
        return 0;
    }

    public int Close(uint handle) => HandleCall(RpcOpcode.Close, handle, 0, 0, [], out _);

    /// <summary>pread: at most count (≤ FileProtocol.MaxRead) bytes into data; returns the count or an errno.</summary>
    public int Pread(uint handle, ulong offset, int count, out byte[] data)
    {
        data = [];
        int r = HandleCall(RpcOpcode.Read, handle, (uint)count, offset, [], out var reply);
        if (r < 0) return r;
        data = reply.ToArray();
        return data.Length;
    }

    /// <summary>pwrite (one RPC, ≤ FileProtocol.MaxWrite bytes): returns the count or an errno; end is where the write ended.</summary>
    public int Pwrite(uint handle, ulong offset, ReadOnlySpan<byte> data, out ulong end)
    {
        end = 0;
        int r = HandleCall(RpcOpcode.Write, handle, 0, offset, data, out var reply);
        if (r < 0) return r;
        end = BinaryPrimitives.ReadUInt64LittleEndian(reply[8..]);
        return (int)BinaryPrimitives.ReadUInt64LittleEndian(reply);
    }

    /// <summary>Writes all of data from offset in MaxWrite pieces (a processor's write loop); returns the total or the first errno.</summary>
    public long WriteAll(uint handle, ulong offset, ReadOnlySpan<byte> data)
    {
        long done = 0;
        while (done < data.Length)
        {
            int n = Math.Min(FileProtocol.MaxWrite, data.Length - (int)done);
            int r = Pwrite(handle, offset + (ulong)done, data.Slice((int)done, n), out _);
            if (r < 0) return done > 0 ? done : r;
            if (r == 0) break;
            done += r;
        }
        return done;
    }

    /// <summary>Reads from offset to the end of the file in MaxRead pieces; null and the errno on failure.</summary>
    public byte[]? ReadAll(uint handle, out int error, ulong offset = 0)
    {
        error = 0;
        var all = new MemoryStream();
        while (true)
        {
            int r = Pread(handle, offset, FileProtocol.MaxRead, out byte[] data);
            if (r < 0) { error = r; return null; }
            if (r == 0) return all.ToArray();
            all.Write(data);
            offset += (ulong)r;
        }
    }

    public int Stat(string path, out LinuxStat? stat, bool follow = true, uint dir = Root) =>
        StatAt(dir, Bytes(path), follow ? 0 : FileProtocol.AT_SYMLINK_NOFOLLOW, out stat);

    public int StatAt(uint dir, ReadOnlySpan<byte> path, uint flags, out LinuxStat? stat)
    {
        stat = null;
        int r = PathCall(RpcOpcode.Stat, dir, flags, 0, path, [], out var reply);
        if (r < 0) return r;
        stat = LinuxStat.Parse(reply);
        return 0;
    }

    public int Fstat(uint handle, out LinuxStat? stat)
    {
        stat = null;
        int r = HandleCall(RpcOpcode.Fstat, handle, 0, 0, [], out var reply);
        if (r < 0) return r;
        stat = LinuxStat.Parse(reply);
        return 0;
    }

    public int Getdents(uint handle, ulong cookie, int capacity, out List<DirectoryEntry> entries, out ulong next)
    {
        entries = [];
        next = cookie;
        int r = HandleCall(RpcOpcode.Getdents, handle, (uint)capacity, cookie, [], out var reply);
        if (r < 0) return r;
        next = BinaryPrimitives.ReadUInt64LittleEndian(reply);
        var records = reply[FileProtocol.DirentsReplyHeader..];
        int at = 0;
        while (at < records.Length)
        {
            var d = records[at..];
            ushort recordLength = BinaryPrimitives.ReadUInt16LittleEndian(d[16..]);
            int nameEnd = d[19..recordLength].IndexOf((byte)0);
            entries.Add(new DirectoryEntry(BinaryPrimitives.ReadUInt64LittleEndian(d), BinaryPrimitives.ReadInt64LittleEndian(d[8..]),
                d[18], Encoding.UTF8.GetString(d.Slice(19, nameEnd))));
            at += recordLength;
        }
        return records.Length;
    }

    /// <summary>Every name in a directory (without "." and ".."), by GETDENTS from cookie 0 to the end; null and the errno on failure.</summary>
    public List<DirectoryEntry>? List(string path, out int error, int capacity = 512)
    {
        error = Open(Bytes(path), FileProtocol.O_RDONLY | FileProtocol.O_DIRECTORY, 0, out uint handle, out _, out _);
        if (error < 0) return null;
        var all = new List<DirectoryEntry>();
        ulong cookie = 0;
        while (true)
        {
            int r = Getdents(handle, cookie, capacity, out var entries, out ulong next);
            if (r < 0) { error = r; Close(handle); return null; }
            if (r == 0) break;
            all.AddRange(entries.Where(e => e.Name != "." && e.Name != ".."));
            cookie = next;
        }
        Close(handle);
        return all;
    }

    public int Mkdir(string path, uint mode = 0x1ED, uint dir = Root) => PathCall(RpcOpcode.Mkdir, dir, mode, 0, Bytes(path), [], out _);
    public int Unlink(string path, uint dir = Root) => PathCall(RpcOpcode.Unlink, dir, 0, 0, Bytes(path), [], out _);
    public int Rmdir(string path, uint dir = Root) => PathCall(RpcOpcode.Unlink, dir, FileProtocol.AT_REMOVEDIR, 0, Bytes(path), [], out _);

    public int Rename(string from, string to, uint flags = 0, uint fromDir = Root, uint toDir = Root) =>
        PathCall(RpcOpcode.Rename, fromDir, flags, toDir, Bytes(from), Bytes(to), out _);

    public int Truncate(string path, ulong length, uint dir = Root) => PathCall(RpcOpcode.Truncate, dir, 0, length, Bytes(path), [], out _);
    public int Ftruncate(uint handle, ulong length) => HandleCall(RpcOpcode.Ftruncate, handle, 0, length, [], out _);
    public int Fsync(uint handle, bool dataOnly = false) => HandleCall(RpcOpcode.Fsync, handle, dataOnly ? FileProtocol.FsyncDataOnly : 0, 0, [], out _);
    public int Sync() => Fsync(FileProtocol.NoHandle);

    public int Readlink(string path, out string target, int capacity = 4096, uint dir = Root)
    {
        target = "";
        int r = PathCall(RpcOpcode.Readlink, dir, (uint)capacity, 0, Bytes(path), [], out var reply);
        if (r < 0) return r;
        target = Encoding.UTF8.GetString(reply);
        return reply.Length;
    }

    public int Access(string path, uint mode, uint flags = 0, uint dir = Root) => PathCall(RpcOpcode.Access, dir, mode, flags, Bytes(path), [], out _);

    public int Statfs(string path, out LinuxStatfs? statfs, uint dir = Root)
    {
        statfs = null;
        int r = PathCall(RpcOpcode.Statfs, dir, 0, 0, Bytes(path), [], out var reply);
        if (r < 0) return r;
        statfs = LinuxStatfs.Parse(reply);
        return 0;
    }

    /// <summary>READPATH: a read by path, as the memory component reads executables.</summary>
    public int ReadPath(string path, ulong offset, int count, out byte[] data)
    {
        data = [];
        int r = PathCall(RpcOpcode.ReadPath, Root, (uint)count, offset, Bytes(path), [], out var reply);
        if (r < 0) return r;
        data = reply.ToArray();
        return data.Length;
    }

    public int Symlink(string target, string path, uint dir = Root) => PathCall(RpcOpcode.Symlink, dir, 0, 0, Bytes(target), Bytes(path), out _);

    public int Link(string from, string to, uint flags = 0, uint fromDir = Root, uint toDir = Root) =>
        PathCall(RpcOpcode.Link, fromDir, flags, toDir, Bytes(from), Bytes(to), out _);

    /// <summary>FORGET: closes every handle this node holds; returns how many.</summary>
    public int Forget()
    {
        int r = transport.Call(RpcOpcode.Forget, [], _reply, out int length);
        if (r < 0) return r;
        return length == 4 ? (int)BinaryPrimitives.ReadUInt32LittleEndian(_reply) : RpcStatus.EIO;
    }
}
