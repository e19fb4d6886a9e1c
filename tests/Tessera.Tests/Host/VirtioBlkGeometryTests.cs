using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Tessera.Drivers;
using Tessera.Storage;
using Xunit;

namespace Tessera.Tests.Host;

/// <summary>
/// How the virtio-blk driver cuts transfers (drivers/VirtioBlkGeometry.cs, compiled here as
/// it is into the kernels): for any size_max, seg_max and queue size a device may report, a
/// request never exceeds the device's limits, chains fit the queue together, segments never
/// cross a page, and the request is as large as the limits allow. Also the range check, and
/// the scratch-disk layout the blk boot tests rely on (kernel/Storage/SelfTests/BlkTestLayout.cs).
/// </summary>
public sealed class VirtioBlkGeometryTests
{
    private const int Page = VirtioBlkGeometry.PageSize, Sector = VirtioBlkGeometry.SectorSize;

    [Fact]
    public void QemusDefaultsGiveSixteenPageChainsEightInFlight()
    {
        // QEMU's virtio-blk: no SIZE_MAX, seg_max = queue size - 2 (seg-max-adjust), queue size 256.
        Assert.True(VirtioBlkGeometry.TryCompute(0, 254, 256, out var g));
        Assert.Equal(64 * 1024, g.RequestBytes);
        Assert.Equal(128, g.SectorsPerRequest);
        Assert.Equal(Page, g.SegmentBytes);
        Assert.Equal(16, g.PagesPerRequest);
        Assert.Equal(18, g.DescriptorsPerRequest);
        Assert.Equal(8, g.RequestsInFlight);
        // A smaller queue holds fewer chains.
        Assert.True(VirtioBlkGeometry.TryCompute(0, 126, 128, out g));
        Assert.Equal(7, g.RequestsInFlight);
    }

    [Fact]
    public void SizeMaxSmallerThanAPageCutsEveryPage()
    {
        Assert.True(VirtioBlkGeometry.TryCompute(1000, 0, 256, out var g));
        Assert.Equal(1000, g.SegmentBytes);
        // One page: 1000, 1000, 1000, 1000, 96; the next page starts a new segment.
        Assert.Equal(5, g.SegmentCount(Page));
        Assert.Equal(96, g.SegmentLength(4000, 2 * Page));
        Assert.Equal(1000, g.SegmentLength(Page, 2 * Page));
        Assert.Equal(6, g.SegmentCount(Page + Sector));
    }

    [Fact]
    public void SegMaxBoundsTheRequest()
    {
        Assert.True(VirtioBlkGeometry.TryCompute(0, 3, 256, out var g));
        Assert.Equal(3 * Page, g.RequestBytes);
        Assert.Equal(5, g.DescriptorsPerRequest);
        Assert.Equal(8, g.RequestsInFlight);
        // One 512-byte segment per request: one sector at a time, still in flight together.
        Assert.True(VirtioBlkGeometry.TryCompute(512, 1, 16, out g));
        Assert.Equal(Sector, g.RequestBytes);
        Assert.Equal(5, g.RequestsInFlight);
    }

    [Fact]
    public void LimitsWithNoRoomForASectorAreRefused()
    {
        Assert.False(VirtioBlkGeometry.TryCompute(0, 0, 2, out _));   // header + status fill the queue
        Assert.False(VirtioBlkGeometry.TryCompute(100, 4, 256, out _)); // 4 x 100 bytes < one sector
        Assert.True(VirtioBlkGeometry.TryCompute(100, 6, 256, out var g)); // 6 x 100 bytes >= 512
        Assert.Equal(Sector, g.RequestBytes);
    }

    [Fact]
    public void RangeCheckDoesNotWrapAround()
    {
        Assert.True(VirtioBlkGeometry.InRange(0, 100, 100));
        Assert.True(VirtioBlkGeometry.InRange(99, 1, 100));
        Assert.True(VirtioBlkGeometry.InRange(100, 0, 100));
        Assert.False(VirtioBlkGeometry.InRange(100, 1, 100));
        Assert.False(VirtioBlkGeometry.InRange(99, 2, 100));
        Assert.False(VirtioBlkGeometry.InRange(ulong.MaxValue, 2, 100));
        Assert.False(VirtioBlkGeometry.InRange(2, ulong.MaxValue, 100));
        Assert.False(VirtioBlkGeometry.InRange(ulong.MaxValue - 1, 2, ulong.MaxValue));
        Assert.True(VirtioBlkGeometry.InRange(ulong.MaxValue - 2, 2, ulong.MaxValue));
    }

    private static Gen<(uint SizeMax, uint SegMax, int QueueSize)> DeviceLimits =>
        from sizeMax in Gen.Frequency(
            (3, Gen.Constant(0u)),
            (2, Gen.Elements(512u, 1024u, 4096u, 8192u, 65536u, uint.MaxValue)),
            (2, Gen.Choose(1, 9000).Select(k => (uint)k)))
        from segMax in Gen.Frequency(
            (3, Gen.Constant(0u)),
            (3, Gen.Choose(1, 300).Select(k => (uint)k)),
            (1, Gen.Elements(126u, 254u, uint.MaxValue)))
        from queueSize in Gen.Frequency(
            (3, Gen.Elements(2, 4, 8, 16, 32, 64, 128, 256, 1024)),
            (1, Gen.Choose(1, 300)))
        select (sizeMax, segMax, queueSize);

