// Self-tests of the virtio-blk driver and the block-device seam, on a scratch disk the boot
// test attaches (`blk-selftest` on the command line; BlkTestLayout says where they write).
// On a read-only disk (VIRTIO_BLK_F_RO) the writing tests give way to blk.read-only.
using System;
using Tessera.Core;
using Tessera.Core.Boot;
using Tessera.Drivers;

namespace Tessera.Storage
{
    public static class BlkSelfTests
    {
        public static void RunAll(CommandLine commandLine)
        {
            SelfTest.Run(new BlkDeviceSelfTest());
            SelfTest.Run(new BlkIdentifySelfTest(commandLine));
            SelfTest.Run(new BlkHostPatternSelfTest());
            if (StorageDisk.Driver is VirtioBlk disk && disk.ReadOnly)
            {
                SelfTest.Run(new BlkReadOnlySelfTest());
            }
            else
            {
                SelfTest.Run(new BlkFirstMiddleLastSelfTest());
                SelfTest.Run(new BlkFlushSelfTest());
                SelfTest.Run(new BlkInFlightSelfTest());
                SelfTest.Run(new BlkLargeTransferSelfTest());
            }
            SelfTest.Run(new BlkOutOfRangeSelfTest());
            SelfTest.Run(new BlkUnsupportedRequestSelfTest());
        }
    }

    /// <summary>A blk self-test: fails at once when there is no disk.</summary>
    public abstract class BlkSelfTestCase : SelfTestCase
    {
        public sealed override string? Run()
        {
            if (StorageDisk.Driver is not VirtioBlk disk || StorageDisk.Device is not VirtioBlockDevice device)
                return "no virtio-blk disk";
            return Run(disk, device);
        }

        protected abstract string? Run(VirtioBlk disk, VirtioBlockDevice device);
    }

    public sealed class BlkDeviceSelfTest : BlkSelfTestCase
    {
        public override string Name => "blk.device";
        protected override string? Run(VirtioBlk disk, VirtioBlockDevice device)
        {
            if (!disk.Has(VirtioPciTransport.FeatureVersion1)) return "VERSION_1 not negotiated";
            if (disk.Capacity < BlkTestLayout.MinimumSectors) return "disk smaller than the 4 MiB the tests need";
            if (device.BlockSize != 512 || device.BlockCount != disk.Capacity) return "block device geometry differs from the disk's";
            if (disk.RequestsInFlight < 2) return "fewer than 2 requests in flight";
            if (disk.SectorsPerRequest < 1 || disk.Geometry.DescriptorsPerRequest < 3) return "request geometry";
            return null;
        }
    }

    /// <summary>GET_ID answers; with `blk-expect-id=ID` it must be that id (the device's serial), NUL-padded.</summary>
    public sealed class BlkIdentifySelfTest : BlkSelfTestCase
    {
        private readonly CommandLine _commandLine;
        public BlkIdentifySelfTest(CommandLine commandLine) { _commandLine = commandLine; }
        public override string Name => "blk.identify";
        protected override string? Run(VirtioBlk disk, VirtioBlockDevice device)
        {
            byte[] id = new byte[VirtioBlk.IdBytes];
            for (int i = 0; i < id.Length; i++) id[i] = 0xEE;
            int r = disk.GetId(id);
            if (r != 0) return "GET_ID failed";
            if (!_commandLine.TryGetValue("blk-expect-id", out ReadOnlySpan<byte> expected)) return null;
            for (int i = 0; i < id.Length; i++)
                if (id[i] != (i < expected.Length ? expected[i] : 0)) return "the id is not the one on the command line";
            return null;
        }
    }

    /// <summary>Reads the sectors the host patterned before boot, one request each and all at once.</summary>
    public sealed class BlkHostPatternSelfTest : BlkSelfTestCase
    {
        public override string Name => "blk.host-pattern";
        protected override string? Run(VirtioBlk disk, VirtioBlockDevice device)
        {
            ulong capacity = disk.Capacity;
            byte[] sector = new byte[BlkTestLayout.SectorSize];
            for (int i = 0; i < BlkTestLayout.HostSectorCount; i++)
            {
                ulong number = BlkTestLayout.HostSector(capacity, i);
                new Span<byte>(sector).Fill(0xEE);
                if (device.Read(number, sector) != 0) return "read failed";
                if (!BlkTestLayout.Matches(sector, number, BlkPatternOrigin.Host)) return "a host sector reads back wrong";
            }
            return null;
        }
    }

