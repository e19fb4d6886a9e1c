using Tessera.Core.Memory;
using Xunit;

namespace Tessera.Tests.Host;

/// <summary>The kernel heap's page source today (kernel/Core/Memory/RegionPageSource.cs), over native memory.</summary>
public sealed unsafe class RegionPageSourceTests
{
    private const int Page = 4096;

    [Fact]
    public void RunsAreAlignedInsideTheRegionAndDisjoint()
    {
        using var region = new NativeRegion(64 * Page);
        var source = region.Source;
        Assert.True(source.IsReady);
        Assert.Equal(64, source.PageCount);
        Assert.Equal(63, source.FreePageCount);          // one page of bookkeeping
        var runs = new List<(nuint Start, int Count)>();
        for (int count = 1; count <= 10; count++)
        {
            byte* p = source.AllocatePages(count);
            Assert.True(p != null);
            Assert.Equal(0UL, (ulong)p % Page);
            Assert.True(p > region.Start && p + count * Page <= region.Start + region.Bytes);
            foreach (var (s, c) in runs) Assert.False((nuint)p < s + (nuint)(c * Page) && s < (nuint)p + (nuint)(count * Page));
            runs.Add(((nuint)p, count));
        }
        Assert.Equal(63 - 55, source.FreePageCount);
        Assert.True(source.AllocatePages(9) == null);
        Assert.True(source.AllocatePages(8) != null);
        Assert.Equal(0, source.FreePageCount);
        Assert.True(source.AllocatePages(1) == null);
    }

    [Fact]
    public void FreedPagesAreReusedLowestFirst()
    {
        using var region = new NativeRegion(32 * Page);
        var source = region.Source;
        byte* a = source.AllocatePages(2);
        byte* b = source.AllocatePages(3);
        byte* c = source.AllocatePages(1);
        source.FreePages(b, 3);
        Assert.False(source.IsAllocated(b, 3));
        Assert.True(source.AllocatePages(4) > c);         // the 3-page hole is too small
        Assert.True(source.AllocatePages(2) == b);        // then the hole is first
        Assert.True(source.AllocatePages(1) == b + 2 * Page);
        Assert.True(source.IsAllocated(a, 2));
    }

    [Fact]
    public void BadFreesAreCountedAndIgnored()
    {
        using var region = new NativeRegion(16 * Page);
        var source = region.Source;
        byte* a = source.AllocatePages(2);
        int free = source.FreePageCount;
        source.FreePages(a + 1, 1);                       // not page-aligned
        source.FreePages(a, 3);                           // one page more than handed out
        source.FreePages(region.Start, 1);                // the bookkeeping page
        source.FreePages(region.Start + 64 * Page, 1);    // outside
        Assert.Equal(4, source.BadFrees);
        Assert.Equal(free, source.FreePageCount);
        source.FreePages(a, 2);
        Assert.Equal(0 + 4, source.BadFrees);
        Assert.Equal(free + 2, source.FreePageCount);
    }

    [Fact]
    public void ARegionTooSmallForAnyPageIsNotReady()
    {
        using var region = new NativeRegion(Page);
        Assert.False(new RegionPageSource(region.Start, region.Start + Page).IsReady);
        Assert.False(new RegionPageSource(region.Start + 1, region.Start + Page).IsReady);
    }
}
