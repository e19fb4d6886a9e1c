using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Tessera.Core.Memory;
using Xunit;

namespace Tessera.Tests.Host;

/// <summary>
/// The kernel heap allocator (kernel/Core/Memory/SlabHeap.cs) on the host: random
/// allocate/free sequences checked against a model, poisoning and use-after-free detection,
/// double and invalid frees, exhaustion, and the page source it runs on in the kernel.
/// </summary>
public sealed unsafe class KernelHeapTests
{
    private const int Page = 4096;

    // ---------------------------------------------------------------- the model

    public enum OpKind { Allocate, Free, FreeAgain, StrayFree }

    public readonly record struct HeapOp(OpKind Kind, int Size, int Pick, byte Pattern);

    /// <summary>The block a request gets, from the size-class rule as documented (HeapSizeClasses.cs), not from its code.</summary>
    private static nuint ExpectedBlockSize(nuint size)
    {
        if (size == 0) size = 1;
        if (size <= 128) return (size + 15) / 16 * 16;
        if (size <= 2048)
        {
            nuint power = 256;
            while (size > power) power *= 2;
            nuint step = power / 8;                 // a quarter of the power of two below
            return (size + step - 1) / step * step;
        }
        return (size + Page - 1) / Page * Page;
    }

    private static int ClassIndexOf(nuint blockSize)
    {
        for (int c = 0; c < HeapSizeClasses.Count; c++) if ((nuint)HeapSizeClasses.BlockSize(c) == blockSize) return c;
        return -1;
    }

    private sealed record Block(nuint Size, nuint BlockSize, byte Pattern)
    {
        public bool Large => BlockSize > 2048;
    }

    private static Gen<int> RequestSizes =>
        Gen.Frequency(
            (6, Gen.Choose(0, 128)),
            (3, Gen.Choose(129, 2048)),
            (1, Gen.Choose(2049, 5 * Page + 100)));

    private static Gen<HeapOp> Ops(bool misuse)
    {
        var kinds = new List<(int, Gen<OpKind>)> { (5, Gen.Constant(OpKind.Allocate)), (4, Gen.Constant(OpKind.Free)) };
        if (misuse) { kinds.Add((1, Gen.Constant(OpKind.FreeAgain))); kinds.Add((1, Gen.Constant(OpKind.StrayFree))); }
        return from kind in Gen.Frequency(kinds.ToArray())
               from size in RequestSizes
               from pick in Gen.Choose(0, 1 << 20)
               from pattern in Gen.Choose(1, 255)
               select new HeapOp(kind, size, pick, (byte)pattern);
    }

    private static Arbitrary<HeapOp[]> Sequences(bool misuse) =>
        Gen.Choose(0, 300).SelectMany(n => Ops(misuse).ArrayOf(n)).ToArbitrary();

    /// <summary>What a page source can say about itself, for the model's checks.</summary>
    private interface ISourceProbe
    {
        ulong PagesHeldByHeap { get; }
        bool IsReturned(nuint address, int pages);
        int BadFrees { get; }
    }

    private sealed class NativeProbe(NativePages pages) : ISourceProbe
    {
        public ulong PagesHeldByHeap => (ulong)pages.PagesOutstanding;
        public bool IsReturned(nuint address, int count) =>
            !pages.IsOutstanding((void*)address, count) && pages.Returned.Count > 0 && pages.Returned[^1] == (address, count);
        public int BadFrees => pages.BadFrees;
    }

    private sealed class RegionProbe(RegionPageSource region) : ISourceProbe
    {
        private readonly int _initiallyFree = region.FreePageCount;
        public ulong PagesHeldByHeap => (ulong)(_initiallyFree - region.FreePageCount);
        public bool IsReturned(nuint address, int count) => !region.IsAllocated((byte*)address, count);
        public int BadFrees => region.BadFrees;
    }

