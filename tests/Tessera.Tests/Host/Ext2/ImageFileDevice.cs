using Microsoft.Win32.SafeHandles;
using Tessera.Storage;

namespace Tessera.Tests.Host.Ext2;

/// <summary>
/// A BlockDevice over a disk image file (512-byte blocks, like virtio-blk's sectors), the host
/// tests' stand-in for the storage kernel's virtio-blk driver. Counts requests and can keep a
/// log of every write, in order, for the crash-consistency tests.
/// </summary>
public sealed class ImageFileDevice : BlockDevice, IDisposable
{
    private readonly SafeFileHandle _file;
    private readonly int _blockSize;
    private readonly ulong _blockCount;

    public int Reads, Writes, Flushes;
    /// <summary>When not null, every write is appended: (byte offset, bytes); a flush as (-1, null).</summary>
    public List<(long Offset, byte[]? Data)>? WriteLog;

    public ImageFileDevice(string path, int blockSize = 512)
    {
        _file = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
        _blockSize = blockSize;
        _blockCount = (ulong)(RandomAccess.GetLength(_file) / blockSize);
    }

    public override int BlockSize => _blockSize;
    public override ulong BlockCount => _blockCount;

    public override int Read(ulong block, Span<byte> buffer)
    {
        if (buffer.Length % _blockSize != 0 || block + (ulong)(buffer.Length / _blockSize) > _blockCount) return Errno.EINVAL;
        Reads++;
        long offset = (long)block * _blockSize;
        int done = 0;
        while (done < buffer.Length)
        {
            int n = RandomAccess.Read(_file, buffer[done..], offset + done);
            if (n <= 0) { buffer[done..].Clear(); break; }
            done += n;
        }
        return 0;
    }

    public override int Write(ulong block, ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length % _blockSize != 0 || block + (ulong)(buffer.Length / _blockSize) > _blockCount) return Errno.EINVAL;
        Writes++;
        long offset = (long)block * _blockSize;
        WriteLog?.Add((offset, buffer.ToArray()));
        RandomAccess.Write(_file, buffer, offset);
        return 0;
    }

    public override int Flush()
    {
        Flushes++;
        WriteLog?.Add((-1, null));
        return 0;
    }

    public void Dispose() => _file.Dispose();
}

/// <summary>The host's wall clock, or a fixed time.</summary>
public sealed class TestClock(uint? fixedSeconds = null) : FileSystemClock
{
    public override uint UnixSeconds() => fixedSeconds ?? (uint)DateTimeOffset.UtcNow.ToUnixTimeSeconds();
}