    [Property(MaxTest = 500)]
    public Property RequestsStayWithinTheDevicesLimits() =>
        Prop.ForAll(DeviceLimits.ToArbitrary(), limits =>
        {
            var (sizeMax, segMax, queueSize) = limits;
            long segmentCap = sizeMax == 0 ? long.MaxValue : sizeMax;
            long segmentLimit = Math.Min(segMax == 0 ? long.MaxValue : segMax, queueSize - 2L);
            bool oneSectorFits = queueSize >= 3 && SegmentsFor(Sector, (int)Math.Min(segmentCap, Page)) <= segmentLimit;
            if (!VirtioBlkGeometry.TryCompute(sizeMax, segMax, queueSize, out var g))
            {
                Assert.False(oneSectorFits, "refused although one sector fits");
                return;
            }
            Assert.True(oneSectorFits);
            Assert.True(g.RequestBytes % Sector == 0 && g.RequestBytes >= Sector && g.RequestBytes <= VirtioBlkGeometry.MaxPagesPerRequest * Page);
            Assert.True(g.SegmentCount(g.RequestBytes) <= segmentLimit);
            // As large as allowed: one more sector would break a limit (or our 64 KiB cap).
            Assert.True(g.RequestBytes == VirtioBlkGeometry.MaxPagesPerRequest * Page || g.SegmentCount(g.RequestBytes + Sector) > segmentLimit);
            Assert.True(g.PagesPerRequest * Page >= g.RequestBytes);
            Assert.Equal(2 + g.SegmentCount(g.RequestBytes), g.DescriptorsPerRequest);
            Assert.True(g.DescriptorsPerRequest <= queueSize);
            Assert.InRange(g.RequestsInFlight, 1, VirtioBlkGeometry.MaxRequestsInFlight);
            Assert.True(g.RequestsInFlight * g.DescriptorsPerRequest <= queueSize, "chains in flight overflow the queue");

            // Every transfer up to the maximum: segments tile it, within size_max, never across a page.
            for (int bytes = Sector; bytes <= g.RequestBytes; bytes += Sector)
            {
                int count = 0;
                for (int offset = 0; offset < bytes; count++)
                {
                    int length = g.SegmentLength(offset, bytes);
                    Assert.True(length > 0 && length <= segmentCap);
                    Assert.Equal(offset / Page, (offset + length - 1) / Page);
                    offset += length;
                    Assert.True(offset <= bytes);
                }
                Assert.Equal(count, g.SegmentCount(bytes));
                Assert.True(count <= g.DescriptorsPerRequest - 2);
            }
        });

    private static int SegmentsFor(int bytes, int segmentBytes) => (bytes + segmentBytes - 1) / segmentBytes;

    // ---- the scratch-disk layout of the blk boot tests ----

    [Property(MaxTest = 200)]
    public Property TestRegionsNeverOverlapAndStayOnTheDisk() =>
        Prop.ForAll(Gen.Choose(0, 1 << 24).Select(k => BlkTestLayout.MinimumSectors + (ulong)k).ToArbitrary(), capacity =>
        {
            var used = new Dictionary<ulong, string>();
            void Claim(ulong first, int count, string what)
            {
                for (ulong s = first; s < first + (ulong)count; s++)
                {
                    Assert.True(s < capacity, $"{what} sector {s} is past the end ({capacity})");
                    Assert.True(used.TryAdd(s, what), $"{what} and {(used.TryGetValue(s, out var other) ? other : "")} share sector {s}");
                }
            }
            for (int i = 0; i < BlkTestLayout.HostSectorCount; i++) Claim(BlkTestLayout.HostSector(capacity, i), 1, "host");
            for (int i = 0; i < BlkTestLayout.EndSectorCount; i++) Claim(BlkTestLayout.EndSector(capacity, i), 1, "end");
            for (int b = 0; b < BlkTestLayout.InFlightBlocks; b++) Claim(BlkTestLayout.InFlightSector(b), BlkTestLayout.InFlightBlockSectors, "in-flight");
            Claim(BlkTestLayout.LargeStart, BlkTestLayout.LargeSectors, "large");
            Assert.Equal(capacity - 1, BlkTestLayout.EndSector(capacity, 2));
        });

    [Fact]
    public void EverySectorsPatternIsItsOwn()
    {
        var a = new byte[Sector];
        var b = new byte[Sector];
        BlkTestLayout.Fill(a, 300, BlkPatternOrigin.Kernel);
        Assert.True(BlkTestLayout.Matches(a, 300, BlkPatternOrigin.Kernel));
        Assert.False(BlkTestLayout.Matches(a, 300, BlkPatternOrigin.Host));
        Assert.False(BlkTestLayout.Matches(a, 300 + 256, BlkPatternOrigin.Kernel));
        Assert.False(BlkTestLayout.Matches(a, 300 + (1UL << 32), BlkPatternOrigin.Kernel));
        BlkTestLayout.Fill(b, 301, BlkPatternOrigin.Kernel);
        Assert.NotEqual(a, b);
        Assert.Equal("TSRAKERN"u8.ToArray(), a[8..16]);
        Assert.Equal(300UL, BitConverter.ToUInt64(a, 0));

        var run = new byte[3 * Sector];
        BlkTestLayout.FillRun(run, 7, BlkPatternOrigin.Host);
        Assert.Equal(-1, BlkTestLayout.FirstMismatch(run, 7, BlkPatternOrigin.Host));
        Assert.Equal(0, BlkTestLayout.FirstMismatch(run, 8, BlkPatternOrigin.Host));
        run[2 * Sector + 100] ^= 1;
        Assert.Equal(2, BlkTestLayout.FirstMismatch(run, 7, BlkPatternOrigin.Host));
    }
}