    /// <summary>
    /// Runs ops against the heap and a model of it, checking after every step: blocks are
    /// 16-byte aligned (large ones page-aligned), zeroed, never overlap a live block, keep
    /// their contents until freed; large blocks go back to the source when freed; misuse is
    /// reported and changes nothing; statistics equal the model's; the source's ledger
    /// equals the heap's page count. At the end everything is freed and the heap keeps at
    /// most one empty slab per class.
    /// </summary>
    private static void RunAgainstModel<TPages>(SlabHeap<TPages> heap, ISourceProbe source, HeapOp[] ops)
        where TPages : struct, IPageSource
    {
        var live = new Dictionary<nuint, Block>();
        var order = new List<nuint>();                  // live blocks in allocation order, for picking
        var freedNotLive = new List<nuint>();
        var perClass = new ulong[HeapSizeClasses.Count];
        ulong bytes = 0, peak = 0, allocations = 0, frees = 0, errors = 0, large = 0;
        byte* stranger = stackalloc byte[64];           // memory the heap never held

        foreach (var op in ops)
        {
            switch (op.Kind)
            {
                case OpKind.Allocate:
                {
                    nuint size = (nuint)op.Size;
                    byte* p = heap.AllocateZeroed(size);
                    Assert.True(p != null, "allocation failed with memory to spare");
                    nuint expected = ExpectedBlockSize(size);
                    Assert.Equal(0UL, (ulong)p % 16);
                    if (expected > 2048) Assert.Equal(0UL, (ulong)p % Page);
                    Assert.Equal(expected, heap.BlockSizeOf(p));
                    for (nuint i = 0; i < size; i++) Assert.True(p[i] == 0, "block not zeroed");
                    foreach (var (q, b) in live)
                        Assert.False((nuint)p < q + b.BlockSize && q < (nuint)p + expected, "blocks overlap");
                    for (nuint i = 0; i < size; i++) p[i] = op.Pattern;
                    var block = new Block(size, expected, op.Pattern);
                    live.Add((nuint)p, block);
                    order.Add((nuint)p);
                    freedNotLive.Remove((nuint)p);
                    bytes += expected; peak = Math.Max(peak, bytes); allocations++;
                    if (block.Large) large++; else perClass[ClassIndexOf(expected)]++;
                    break;
                }
                case OpKind.Free when order.Count > 0:
                {
                    int index = op.Pick % order.Count;
                    nuint p = order[index];
                    Block b = live[p];
                    for (nuint i = 0; i < b.Size; i++) Assert.True(((byte*)p)[i] == b.Pattern, "contents changed while the block was live");
                    Assert.Equal(HeapResult.Freed, heap.Free((void*)p));
                    if (b.Large) Assert.True(source.IsReturned(p, (int)(b.BlockSize / Page)), "large block's pages not returned to the source");
                    Assert.Equal(0u, (uint)heap.BlockSizeOf((void*)p));
                    live.Remove(p);
                    order.RemoveAt(index);
                    freedNotLive.Add(p);
                    bytes -= b.BlockSize; frees++;
                    if (b.Large) large--; else perClass[ClassIndexOf(b.BlockSize)]--;
                    break;
                }
                case OpKind.FreeAgain when freedNotLive.Count > 0:
                {
                    // The address may since lie inside another block or a slab never used so far;
                    // whatever it is now, the heap must refuse it and stay as it was.
                    nuint p = freedNotLive[op.Pick % freedNotLive.Count];
                    var before = heap.Statistics;
                    HeapResult r = heap.Free((void*)p);
                    Assert.Contains(r, new[] { HeapResult.DoubleFree, HeapResult.NotBlockStart, HeapResult.NeverAllocated });
                    AssertUnchangedButOneError(before, heap.Statistics);
                    errors++;
                    break;
                }
                case OpKind.StrayFree:
                {
                    var before = heap.Statistics;
                    int which = op.Pick % 4;
                    HeapResult r;
                    if (which == 0) r = heap.Free(stranger + 16);
                    else if (which == 1) r = heap.Free((void*)0x8000_1234_5678_0000UL);  // not canonical
                    else if (which == 2 && order.Count > 0) r = heap.Free((byte*)order[op.Pick % order.Count] + 8);
                    else { Assert.Equal(HeapResult.Null, heap.Free(null)); break; }
                    Assert.Equal(which == 2 ? HeapResult.NotBlockStart : HeapResult.NotHeapMemory, r);
                    AssertUnchangedButOneError(before, heap.Statistics);
                    errors++;
                    break;
                }
            }
            AssertStatistics();
        }

        // Free everything left; the heap must give back all it can.
        foreach (var p in order.ToArray())
        {
            Block b = live[p];
            for (nuint i = 0; i < b.Size; i++) Assert.True(((byte*)p)[i] == b.Pattern, "contents changed while the block was live");
            Assert.Equal(HeapResult.Freed, heap.Free((void*)p));
            live.Remove(p); order.Remove(p);
            bytes -= b.BlockSize; frees++;
            if (b.Large) large--; else perClass[ClassIndexOf(b.BlockSize)]--;
        }
        AssertStatistics();
        var s = heap.Statistics;
        Assert.Equal(0UL, s.BytesInUse);
        int slabPages = 0;
        for (int c = 0; c < HeapSizeClasses.Count; c++)
        {
            Assert.True(heap.ClassStatistics(c).Slabs <= 1, "more than one empty slab kept");
            slabPages += HeapSizeClasses.SlabPages(c);
        }
        Assert.True(s.PagesHeld - s.MetadataPages <= (ulong)slabPages, "pages of freed blocks not given back");
        Assert.Equal(0, source.BadFrees);

        void AssertStatistics()
        {
            var st = heap.Statistics;
            Assert.Equal(bytes, st.BytesInUse);
            Assert.Equal(peak, st.PeakBytesInUse);
            Assert.Equal((ulong)live.Count, st.BlocksInUse);
            Assert.Equal(allocations, st.Allocations);
            Assert.Equal(frees, st.Frees);
            Assert.Equal(large, st.LargeBlocksInUse);
            Assert.Equal(errors, st.Errors);
            Assert.Equal(0UL, st.UseAfterFrees);
            Assert.Equal(source.PagesHeldByHeap, st.PagesHeld);
            for (int c = 0; c < HeapSizeClasses.Count; c++) Assert.Equal(perClass[c], heap.ClassStatistics(c).BlocksInUse);
        }
    }

