// A disk as a file system sees it: numbered blocks of one fixed size, read and written
// whole. The storage kernel implements it over virtio-blk (virtio 1.1 §5.2: sectors of
// 512 bytes, VIRTIO_BLK_T_IN / _OUT / _FLUSH); the host tests implement it over an image
// file made by mke2fs. Pure logic: compiled into the storage kernel and the host tests.
using System;

namespace Tessera.Storage
{
    public abstract class BlockDevice
    {
        /// <summary>Bytes per device block: a power of two from 512 to 4096.</summary>
        public abstract int BlockSize { get; }

        /// <summary>Number of blocks on the device.</summary>
        public abstract ulong BlockCount { get; }

        /// <summary>
        /// Reads buffer.Length / BlockSize consecutive blocks starting at block (buffer.Length
        /// is a multiple of BlockSize). Returns 0, or a negative errno (Errno.EIO, Errno.EINVAL
        /// for a range past the end).
        /// </summary>
        public abstract int Read(ulong block, Span<byte> buffer);

        /// <summary>
        /// Writes buffer.Length / BlockSize consecutive blocks starting at block, and returns
        /// only once the device has completed the write. The file system relies on that: a
        /// write it issues after another one has returned is never observed without it, which
        /// is what its write ordering (Ext2FileSystem, "Durability") is built on. Returns 0 or
        /// a negative errno.
        /// </summary>
        public abstract int Write(ulong block, ReadOnlySpan<byte> buffer);

        /// <summary>
        /// Makes every completed write durable (the device's volatile write cache, if it has
        /// one, is written out: VIRTIO_BLK_T_FLUSH). Returns 0 or a negative errno.
        /// </summary>
        public abstract int Flush();
    }
}
