// The storage component's disk as the file system sees it (BlockDevice): the virtio-blk
// driver's 512-byte sectors as blocks. The driver does the work: any number of sectors per
// call, split into requests in flight together; writes return only once the device has
// completed them (BlockDevice.Write's promise, which the file system's write ordering
// relies on); Flush is VIRTIO_BLK_T_FLUSH. Results pass through as negative errno values.
using System;
using Tessera.Drivers;

namespace Tessera.Storage
{
    public sealed class VirtioBlockDevice : BlockDevice
    {
        private readonly VirtioBlk _disk;

        public VirtioBlockDevice(VirtioBlk disk) { _disk = disk; }

        public VirtioBlk Driver => _disk;

        /// <summary>virtio-blk addresses 512-byte sectors whatever the device's logical block size (§5.2.6).</summary>
        public override int BlockSize => VirtioBlk.SectorSize;

        public override ulong BlockCount => _disk.Capacity;

        public bool ReadOnly => _disk.ReadOnly;

        public override int Read(ulong block, Span<byte> buffer) => _disk.Read(block, buffer);

        public override int Write(ulong block, ReadOnlySpan<byte> buffer) => _disk.Write(block, buffer);

        public override int Flush() => _disk.Flush();
    }
}