    private static void AssertUnchangedButOneError(HeapStatistics before, HeapStatistics after)
    {
        Assert.Equal(before.BytesInUse, after.BytesInUse);
        Assert.Equal(before.BlocksInUse, after.BlocksInUse);
        Assert.Equal(before.Allocations, after.Allocations);
        Assert.Equal(before.Frees, after.Frees);
        Assert.Equal(before.PagesHeld, after.PagesHeld);
        Assert.Equal(before.Errors + 1, after.Errors);
    }

    [Property(MaxTest = 100)]
    public Property RandomSequencesMatchTheModelOverNativeRuns() =>
        Prop.ForAll(Sequences(misuse: false), Arb.From(Gen.Elements(false, true)), (ops, poisoning) =>
        {
            using var pages = new NativePages();
            var heap = new SlabHeap<NativePageSource>(pages.Source, poisoning);
            RunAgainstModel(heap, new NativeProbe(pages), ops);
        });

    [Property(MaxTest = 100)]
    public Property RandomSequencesMatchTheModelOverARegion() =>
        Prop.ForAll(Sequences(misuse: false), Arb.From(Gen.Elements(false, true)), (ops, poisoning) =>
        {
            using var region = new NativeRegion(16 << 20);
            var probe = new RegionProbe(region.Source);   // before the heap takes its first pages
            var heap = new SlabHeap<RegionPageSource>(region.Source, poisoning);
            RunAgainstModel(heap, probe, ops);
        });

    [Property(MaxTest = 100)]
    public Property DoubleAndStrayFreesAreReportedAndChangeNothing() =>
        Prop.ForAll(Sequences(misuse: true), Arb.From(Gen.Elements(false, true)), (ops, poisoning) =>
        {
            using var pages = new NativePages();
            var heap = new SlabHeap<NativePageSource>(pages.Source, poisoning);
            RunAgainstModel(heap, new NativeProbe(pages), ops);
        });

    /// <summary>
    /// Allocate n blocks of one size, free any subset, allocate as many again: the heap takes
    /// no page it did not have at its peak, and every new block is one just freed or one
    /// never handed out before (the unused tail of a slab) — freed memory is reused.
    /// </summary>
    [Property(MaxTest = 100)]
    public Property FreedMemoryIsReused() =>
        Prop.ForAll(
            Arb.From(from size in RequestSizes from n in Gen.Choose(1, 200) from mask in Gen.Choose(0, int.MaxValue) select (size, n, mask)),
            t =>
            {
                var (size, n, mask) = t;
                using var region = new NativeRegion(16 << 20);
                var heap = new SlabHeap<RegionPageSource>(region.Source, poisoning: false);
                var first = new List<nuint>();
                for (int i = 0; i < n; i++) first.Add((nuint)heap.Allocate((nuint)size));
                var rng = new Random(mask);
                var freed = first.Where(_ => rng.Next(2) == 0).ToList();
                foreach (var p in freed) Assert.Equal(HeapResult.Freed, heap.Free((void*)p));
                ulong peak = heap.Statistics.PeakPagesHeld;
                var kept = first.Except(freed).ToHashSet();
                for (int i = 0; i < freed.Count; i++)
                {
                    nuint p = (nuint)heap.Allocate((nuint)size);
                    Assert.DoesNotContain(p, kept);
                    Assert.True(freed.Contains(p) || !first.Contains(p));
                    kept.Add(p);
                }
                Assert.Equal(peak, heap.Statistics.PeakPagesHeld);
                Assert.Equal(0UL, heap.Statistics.Errors);
            });

