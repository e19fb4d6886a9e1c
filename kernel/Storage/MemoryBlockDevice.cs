// A BlockDevice over an array in memory: a RAM disk for the kernel's self-test, and the host
// tests' device for images they damage on purpose. Pure logic.
using System;

namespace Tessera.Storage
{
    public sealed class MemoryBlockDevice : BlockDevice
    {
        private readonly byte[] _bytes;
        private readonly int _blockSize;

        public MemoryBlockDevice(byte[] bytes, int blockSize = 512)
        {
            _bytes = bytes;
            _blockSize = blockSize;
        }

        public byte[] Bytes => _bytes;
        public override int BlockSize => _blockSize;
        public override ulong BlockCount => (ulong)(_bytes.Length / _blockSize);

        private bool InRange(ulong block, int length) =>
            length % _blockSize == 0 && block <= BlockCount && (ulong)(length / _blockSize) <= BlockCount - block;

        public override int Read(ulong block, Span<byte> buffer)
        {
            if (!InRange(block, buffer.Length)) return Errno.EINVAL;
            new ReadOnlySpan<byte>(_bytes, (int)block * _blockSize, buffer.Length).CopyTo(buffer);
            return 0;
        }

        public override int Write(ulong block, ReadOnlySpan<byte> buffer)
        {
            if (!InRange(block, buffer.Length)) return Errno.EINVAL;
            buffer.CopyTo(new Span<byte>(_bytes, (int)block * _blockSize, buffer.Length));
            return 0;
        }

        public override int Flush() => 0;
    }
}