    public sealed class BlkFirstMiddleLastSelfTest : BlkSelfTestCase
    {
        public override string Name => "blk.first-middle-last";
        protected override string? Run(VirtioBlk disk, VirtioBlockDevice device)
        {
            ulong capacity = disk.Capacity;
            byte[] sector = new byte[BlkTestLayout.SectorSize];
            for (int i = 0; i < BlkTestLayout.EndSectorCount; i++)
            {
                ulong number = BlkTestLayout.EndSector(capacity, i);
                BlkTestLayout.Fill(sector, number, BlkPatternOrigin.Kernel);
                if (disk.Write(number, sector) != 0) return "write failed";
            }
            for (int i = 0; i < BlkTestLayout.EndSectorCount; i++)
            {
                ulong number = BlkTestLayout.EndSector(capacity, i);
                new Span<byte>(sector).Fill(0xEE);
                if (disk.Read(number, sector) != 0) return "read failed";
                if (!BlkTestLayout.Matches(sector, number, BlkPatternOrigin.Kernel)) return "a sector reads back different";
            }
            return null;
        }
    }

    public sealed class BlkFlushSelfTest : BlkSelfTestCase
    {
        public override string Name => "blk.flush";
        protected override string? Run(VirtioBlk disk, VirtioBlockDevice device)
        {
            ulong before = disk.FlushesSubmitted;
            if (disk.Flush() != 0) return "flush failed";
            if (device.Flush() != 0) return "flush through the block device failed";
            // With VIRTIO_BLK_F_FLUSH each flush is a request; without, the cache is write-through and there is nothing to send.
            ulong expected = disk.HasFlush ? 2UL : 0UL;
            if (disk.FlushesSubmitted - before != expected) return "flush requests sent do not match the flush feature";
            return null;
        }
    }

    /// <summary>
    /// Writes the 16 in-flight blocks in batches as large as the slots allow (Begin until
    /// -EAGAIN, every request outstanding at once), collecting each batch in reverse order,
    /// then reads them back the same way.
    /// </summary>
    public sealed class BlkInFlightSelfTest : BlkSelfTestCase
    {
        public override string Name => "blk.in-flight";
        protected override string? Run(VirtioBlk disk, VirtioBlockDevice device)
        {
            const int blockBytes = BlkTestLayout.InFlightBlockSectors * BlkTestLayout.SectorSize;
            int slots = disk.RequestsInFlight;
            int[] tags = new int[slots + 1];
            int[] blockOfTag = new int[slots + 1];
            byte[][] buffers = new byte[slots + 1][];
            for (int i = 0; i < buffers.Length; i++) buffers[i] = new byte[blockBytes];

            for (int pass = 0; pass < 2; pass++)
            {
                bool write = pass == 0;
                int block = 0;
                while (block < BlkTestLayout.InFlightBlocks)
                {
                    int n = 0;
                    while (block < BlkTestLayout.InFlightBlocks)
                    {
                        ulong sector = BlkTestLayout.InFlightSector(block);
                        int tag;
                        if (write)
                        {
                            BlkTestLayout.FillRun(buffers[n], sector, BlkPatternOrigin.Kernel);
                            tag = disk.BeginWrite(sector, buffers[n]);
                        }
                        else tag = disk.BeginRead(sector, BlkTestLayout.InFlightBlockSectors);
                        if (tag == VirtioBlk.EAGAIN) break;
                        if (tag < 0) return write ? "BeginWrite failed" : "BeginRead failed";
                        if (n == slots) return "more requests accepted than there are slots";
                        tags[n] = tag;
                        blockOfTag[n] = block;
                        n++;
                        block++;
                    }
                    if (block < BlkTestLayout.InFlightBlocks && n != slots) return "-EAGAIN before every slot was taken";
                    // Nothing has been collected yet: every request of the batch is in flight.
                    if (disk.InFlight != n) return "the batch is not all in flight";
                    for (int i = n - 1; i >= 0; i--)
                    {
                        if (!write) new Span<byte>(buffers[i]).Fill(0xEE);
                        int r = write ? disk.End(tags[i]) : disk.End(tags[i], buffers[i]);
                        if (r != 0) return "a request failed";
                        if (!write && BlkTestLayout.FirstMismatch(buffers[i], BlkTestLayout.InFlightSector(blockOfTag[i]), BlkPatternOrigin.Kernel) >= 0)
                            return "a block read back different";
                    }
                    if (disk.InFlight != 0) return "requests left in flight";
                }
            }
            if (disk.End(tags[0]) != VirtioBlk.EINVAL) return "End of a collected request did not refuse";
            if (disk.MostInFlight < 2) return "never more than one request in flight";
            return null;
        }
    }