    // ---------------------------------------------------------------- reuse and large blocks

    [Theory]
    [InlineData(1)]
    [InlineData(48)]
    [InlineData(1000)]
    [InlineData(2048)]
    [InlineData(3 * Page + 10)]
    public void AFreedBlockIsTheNextOfItsSize(int size)
    {
        using var region = new NativeRegion(1 << 20);
        var heap = new SlabHeap<RegionPageSource>(region.Source, poisoning: false);
        byte* keep = heap.Allocate((nuint)size);
        byte* a = heap.Allocate((nuint)size);
        Assert.Equal(HeapResult.Freed, heap.Free(a));
        Assert.True(heap.Allocate((nuint)size) == a);
        Assert.True(keep != a);
    }

    [Fact]
    public void LargeBlocksTakeWholePagesAndGiveThemBack()
    {
        using var pages = new NativePages();
        var heap = new SlabHeap<NativePageSource>(pages.Source, poisoning: false);
        int before = pages.PagesOutstanding;
        byte* p = heap.AllocateZeroed(3 * Page + 1);
        Assert.Equal(0UL, (ulong)p % Page);
        Assert.True(pages.IsOutstanding(p, 4));
        Assert.Equal((nuint)(4 * Page), heap.BlockSizeOf(p));
        Assert.Equal((ulong)(4 * Page), heap.Statistics.BytesInUse);
        Assert.True(heap.Owns(p + 4 * Page - 1));
        p[4 * Page - 1] = 1;   // the whole run is the caller's
        int during = pages.PagesOutstanding;
        Assert.True(during >= before + 4);

        Assert.Equal(HeapResult.NotBlockStart, heap.Free(p + Page));
        Assert.Equal(HeapResult.Freed, heap.Free(p));
        Assert.Equal(during - 4, pages.PagesOutstanding);
        Assert.Equal(((nuint)p, 4), pages.Returned[^1]);
        Assert.False(heap.Owns(p));
        Assert.Equal(0UL, heap.Statistics.LargeBlocksInUse);
    }

    [Fact]
    public void EmptySlabsBeyondOnePerClassGoBackToTheSource()
    {
        using var pages = new NativePages();
        var heap = new SlabHeap<NativePageSource>(pages.Source, poisoning: false);
        int perSlab = HeapSizeClasses.BlocksPerSlab(HeapSizeClasses.ClassOf(512));
        var blocks = new List<nuint>();
        for (int i = 0; i < perSlab * 3; i++) blocks.Add((nuint)heap.Allocate(512));
        Assert.Equal(3UL, heap.ClassStatistics(HeapSizeClasses.ClassOf(512)).Slabs);
        foreach (var b in blocks) heap.Free((void*)b);
        Assert.Equal(1UL, heap.ClassStatistics(HeapSizeClasses.ClassOf(512)).Slabs);
        Assert.Equal(2, pages.Returned.Count);
        Assert.Equal(0, pages.BadFrees);
    }

    [Fact]
    public void AllocateZeroedZeroesReusedMemory()
    {
        using var region = new NativeRegion(1 << 20);
        var heap = new SlabHeap<RegionPageSource>(region.Source, poisoning: false);
        byte* a = heap.Allocate(100);
        for (int i = 0; i < 100; i++) a[i] = 0x77;
        heap.Free(a);
        byte* b = heap.AllocateZeroed(100);
        Assert.True(a == b);
        for (int i = 0; i < 100; i++) Assert.Equal(0, b[i]);
    }

    // ---------------------------------------------------------------- poisoning

    [Fact]
    public void FreedBlocksArePoisonedWhenPoisoningIsOn()
    {
        using var region = new NativeRegion(1 << 20);
        var heap = new SlabHeap<RegionPageSource>(region.Source, poisoning: true);
        byte* keep = heap.Allocate(64);
        byte* a = heap.Allocate(64);
        for (int i = 0; i < 64; i++) a[i] = 0x11;
        heap.Free(a);
        for (int i = 0; i < 64; i++) Assert.Equal(SlabHeap<RegionPageSource>.PoisonByte, a[i]);
        // Untouched poison passes the check: the block is handed out again with no error.
        Assert.True(heap.Allocate(64) == a);
        Assert.Equal(0UL, heap.Statistics.Errors);
        Assert.True(keep != null);
    }