    /// <summary>
    /// Writes and reads 389 sectors through the block device: more than three requests, each
    /// a chain of several page-sized data descriptors, plus a read that starts and ends
    /// inside the run.
    /// </summary>
    public sealed class BlkLargeTransferSelfTest : BlkSelfTestCase
    {
        public override string Name => "blk.large-transfer";
        protected override string? Run(VirtioBlk disk, VirtioBlockDevice device)
        {
            const int bytes = BlkTestLayout.LargeSectors * BlkTestLayout.SectorSize;
            byte[] data = new byte[bytes];
            byte[] back = new byte[bytes];
            BlkTestLayout.FillRun(data, BlkTestLayout.LargeStart, BlkPatternOrigin.Kernel);

            ulong requests = disk.RequestsSubmitted, segments = disk.SegmentsSubmitted;
            if (device.Write(BlkTestLayout.LargeStart, data) != 0) return "write failed";
            ulong expectedRequests = 0, expectedSegments = 0;
            for (int done = 0; done < bytes; done += disk.Geometry.RequestBytes)
            {
                int part = bytes - done < disk.Geometry.RequestBytes ? bytes - done : disk.Geometry.RequestBytes;
                expectedRequests++;
                expectedSegments += (ulong)disk.Geometry.SegmentCount(part);
            }
            if (expectedRequests < 2) return "the run fits one request: the test proves nothing";
            if (expectedSegments <= expectedRequests) return "every request has one data segment: the test proves nothing";
            if (disk.RequestsSubmitted - requests != expectedRequests) return "the write was not split as the geometry says";
            if (disk.SegmentsSubmitted - segments != expectedSegments) return "the write's data descriptors do not match the geometry";

            new Span<byte>(back).Fill(0xEE);
            if (device.Read(BlkTestLayout.LargeStart, back) != 0) return "read failed";
            if (BlkTestLayout.FirstMismatch(back, BlkTestLayout.LargeStart, BlkPatternOrigin.Kernel) >= 0) return "the run reads back different";

            // Starting one sector in and ending one sector early shifts every request boundary.
            new Span<byte>(back).Fill(0xEE);
            Span<byte> inner = new Span<byte>(back).Slice(0, bytes - 2 * BlkTestLayout.SectorSize);
            if (device.Read(BlkTestLayout.LargeStart + 1, inner) != 0) return "inner read failed";
            if (BlkTestLayout.FirstMismatch(inner, BlkTestLayout.LargeStart + 1, BlkPatternOrigin.Kernel) >= 0) return "the inner run reads back different";
            for (int i = inner.Length; i < bytes; i++) if (back[i] != 0xEE) return "the inner read wrote past its buffer";
            return null;
        }
    }