    [Fact]
    public void AWriteAfterFreeIsDetectedAndTheBlockQuarantined()
    {
        using var region = new NativeRegion(1 << 20);
        var heap = new SlabHeap<RegionPageSource>(region.Source, poisoning: true);
        byte* keep = heap.Allocate(64);
        byte* a = heap.Allocate(64);
        heap.Free(a);
        a[40] = 0x42;                                   // the stale write

        byte* b = heap.Allocate(64);
        Assert.True(b != a, "a block written after free was handed out again");
        var s = heap.Statistics;
        Assert.Equal(1UL, s.UseAfterFrees);
        Assert.Equal(1UL, s.QuarantinedBlocks);
        Assert.Equal(HeapError.UseAfterFree, s.LastError);
        Assert.Equal((ulong)a, s.LastErrorAddress);
        Assert.Equal(2UL, s.BlocksInUse);              // keep and b; the quarantined block is not in use

        // Quarantined for good: never handed out, and a late free of it is a double free.
        for (int i = 0; i < 200; i++) Assert.True(heap.Allocate(64) != a);
        Assert.Equal(HeapResult.DoubleFree, heap.Free(a));
        Assert.True(keep != null);
    }

    [Fact]
    public void WithoutPoisoningFreedMemoryIsLeftAsItWas()
    {
        using var region = new NativeRegion(1 << 20);
        var heap = new SlabHeap<RegionPageSource>(region.Source, poisoning: false);
        byte* keep = heap.Allocate(32);
        byte* a = heap.Allocate(32);
        for (int i = 0; i < 32; i++) a[i] = 0x5A;
        heap.Free(a);
        Assert.Equal(0x5A, a[31]);
        a[3] = 1;                                       // not detected without poisoning
        Assert.True(heap.Allocate(32) == a);
        Assert.Equal(0UL, heap.Statistics.Errors);
        Assert.True(keep != null);
    }

    [Fact]
    public void EnablingPoisoningLaterPoisonsBlocksAlreadyFree()
    {
        using var region = new NativeRegion(1 << 20);
        var heap = new SlabHeap<RegionPageSource>(region.Source, poisoning: false);
        byte* keep = heap.Allocate(200);
        byte* a = heap.Allocate(200);
        for (int i = 0; i < 200; i++) a[i] = 0x33;
        heap.Free(a);
        heap.EnablePoisoning();
        Assert.True(heap.Poisoning);
        for (int i = 0; i < (int)ExpectedBlockSize(200); i++) Assert.Equal(0xDE, a[i]);
        Assert.True(heap.Allocate(200) == a);
        Assert.Equal(0UL, heap.Statistics.Errors);
        Assert.True(keep != null);
    }

    [Fact]
    public void FreedLargeBlocksArePoisonedBeforeTheirPagesGoBack()
    {
        using var region = new NativeRegion(1 << 20);
        var heap = new SlabHeap<RegionPageSource>(region.Source, poisoning: true);
        byte* p = heap.Allocate(2 * Page);
        p[0] = 1; p[2 * Page - 1] = 2;
        heap.Free(p);
        Assert.Equal(0xDE, p[0]);                       // the region keeps the pages mapped
        Assert.Equal(0xDE, p[2 * Page - 1]);
        Assert.False(region.Source.IsAllocated(p, 2));
    }

    // ---------------------------------------------------------------- misuse

    [Fact]
    public void ADoubleFreeIsReportedAndTheBlockIsHandedOutOnce()
    {
        using var region = new NativeRegion(1 << 20);
        var heap = new SlabHeap<RegionPageSource>(region.Source, poisoning: false);
        byte* keep = heap.Allocate(24);
        byte* a = heap.Allocate(24);
        Assert.Equal(HeapResult.Freed, heap.Free(a));
        Assert.Equal(HeapResult.DoubleFree, heap.Free(a));
        var s = heap.Statistics;
        Assert.Equal(1UL, s.DoubleFrees);
        Assert.Equal(HeapError.DoubleFree, s.LastError);
        Assert.Equal((ulong)a, s.LastErrorAddress);
        Assert.Equal(1UL, s.BlocksInUse);
        byte* b = heap.Allocate(24);
        byte* c = heap.Allocate(24);
        Assert.True(b == a && c != a, "a doubly freed block was handed out twice");
        Assert.True(keep != c);
    }

    [Fact]
    public void ADoubleFreeOfALargeBlockIsReported()
    {
        using var pages = new NativePages();
        var heap = new SlabHeap<NativePageSource>(pages.Source, poisoning: false);
        byte* p = heap.Allocate(10000);
        Assert.Equal(HeapResult.Freed, heap.Free(p));
        int outstanding = pages.PagesOutstanding;
        Assert.Equal(HeapResult.DoubleFree, heap.Free(p));
        Assert.Equal(outstanding, pages.PagesOutstanding);
        Assert.Equal(0, pages.BadFrees);
        Assert.Equal(1UL, heap.Statistics.DoubleFrees);
    }

    [Fact]
    public void PointersTheHeapNeverGaveOutAreReported()
    {
        using var region = new NativeRegion(1 << 20);
        var heap = new SlabHeap<RegionPageSource>(region.Source, poisoning: false);
        byte* a = heap.Allocate(100);                    // class 112, many blocks per page
        long local = 0;
        byte[] managed = new byte[64];

        Assert.Equal(HeapResult.NotHeapMemory, heap.Free(&local));
        fixed (byte* m = managed) Assert.Equal(HeapResult.NotHeapMemory, heap.Free(m));
        Assert.Equal(HeapResult.NotHeapMemory, heap.Free((void*)0xFFFF_0000_0000_1000UL));   // not canonical
        Assert.Equal(HeapResult.NotHeapMemory, heap.Free(region.Start));                   // the region's own bookkeeping
        Assert.Equal(HeapResult.NotBlockStart, heap.Free(a + 16));
        Assert.Equal(HeapResult.NeverAllocated, heap.Free(a + 112));                      // the next block, never handed out
        Assert.Equal(HeapResult.NotBlockStart, heap.Free(a + 112 * (Page / 112)));         // the slab's slack at its end
        Assert.Equal(HeapResult.Null, heap.Free(null));

        var s = heap.Statistics;
        Assert.Equal(7UL, s.InvalidFrees);
        Assert.Equal(7UL, s.Errors);
        Assert.Equal(HeapError.InvalidFree, s.LastError);
        Assert.Equal(1UL, s.BlocksInUse);
        Assert.Equal(HeapResult.Freed, heap.Free(a));
    }

    // ---------------------------------------------------------------- exhaustion

    [Fact]
    public void ExhaustionReturnsNullAndTheHeapCarriesOn()
    {
        using var pages = new NativePages { PageLimit = 16 };
        var heap = new SlabHeap<NativePageSource>(pages.Source, poisoning: true);
        Assert.True(heap.IsReady);
        var blocks = new List<nuint>();
        while (true)
        {
            byte* p = heap.Allocate(1024);
            if (p == null) break;
            blocks.Add((nuint)p);
            Assert.True(blocks.Count < 100, "the page limit was not respected");
        }
        Assert.True(heap.Allocate(3 * Page) == null);
        Assert.True(pages.PagesOutstanding <= 16);
        Assert.Equal((ulong)blocks.Count, heap.Statistics.BlocksInUse);
        foreach (var b in blocks) Assert.Equal(HeapResult.Freed, heap.Free((void*)b));
        Assert.True(heap.Allocate(3 * Page) != null);
        Assert.Equal(0UL, heap.Statistics.Errors);
        Assert.Equal(0, pages.BadFrees);
    }

    [Fact]
    public void AHeapNeedsTwoPagesToStart()
    {
        using var pages = new NativePages { PageLimit = 1 };
        var heap = new SlabHeap<NativePageSource>(pages.Source, poisoning: false);
        Assert.False(heap.IsReady);
        Assert.Equal(0, pages.PagesOutstanding);
    }

    [Fact]
    public void HugeRequestsFailCleanly()
    {
        using var pages = new NativePages { PageLimit = 64 };
        var heap = new SlabHeap<NativePageSource>(pages.Source, poisoning: false);
        Assert.True(heap.Allocate(unchecked((nuint)(-1))) == null);
        Assert.True(heap.Allocate((nuint)1 << 50) == null);
        Assert.True(heap.Allocate(65 * Page) == null);
        Assert.Equal(0UL, heap.Statistics.BlocksInUse);
        Assert.True(heap.Allocate(16) != null);
    }
}