    /// <summary>Requests past the end, wrapping around, or not whole sectors are refused before reaching the device.</summary>
    public sealed class BlkOutOfRangeSelfTest : BlkSelfTestCase
    {
        public override string Name => "blk.out-of-range";
        protected override string? Run(VirtioBlk disk, VirtioBlockDevice device)
        {
            ulong capacity = disk.Capacity;
            byte[] two = new byte[2 * BlkTestLayout.SectorSize];
            Span<byte> one = new Span<byte>(two).Slice(0, BlkTestLayout.SectorSize);
            ulong before = disk.RequestsSubmitted;
            if (disk.Read(capacity, one) != VirtioBlk.EINVAL) return "read at the capacity not refused";
            if (disk.Read(capacity - 1, two) != VirtioBlk.EINVAL) return "read across the end not refused";
            if (disk.Read(ulong.MaxValue, one) != VirtioBlk.EINVAL) return "read at 2^64-1 not refused";
            if (disk.Read(0, new Span<byte>(two).Slice(0, 100)) != VirtioBlk.EINVAL) return "read of part of a sector not refused";
            if (disk.BeginRead(capacity, 1) != VirtioBlk.EINVAL) return "BeginRead at the capacity not refused";
            if (disk.BeginRead(0, 0) != VirtioBlk.EINVAL) return "BeginRead of no sectors not refused";
            if (disk.BeginRead(0, disk.SectorsPerRequest + 1) != VirtioBlk.EINVAL) return "BeginRead larger than a request not refused";
            if (device.Read(capacity, one) != Errno.EINVAL) return "block device read at the capacity not refused";
            if (!disk.ReadOnly)
            {
                if (disk.Write(capacity, one) != VirtioBlk.EINVAL) return "write at the capacity not refused";
                if (disk.Write(capacity - 1, two) != VirtioBlk.EINVAL) return "write across the end not refused";
                if (disk.BeginWrite(capacity - 1, two) != VirtioBlk.EINVAL) return "BeginWrite across the end not refused";
                if (device.Write(ulong.MaxValue - 1, two) != Errno.EINVAL) return "block device write wrapping around not refused";
            }
            if (disk.RequestsSubmitted != before) return "a refused request reached the device";
            // The last sector itself is in range.
            if (disk.Read(capacity - 1, one) != 0) return "read of the last sector failed";
            if (disk.RequestsSubmitted != before + 1) return "the last sector's read was not one request";
            return null;
        }
    }

    /// <summary>A request type the device does not know comes back VIRTIO_BLK_S_UNSUPP, reported as -ENOTSUP.</summary>
    public sealed class BlkUnsupportedRequestSelfTest : BlkSelfTestCase
    {
        // No such type in §5.2.6; even, so it does not carry VIRTIO_BLK_T_OUT's direction bit.
        private const uint UnknownType = 0x7E;
        public override string Name => "blk.unsupported-request";
        protected override string? Run(VirtioBlk disk, VirtioBlockDevice device)
        {
            int tag = disk.BeginUnchecked(UnknownType, 0, 0);
            if (tag < 0) return "could not submit";
            int r = disk.End(tag);
            if (r != VirtioBlk.ENOTSUP) return r == 0 ? "the device accepted an unknown request" : "not reported as -ENOTSUP";
            return null;
        }
    }

    /// <summary>
    /// A read-only disk: the driver refuses writes with -EROFS before they reach the device;
    /// a write slipped past the driver comes back VIRTIO_BLK_S_IOERR (-EIO) and changes nothing
    /// (§5.2.6.2: the device must not write data when VIRTIO_BLK_F_RO is offered).
    /// </summary>
    public sealed class BlkReadOnlySelfTest : BlkSelfTestCase
    {
        public override string Name => "blk.read-only";
        protected override string? Run(VirtioBlk disk, VirtioBlockDevice device)
        {
            ulong target = BlkTestLayout.HostSector(disk.Capacity, 0);
            byte[] sector = new byte[BlkTestLayout.SectorSize];
            BlkTestLayout.Fill(sector, target, BlkPatternOrigin.Kernel);
            ulong before = disk.RequestsSubmitted;
            if (disk.Write(target, sector) != VirtioBlk.EROFS) return "write not refused with -EROFS";
            if (disk.BeginWrite(target, sector) != VirtioBlk.EROFS) return "BeginWrite not refused with -EROFS";
            if (device.Write(target, sector) != Errno.EROFS) return "block device write not refused with -EROFS";
            if (disk.RequestsSubmitted != before) return "a refused write reached the device";

            int tag = disk.BeginUnchecked(VirtioBlk.TypeOut, target, BlkTestLayout.SectorSize);
            if (tag < 0) return "could not submit the unchecked write";
            int r = disk.End(tag);
            if (r != VirtioBlk.EIO) return r == 0 ? "the read-only device accepted a write" : "the device's refusal is not -EIO";

            new Span<byte>(sector).Fill(0xEE);
            if (device.Read(target, sector) != 0) return "read failed";
            if (!BlkTestLayout.Matches(sector, target, BlkPatternOrigin.Host)) return "the refused write changed the sector";
            return null;
        }
    }
}
