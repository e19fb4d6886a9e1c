using System.Text;
using Tessera.Core.Boot;
using Tessera.Processor.Cache;
using Xunit;

namespace Tessera.Tests.Host;

/// <summary>
/// The ExCache's pure logic (kernel/Processor/ExCache/), compiled from the kernel's sources:
/// geometry and command-line validation, the set index, each replacement policy on constructed
/// scenarios, the miss protocol (victims, combined write-backs, in-flight lines, pins), zero-fill
/// bookkeeping, invalidation and write-back of ranges, counters and the latency histogram.
/// The random traces against a reference model are in ExCacheModelProperties.
/// </summary>
public sealed class ExCacheTests
{
    internal const ulong Base = 0x4000_0000;
    private const ulong KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;

    private static string Text(AsciiText t) => Encoding.ASCII.GetString(t.Bytes);

    internal static ExCacheGeometry Geometry(ulong size, ulong ways)
    {
        Assert.Equal(GeometryError.None, ExCacheGeometry.TryCreate(size, ways, out var g));
        return g;
    }

    internal static ExCache Cache(int lines, int ways, ReplacementPolicy policy = ReplacementPolicy.Lru, ulong seed = 1) =>
        new(Geometry((ulong)lines * 4096, (ulong)ways), policy, Base, seed);

    /// <summary>A miss completed with no victim (or a clean one): the line it filled.</summary>
    private static int Fill(ExCache c, int asid, ulong page, bool write = false, bool pteDirty = false)
    {
        MissPlan plan = c.OnMiss(asid, page, write);
        Assert.Equal(MissAction.Fill, plan.Action);
        if (plan.HasVictim) c.OnVictimUnmapped(ref plan, pteDirty);
        Assert.True(c.OnFillComplete(plan.Line));
        return plan.Line;
    }

    /// <summary>A miss completed; returns the plan after the victim step.</summary>
    private static MissPlan Miss(ExCache c, int asid, ulong page, bool write = false, bool pteDirty = false)
    {
        MissPlan plan = c.OnMiss(asid, page, write);
        Assert.Equal(MissAction.Fill, plan.Action);
        if (plan.HasVictim) c.OnVictimUnmapped(ref plan, pteDirty);
        Assert.True(c.OnFillComplete(plan.Line));
        return plan;
    }

    // ---------------- geometry ----------------

    [Theory]
    [InlineData(16 * MiB, 64UL, 4096, 64, 6)]      // the default: 64 sets of 64 ways
    [InlineData(16 * MiB, 1UL, 4096, 4096, 12)]    // direct-mapped
    [InlineData(16 * MiB, 4096UL, 4096, 1, 0)]     // fully associative
    [InlineData(4 * KiB, 1UL, 1, 1, 0)]            // one line
    [InlineData(48 * KiB, 3UL, 12, 4, 2)]          // ways need not be a power of two, sets must
    [InlineData(64 * GiB, 64UL, 1 << 24, 1 << 18, 18)]
    public void ValidGeometries(ulong size, ulong ways, int lines, int sets, int setBits)
    {
        ExCacheGeometry g = Geometry(size, ways);
        Assert.Equal(lines, g.Lines);
        Assert.Equal((int)ways, g.Ways);
        Assert.Equal(sets, g.Sets);
        Assert.Equal(setBits, g.SetBits);
        Assert.Equal(size, g.SizeBytes);
        Assert.Equal(sets == 1, g.FullyAssociative);
        Assert.Equal(ways == 1, g.DirectMapped);
    }

    [Theory]
    [InlineData(16 * MiB, 0UL, GeometryError.WaysZero, "excache_ways=0: a set needs at least one way")]
    [InlineData(0UL, 64UL, GeometryError.SizeZero, "excache=0: the cache needs at least one 4 KiB line per way")]
    [InlineData(16 * MiB + 1, 64UL, GeometryError.SizeNotLineMultiple, "excache=16777217 bytes is not a multiple of the 4 KiB line")]
    [InlineData(20 * MiB, 64UL, GeometryError.SetsNotPowerOfTwo,
        "excache=20 MiB with excache_ways=64 gives 80 sets, not a power of two; nearest valid sizes: 16 MiB and 32 MiB")]
    [InlineData(96 * KiB, 8UL, GeometryError.SetsNotPowerOfTwo,
        "excache=96 KiB with excache_ways=8 gives 3 sets, not a power of two; nearest valid sizes: 64 KiB and 128 KiB")]
    [InlineData(12 * KiB, 2UL, GeometryError.SizeNotMultipleOfWays,
        "excache=12 KiB holds 3 lines, not a whole number of sets of excache_ways=2 (the size must be a multiple of 4 KiB x 2 = 8 KiB); nearest valid sizes: 8 KiB and 16 KiB")]
    [InlineData(128 * KiB, 64UL, GeometryError.SizeNotMultipleOfWays,
        "excache=128 KiB holds 32 lines, not a whole number of sets of excache_ways=64 (the size must be a multiple of 4 KiB x 64 = 256 KiB); nearest valid sizes: 256 KiB")]
    [InlineData(128 * GiB, 64UL, GeometryError.TooLarge, "excache=128 GiB is more than the largest supported cache (64 GiB)")]
    public void InvalidGeometriesAreRefusedWithAClearMessage(ulong size, ulong ways, GeometryError error, string message)
    {
        Assert.Equal(error, ExCacheGeometry.TryCreate(size, ways, out ExCacheGeometry g));
        Assert.False(g.IsValid);
        var text = new AsciiText(400);
        ExCacheGeometry.Describe(error, size, ways, text);
        Assert.Equal(message, Text(text));
    }

    [Fact]
    public void AnInvalidGeometryMakesNoCache()
    {
        Assert.Throws<ArgumentException>(() => new ExCache(default, ReplacementPolicy.Lru, Base));
        Assert.Throws<ArgumentException>(() => new ExCache(Geometry(16 * KiB, 4), ReplacementPolicy.Lru, Base + 1));
    }

    // ---------------- command line ----------------

    private static CommandLine Line(string text) => new(Encoding.ASCII.GetBytes(text));

    [Fact]
    public void CommandLineDefaults()
    {
        Assert.Equal(ConfigError.None, ExCacheConfig.Parse(Line("selftest node=1 role=processor"), out var c));
        Assert.Equal(16 * MiB, c.SizeBytes);
        Assert.Equal(64UL, c.Ways);
        Assert.Equal(ReplacementPolicy.Lru, c.Policy);
        Assert.Equal(1UL, c.Seed);
        Assert.Equal(64, c.Geometry.Sets);
        var text = new AsciiText(200);
        ExCacheConfig.Describe(ConfigError.None, Line(""), c, text);
        Assert.Equal("excache: 16 MiB, 4096 lines, 64 sets x 64 ways, lru", Text(text));
    }

    [Theory]
    [InlineData("excache=8M excache_ways=8 excache_policy=fifo excache_seed=42", 8 * MiB, 8UL, ReplacementPolicy.Fifo, 42UL)]
    [InlineData("excache_policy=random excache=1m", 1 * MiB, 64UL, ReplacementPolicy.Random, 1UL)]
    [InlineData("excache_ways=1 excache_policy=lru", 16 * MiB, 1UL, ReplacementPolicy.Lru, 1UL)]
    [InlineData("excache_ways=4096", 16 * MiB, 4096UL, ReplacementPolicy.Lru, 1UL)]
    public void CommandLineValues(string line, ulong size, ulong ways, ReplacementPolicy policy, ulong seed)
    {
        Assert.Equal(ConfigError.None, ExCacheConfig.Parse(Line(line), out var c));
        Assert.Equal(size, c.SizeBytes);
        Assert.Equal(ways, c.Ways);
        Assert.Equal(policy, c.Policy);
        Assert.Equal(seed, c.Seed);
        var cache = new ExCache(c, Base);
        Assert.Equal((int)(size / 4096), cache.LineCount);
        Assert.Equal(policy, cache.Policy);
    }

    [Theory]
    [InlineData("excache=abc", ConfigError.BadSize, "excache=abc is not a size (a number with an optional K, M or G suffix)")]
    [InlineData("excache=", ConfigError.BadSize, "excache= is not a size (a number with an optional K, M or G suffix)")]
    [InlineData("excache_ways=8K", ConfigError.BadWays, "excache_ways=8K is not a number of ways")]
    [InlineData("excache_ways", ConfigError.BadWays, "excache_ways= is not a number of ways")]
    [InlineData("excache_policy=LRU", ConfigError.BadPolicy, "excache_policy=LRU is not a policy (lru, fifo or random)")]
    [InlineData("excache_policy=clock", ConfigError.BadPolicy, "excache_policy=clock is not a policy (lru, fifo or random)")]
    [InlineData("excache_seed=-1", ConfigError.BadSeed, "excache_seed=-1 is not a number")]
    [InlineData("excache=20M", ConfigError.BadGeometry,
        "excache=20 MiB with excache_ways=64 gives 80 sets, not a power of two; nearest valid sizes: 16 MiB and 32 MiB")]
    [InlineData("excache=16M excache_ways=0", ConfigError.BadGeometry, "excache_ways=0: a set needs at least one way")]
    public void CommandLineErrorsNameTheWord(string text, ConfigError error, string message)
    {
        CommandLine line = Line("selftest " + text + " node=1");
        Assert.Equal(error, ExCacheConfig.Parse(line, out var c));
        var description = new AsciiText(400);
        ExCacheConfig.Describe(error, line, c, description);
        Assert.Equal(message, Text(description));
    }

    // ---------------- set index ----------------

    [Fact]
    public void AddressSpaceZeroUsesTheLowPageNumberBitsAsLegoOSDoes()
    {
        ExCacheGeometry g = Geometry(16 * MiB, 64);
        foreach (ulong page in new ulong[] { 0, 1, 63, 64, 65, 0x400, 0x7ffffffff, 0x123456789 })
            Assert.Equal((int)(page & 63), g.SetOf(0, page));
    }

    [Theory]
    [InlineData(16 * MiB, 64UL)]
    [InlineData(64 * KiB, 1UL)]
    [InlineData(256 * KiB, 4UL)]
    public void EveryAddressSpaceMapsAContiguousRegionEvenlyOverTheSets(ulong size, ulong ways)
    {
        ExCacheGeometry g = Geometry(size, ways);
        for (int asid = 0; asid < 20; asid++)
        {
            // A region as large as the cache, at an unaligned start: exactly `ways` pages per set.
            var perSet = new int[g.Sets];
            ulong start = 0x4c3 + (ulong)asid * 977;
            for (ulong p = start; p < start + (ulong)g.Lines; p++) perSet[g.SetOf(asid, p)]++;
            Assert.All(perSet, n => Assert.Equal(g.Ways, n));
        }
    }

    [Fact]
    public void AddressSpacesAreRotatedApart()
    {
        ExCacheGeometry g = Geometry(16 * MiB, 1);  // direct-mapped: where aliasing hurts most
        var colours = new HashSet<ulong>();
        for (int asid = 0; asid < 16; asid++) colours.Add(g.ColourOf(asid));
        Assert.Equal(16, colours.Count);
        Assert.Equal(0UL, g.ColourOf(0));
        // The same stack page of two processes of one binary lands in different sets.
        ulong stackTop = 0x7ffffffff000 >> 12;
        Assert.NotEqual(g.SetOf(1, stackTop), g.SetOf(2, stackTop));
    }

    [Fact]
    public void FullyAssociativeHasOneSet()
    {
        ExCacheGeometry g = Geometry(64 * KiB, 16);
        Assert.Equal(1, g.Sets);
        foreach (ulong page in new ulong[] { 0, 1, 12345, 0x7ffffffff })
            for (int asid = 0; asid < 5; asid++) Assert.Equal(0, g.SetOf(asid, page));
    }

    [Fact]
    public void LineAddressesAndTheirInverse()
    {
        ExCache c = Cache(16, 4);
        Assert.Equal(Base, c.LineAddress(0));
        Assert.Equal(Base + 15 * 4096, c.LineAddress(15));
        Assert.True(c.TryLineOfAddress(Base + 5 * 4096 + 123, out int line));
        Assert.Equal(5, line);
        Assert.False(c.TryLineOfAddress(Base - 1, out _));
        Assert.False(c.TryLineOfAddress(Base + 16 * 4096, out _));
        Assert.Equal(8, c.FirstLineOfSet(2));
        Assert.Equal(2, c.SetOfLine(11));
    }

    // ---------------- replacement policies ----------------

    /// <summary>One set of four: fill pages 0..3, then observe 0 and 2 accessed.</summary>
    private static ExCache FourWaysWithHistory(ReplacementPolicy policy)
    {
        ExCache c = Cache(4, 4, policy);
        var lines = new int[4];
        for (ulong p = 0; p < 4; p++) lines[p] = Fill(c, 1, p);
        Assert.True(c.ObserveAccessed(lines[0]));
        Assert.True(c.ObserveAccessed(lines[2]));
        return c;
    }

    [Fact]
    public void LruEvictsTheLeastRecentlyObserved()
    {
        ExCache c = FourWaysWithHistory(ReplacementPolicy.Lru);
        MissPlan a = Miss(c, 1, 4);
        Assert.True(a.HasVictim);
        Assert.Equal(1UL, a.VictimPage);      // use order: 1, 3, 0, 2
        MissPlan b = Miss(c, 1, 5);
        Assert.Equal(3UL, b.VictimPage);
        MissPlan d = Miss(c, 1, 6);
        Assert.Equal(0UL, d.VictimPage);
        Assert.Equal(2UL, c.Counters.HitsObserved);
    }

    [Fact]
    public void FifoEvictsTheOldestFillWhateverItsUse()
    {
        ExCache c = FourWaysWithHistory(ReplacementPolicy.Fifo);
        Assert.Equal(0UL, Miss(c, 1, 4).VictimPage);
        Assert.Equal(1UL, Miss(c, 1, 5).VictimPage);
        Assert.Equal(2UL, Miss(c, 1, 6).VictimPage);
        Assert.Equal(3UL, Miss(c, 1, 7).VictimPage);
        Assert.Equal(4UL, Miss(c, 1, 8).VictimPage);
    }

    private static ulong[] RandomVictims(ulong seed, int count)
    {
        ExCache c = Cache(8, 8, ReplacementPolicy.Random, seed);
        for (ulong p = 0; p < 8; p++) Fill(c, 1, p);
        var victims = new ulong[count];
        for (int i = 0; i < count; i++) victims[i] = Miss(c, 1, 100 + (ulong)i).VictimPage;
        return victims;
    }

    [Fact]
    public void RandomIsDeterministicForASeed()
    {
        Assert.Equal(RandomVictims(42, 60), RandomVictims(42, 60));
        Assert.NotEqual(RandomVictims(42, 60), RandomVictims(43, 60));
        // A zero seed is a fixed point of xorshift: it is replaced, and still gives a sequence.
        ulong[] zero = RandomVictims(0, 60);
        Assert.True(zero.Distinct().Count() > 8);
    }

    [Theory]
    [InlineData(ReplacementPolicy.Lru)]
    [InlineData(ReplacementPolicy.Fifo)]
    [InlineData(ReplacementPolicy.Random)]
    public void NeverAVictimThatIsFillingEvictingWritingBackOrPinned(ReplacementPolicy policy)
    {
        ExCache c = Cache(8, 8, policy, seed: 7);
        var lines = new int[8];
        for (ulong p = 0; p < 8; p++) lines[p] = Fill(c, 1, p, write: p % 2 == 0);
        // Pin two lines; put one into a write-back; leave two misses in flight (one still
        // evicting, one filling).
        Assert.True(c.Pin(lines[1]));
        Assert.True(c.Pin(lines[6]));
        Assert.True(c.BeginWriteBack(lines[4]));
        MissPlan evicting = c.OnMiss(2, 50, false);
        MissPlan filling = c.OnMiss(2, 51, false);
        c.OnVictimUnmapped(ref filling, false);
        var busy = new HashSet<int> { lines[1], lines[6], lines[4], evicting.Line, filling.Line };
        Assert.Equal(5, busy.Count);
        var chosen = new HashSet<int>();
        for (ulong i = 0; i < 300; i++)
        {
            MissPlan m = c.OnMiss(3, 1000 + i, false);
            Assert.Equal(MissAction.Fill, m.Action);
            Assert.DoesNotContain(m.Line, busy);
            chosen.Add(m.Line);
            c.OnVictimUnmapped(ref m, false);
            Assert.True(c.OnFillComplete(m.Line));
        }
        if (policy == ReplacementPolicy.Random) Assert.Equal(3, chosen.Count);  // every eligible way gets picked
        Assert.Equal(0UL, c.Counters.ProtocolErrors);
    }

    [Fact]
    public void ASetWithEveryWayBusyHasNoLine()
    {
        ExCache c = Cache(4, 2);  // 2 sets of 2
        ExCacheGeometry g = c.Geometry;
        ulong[] sameSet = Enumerable.Range(0, 100).Select(i => (ulong)i).Where(p => g.SetOf(1, p) == 0).Take(4).ToArray();
        int a = Fill(c, 1, sameSet[0]);
        Assert.True(c.Pin(a));
        MissPlan b = c.OnMiss(1, sameSet[1], false);     // the free way, left filling
        Assert.Equal(MissAction.Fill, b.Action);
        MissPlan none = c.OnMiss(1, sameSet[2], false);
        Assert.Equal(MissAction.NoLine, none.Action);
        Assert.Equal(-1, none.Line);
        Assert.Equal(1UL, c.Counters.NoLineStalls);
        Assert.True(c.OnFillComplete(b.Line));
        c.Unpin(a);
        Assert.Equal(MissAction.Fill, c.OnMiss(1, sameSet[2], false).Action);
    }

    [Fact]
    public void DirectMappedPagesOfOneSetEvictEachOther()
    {
        ExCache c = Cache(8, 1);
        ulong sets = 8;
        int l0 = Fill(c, 0, 3, write: true);
        MissPlan p = Miss(c, 0, 3 + sets);       // same set: evicts the dirty page 3 at once
        Assert.Equal(l0, p.Line);
        Assert.True(p.HasVictim && p.VictimKnownDirty && p.WriteBackVictim);
        Assert.Equal(3UL, p.VictimPage);
        Assert.False(Miss(c, 0, 4).HasVictim);   // other sets are untouched
    }

    [Fact]
    public void FullyAssociativeFillsEveryLineBeforeEvicting()
    {
        ExCache c = Cache(16, 16);
        var pages = new ulong[] { 0, 16, 32, 48, 1 << 20, 7, 0x7ffffffff, 5, 21, 37, 53, 69, 85, 101, 117, 133 };
        foreach (ulong p in pages) Assert.False(Miss(c, 1, p).HasVictim);
        Assert.Equal(16, c.ResidentLines());
        Assert.True(Miss(c, 1, 999).HasVictim);
    }

    // ---------------- the miss protocol ----------------

    [Fact]
    public void ADirtyVictimIsWrittenBackWithTheMiss()
    {
        ExCache c = Cache(2, 2);
        Fill(c, 1, 10, write: true);
        Fill(c, 1, 11);
        MissPlan plan = c.OnMiss(1, 12, false);
        Assert.Equal(MissAction.Fill, plan.Action);
        Assert.Equal(FillSource.Fetch, plan.Source);
        Assert.True(plan.HasVictim);
        Assert.Equal((1, 10UL, true), (plan.VictimAsid, plan.VictimPage, plan.VictimKnownDirty));
        Assert.Equal(LineState.Evicting, c.StateOf(plan.Line));
        Assert.Equal(c.LineAddress(plan.Line), plan.LineAddress);
        c.OnVictimUnmapped(ref plan, pteDirty: false);
        Assert.True(plan.WriteBackVictim);
        Assert.Equal(LineState.Filling, c.StateOf(plan.Line));
        Assert.True(c.OnFillComplete(plan.Line));
        Assert.Equal(LineState.Clean, c.StateOf(plan.Line));
        Assert.Equal((1, 12UL), (c.OwnerOf(plan.Line), c.PageOf(plan.Line)));
        ExCacheCounters k = c.Counters;
        Assert.Equal((3UL, 1UL, 1UL, 0UL, 1UL, 1UL), (k.Misses, k.Evictions, k.DirtyEvictions, k.CleanEvictions, k.CombinedWriteBacks, k.WriteBacks));
        Assert.True(k.Consistent);
    }

    [Fact]
    public void TheDirtyBitOfTheUnmappedPteDecidesForACleanLine()
    {
        ExCache c = Cache(1, 1);
        Fill(c, 1, 10);                                     // a read miss: Clean as far as the cache knows
        MissPlan plan = c.OnMiss(1, 11, false);
        Assert.False(plan.VictimKnownDirty);
        c.OnVictimUnmapped(ref plan, pteDirty: true);       // but the CPU wrote through the mapping
        Assert.True(plan.WriteBackVictim);
        Assert.True(c.OnFillComplete(plan.Line));
        MissPlan clean = c.OnMiss(1, 12, false);
        c.OnVictimUnmapped(ref clean, pteDirty: false);
        Assert.False(clean.WriteBackVictim);
        Assert.Equal(1UL, c.Counters.CleanEvictions);
    }

    [Fact]
    public void AWriteMissFillsDirtyAndAWriteFaultOnAResidentLineDirtiesIt()
    {
        ExCache c = Cache(4, 4);
        int w = Fill(c, 1, 1, write: true);
        Assert.Equal(LineState.Dirty, c.StateOf(w));
        int r = Fill(c, 1, 2);
        Assert.Equal(LineState.Clean, c.StateOf(r));
        MissPlan again = c.OnMiss(1, 2, isWrite: true);     // write-protect fault on the read-filled page
        Assert.Equal(MissAction.Resident, again.Action);
        Assert.Equal(r, again.Line);
        Assert.Equal(LineState.Dirty, c.StateOf(r));
        Assert.Equal(1UL, c.Counters.SpuriousFaults);
        Assert.Equal(2UL, c.Counters.Misses);
        Assert.True(c.MarkDirty(r));
        Assert.False(c.MarkDirty(3));                       // a free line
    }

    [Fact]
    public void FaultsOnPagesInFlightWait()
    {
        ExCache c = Cache(1, 1);
        Fill(c, 1, 10, write: true);
        MissPlan plan = c.OnMiss(1, 11, false);
        // Evicting: both the victim and the incoming page are busy.
        Assert.Equal(LineLookup.InFlight, c.Find(1, 10, out _));
        Assert.Equal(LineLookup.InFlight, c.Find(1, 11, out _));
        Assert.Equal(MissAction.Wait, c.OnMiss(1, 10, true).Action);
        c.OnVictimUnmapped(ref plan, false);
        // Filling with the victim's write-back riding along: still both busy.
        Assert.Equal(MissAction.Wait, c.OnMiss(1, 10, false).Action);
        Assert.Equal(MissAction.Wait, c.OnMiss(1, 11, false).Action);
        Assert.Equal(3UL, c.Counters.InFlightWaits);
        Assert.True(c.OnFillComplete(plan.Line));
        Assert.Equal(LineLookup.NotCached, c.Find(1, 10, out _));
        Assert.Equal(LineLookup.Resident, c.Find(1, 11, out int line));
        Assert.Equal(plan.Line, line);
        Assert.Equal(LineLookup.NotCached, c.Find(2, 11, out _));   // another address space's page 11
    }

    [Fact]
    public void AFailedFillFreesTheLine()
    {
        ExCache c = Cache(2, 2);
        MissPlan plan = c.OnMiss(1, 0xdead, false);
        c.OnFillFailed(plan.Line);
        Assert.Equal(LineState.Invalid, c.StateOf(plan.Line));
        Assert.Equal(1UL, c.Counters.FillFailures);
        Assert.Equal(LineLookup.NotCached, c.Find(1, 0xdead, out _));
        Assert.False(Miss(c, 1, 1).HasVictim);
    }

    [Fact]
    public void CallsOutOfOrderAreRefusedAndCounted()
    {
        ExCache c = Cache(2, 2);
        int line = Fill(c, 1, 1);
        Assert.False(c.OnFillComplete(line));            // not filling
        c.OnFillFailed(line);                            // not filling
        MissPlan fake = default;
        fake.Line = line;
        fake.HasVictim = true;
        c.OnVictimUnmapped(ref fake, true);              // not evicting
        Assert.False(fake.WriteBackVictim);
        c.Unpin(line);                                   // not pinned
        Assert.False(c.OnWriteBackComplete(line));       // not writing back
        Assert.False(c.BeginWriteBack(line));            // not dirty
        Assert.False(c.OnFillComplete(-1));
        Assert.Equal(7UL, c.Counters.ProtocolErrors);
        Assert.Equal(LineState.Clean, c.StateOf(line));
        var text = new AsciiText(2000);
        c.WriteSummary(text);
        Assert.Contains("PROTOCOL ERRORS 7", Text(text));
    }

    [Fact]
    public void PinsNestAndKeepALineResident()
    {
        ExCache c = Cache(1, 1);
        int line = Fill(c, 1, 1);
        Assert.True(c.Pin(line));
        Assert.True(c.Pin(line));
        Assert.Equal(2, c.PinCount(line));
        Assert.Equal(MissAction.NoLine, c.OnMiss(1, 2, false).Action);
        c.Unpin(line);
        Assert.Equal(MissAction.NoLine, c.OnMiss(1, 2, false).Action);
        c.Unpin(line);
        Assert.True(Miss(c, 1, 2).HasVictim);
        Assert.False(c.Pin(-1));   // not a line
    }

    [Fact]
    public void OnlyResidentLinesArePinnedOrObserved()
    {
        ExCache c = Cache(2, 2);
        MissPlan filling = c.OnMiss(1, 1, false);
        Assert.False(c.Pin(filling.Line));
        Assert.False(c.ObserveAccessed(filling.Line));
        Assert.False(c.ObserveAccessed(1 - filling.Line));   // free
        Assert.Equal(0UL, c.Counters.HitsObserved);
    }

    [Fact]
    public void LatencyIsRecordedAsTheCallerMeasuresIt()
    {
        ExCache c = Cache(2, 2);
        c.RecordMissLatency(150_000);
        c.RecordMissLatency(300_000);
        Assert.Equal(2UL, c.Counters.MissLatency.Count);
        Assert.Equal(150_000UL, c.Counters.MissLatency.Min);
        Assert.Equal(300_000UL, c.Counters.MissLatency.Max);
    }

    // ---------------- zero-fill ----------------

    [Fact]
    public void FreshPagesAreZeroFilledUntilTheirDataIsWrittenBack()
    {
        ExCache c = Cache(1, 1);
        Assert.True(c.AnnounceFresh(1, 100, 10));          // mmap of 10 anonymous pages at page 100
        MissPlan a = c.OnMiss(1, 105, isWrite: true);
        Assert.Equal(FillSource.ZeroFill, a.Source);
        Assert.True(c.OnFillComplete(a.Line));
        Assert.True(c.IsFresh(1, 105));                    // written, but its data has not left

        MissPlan b = c.OnMiss(1, 110, false);              // just past the mapping: ask memory
        Assert.Equal(FillSource.Fetch, b.Source);
        c.OnVictimUnmapped(ref b, false);
        Assert.True(b.WriteBackVictim);
        Assert.False(c.IsFresh(1, 105));                   // the memory component has it now
        Assert.True(c.OnFillComplete(b.Line, zeroReply: true));

        MissPlan again = Miss(c, 1, 105);                  // so it is fetched
        Assert.Equal(FillSource.Fetch, again.Source);

        MissPlan d = Miss(c, 1, 106);                      // read-only use of a fresh page...
        Assert.Equal(FillSource.ZeroFill, d.Source);
        MissPlan e = Miss(c, 1, 107);                      // ...clean eviction...
        Assert.False(e.WriteBackVictim);
        Assert.Equal(FillSource.ZeroFill, Miss(c, 1, 106).Source);   // ...and zero-filled again

        ExCacheCounters k = c.Counters;
        Assert.Equal((6UL, 4UL, 2UL, 1UL), (k.Misses, k.ZeroFills, k.Fetches, k.ZeroReplies));
        Assert.True(k.Consistent);
    }

    [Fact]
    public void AZeroFillWithADirtyVictimWritesItBackAlone()
    {
        ExCache c = Cache(1, 1);
        c.AnnounceFresh(1, 0, 100);
        Fill(c, 1, 1, write: true);
        MissPlan plan = Miss(c, 1, 2);
        Assert.Equal(FillSource.ZeroFill, plan.Source);
        Assert.True(plan.WriteBackVictim);
        Assert.Equal((1UL, 0UL), (c.Counters.StandaloneWriteBacks, c.Counters.CombinedWriteBacks));
        Assert.True(c.Counters.Consistent);
    }

    [Fact]
    public void AZeroReplyIsOnlyAcceptedForAFetch()
    {
        ExCache c = Cache(2, 2);
        c.AnnounceFresh(1, 0, 1);
        MissPlan plan = c.OnMiss(1, 0, false);
        Assert.Equal(FillSource.ZeroFill, plan.Source);
        Assert.False(c.OnFillComplete(plan.Line, zeroReply: true));
        Assert.Equal(1UL, c.Counters.ProtocolErrors);
        Assert.True(c.OnFillComplete(plan.Line));
    }

    [Fact]
    public void MunmapMprotectAndExitEndFreshness()
    {
        ExCache c = Cache(4, 4);
        c.AnnounceFresh(1, 0, 100);
        c.AnnounceFresh(2, 0, 100);
        c.InvalidateRange(1, 10, 10);
        Assert.False(c.IsFresh(1, 15));
        Assert.True(c.IsFresh(1, 9) && c.IsFresh(1, 20));
        c.OnProtect(1, 30, 5);
        Assert.False(c.IsFresh(1, 30) || c.IsFresh(1, 34));
        Assert.True(c.IsFresh(1, 35));
        c.InvalidateAddressSpace(1);
        Assert.False(c.IsFresh(1, 0));
        Assert.True(c.IsFresh(2, 15));                      // another address space is untouched
        Assert.Equal(FillSource.Fetch, c.OnMiss(1, 50, false).Source);
    }

    [Fact]
    public void AddressSpacesBeyondTheTableAreCachedButNeverZeroFilled()
    {
        ExCache c = new(Geometry(16 * KiB, 4), ReplacementPolicy.Lru, Base, 1, maxAddressSpaces: 4);
        Assert.False(c.AnnounceFresh(4, 0, 10));
        Assert.False(c.AnnounceFresh(-1, 0, 10));
        Assert.Null(c.FreshOf(4));
        Assert.Equal(FillSource.Fetch, Miss(c, 4, 1).Source);
        Assert.True(c.AnnounceFresh(3, 0, 10));
        Assert.Equal(FillSource.ZeroFill, Miss(c, 3, 1).Source);
    }

    // ---------------- ranges ----------------

    [Fact]
    public void InvalidateRangeDropsThatAddressSpacesPagesOnly()
    {
        ExCache c = Cache(64, 4);
        for (ulong p = 0; p < 20; p++) { Fill(c, 1, p, write: p % 3 == 0); Fill(c, 2, p); }
        int dropped = c.InvalidateRange(1, 5, 10);           // pages 5..14 of address space 1
        Assert.Equal(10, dropped);
        for (ulong p = 0; p < 20; p++)
        {
            Assert.Equal(p >= 5 && p < 15 ? LineLookup.NotCached : LineLookup.Resident, c.Find(1, p, out _));
            Assert.Equal(LineLookup.Resident, c.Find(2, p, out _));
        }
        Assert.Equal(10UL, c.Counters.Invalidations);
        Assert.Equal(3UL, c.Counters.DiscardedDirty);        // 6, 9, 12: dropped, not written back
        Assert.Equal(0UL, c.Counters.WriteBacks);
        Assert.Equal(30, c.ResidentLines());
    }

    [Fact]
    public void InvalidateAddressSpaceDropsEverything()
    {
        ExCache c = Cache(32, 2);
        for (ulong p = 0; p < 12; p++) { Fill(c, 1, p * 1001, write: true); Fill(c, 2, p); }
        Assert.Equal(12, c.InvalidateAddressSpace(1));
        Assert.Equal(12, c.ResidentLines());
        Assert.Equal(12UL, c.Counters.DiscardedDirty);
        Assert.Equal(0, c.InvalidateAddressSpace(1));
    }

    [Theory]
    [InlineData(0UL, 3UL)]      // short: walked page by page
    [InlineData(0UL, 500UL)]    // long: every line scanned
    [InlineData(7UL, 13UL)]
    public void BothWalksFindTheSameLines(ulong start, ulong count)
    {
        ExCache c = Cache(64, 4);   // 16 sets
        var random = new Random(5);
        for (int i = 0; i < 200; i++)
        {
            MissPlan m = c.OnMiss(random.Next(1, 3), (ulong)random.Next(0, 40), random.Next(2) == 0);
            if (m.Action != MissAction.Fill) continue;
            if (m.HasVictim) c.OnVictimUnmapped(ref m, false);
            if (random.Next(10) > 0) c.OnFillComplete(m.Line);   // leave a few in flight
        }
        var expected = new HashSet<int>();
        for (int line = 0; line < c.LineCount; line++)
            if (c.StateOf(line) != LineState.Invalid && c.OwnerOf(line) == 1 && c.PageOf(line) >= start && c.PageOf(line) < start + count)
                expected.Add(line);
        var found = new List<int>();
        RangeWalk w = c.WalkRange(1, start, count);
        while (c.Next(ref w, out int l)) found.Add(l);
        Assert.Equal(found.Count, found.Distinct().Count());
        Assert.Superset(expected, found.ToHashSet());
        // Every line found touches the range (its own page or one it is busy with).
        foreach (int l in found.Where(l => !expected.Contains(l)))
            Assert.True(c.StateOf(l) is LineState.Filling or LineState.Evicting);
    }

    [Fact]
    public void InvalidatingALineInFlightDropsItWhenTheFillEnds()
    {
        ExCache c = Cache(2, 2);
        MissPlan plan = c.OnMiss(1, 7, true);
        Assert.Equal(1, c.InFlightIn(1, 0, 10));
        Assert.Equal(1, c.InvalidateRange(1, 0, 10));
        Assert.True(c.IsDoomed(plan.Line));
        Assert.Equal(LineLookup.NotCached, c.Find(1, 7, out _));
        Assert.False(c.OnFillComplete(plan.Line));            // do not map it
        Assert.Equal(LineState.Invalid, c.StateOf(plan.Line));
        Assert.Equal(0, c.InFlightIn(1, 0, 10));
        Assert.Equal(0UL, c.Counters.ProtocolErrors);
    }

    [Fact]
    public void AnInvalidatedVictimIsNotWrittenBack()
    {
        ExCache c = Cache(1, 1);
        Fill(c, 1, 3, write: true);
        MissPlan plan = c.OnMiss(2, 9, false);
        Assert.Equal(1, c.InvalidateRange(1, 0, 10));        // the victim's memory is freed meanwhile
        c.OnVictimUnmapped(ref plan, pteDirty: true);
        Assert.False(plan.WriteBackVictim);
        Assert.True(c.OnFillComplete(plan.Line));
        Assert.Equal((1UL, 0UL, 1UL), (c.Counters.DiscardedDirty, c.Counters.WriteBacks, c.Counters.CleanEvictions));
        Assert.True(c.Counters.Consistent);
    }

    [Fact]
    public void AnInvalidatedIncomingPageIsNotMapped()
    {
        ExCache c = Cache(1, 1);
        Fill(c, 1, 3, write: true);
        MissPlan plan = c.OnMiss(1, 9, false);
        Assert.Equal(1, c.InvalidateRange(1, 9, 1));         // the faulting page is unmapped meanwhile
        Assert.Equal(LineState.Evicting, c.StateOf(plan.Line));
        c.OnVictimUnmapped(ref plan, false);
        Assert.True(plan.WriteBackVictim);                    // page 3 is still live: its data goes out
        Assert.False(c.OnFillComplete(plan.Line));
        Assert.Equal(LineState.Invalid, c.StateOf(plan.Line));
    }

    [Fact]
    public void AWriteBackInFlightIsReportedForItsRange()
    {
        ExCache c = Cache(1, 1);
        Fill(c, 1, 3, write: true);
        MissPlan plan = c.OnMiss(1, 900, false);
        c.OnVictimUnmapped(ref plan, false);
        Assert.Equal(1, c.InFlightIn(1, 0, 10));             // munmap of page 3 must wait for it
        Assert.Equal(1, c.InFlightIn(1, 900, 1));
        Assert.Equal(0, c.InFlightIn(1, 10, 100));
        Assert.True(c.OnFillComplete(plan.Line));
        Assert.Equal(0, c.InFlightIn(1, 0, 10));
    }

    [Fact]
    public void APinnedLineInvalidatedStaysUntilUnpinned()
    {
        ExCache c = Cache(1, 1);
        int line = Fill(c, 1, 3);
        Assert.True(c.Pin(line));
        Assert.Equal(1, c.InvalidateRange(1, 3, 1));
        Assert.Equal(LineLookup.NotCached, c.Find(1, 3, out _));
        Assert.Equal(MissAction.NoLine, c.OnMiss(1, 4, false).Action);
        c.Unpin(line);
        Assert.Equal(LineState.Invalid, c.StateOf(line));
        Assert.False(Miss(c, 1, 4).HasVictim);
    }

    [Fact]
    public void DirtyLinesAreWrittenBackAndKept()
    {
        ExCache c = Cache(16, 4);
        c.AnnounceFresh(1, 0, 100);
        for (ulong p = 0; p < 8; p++) Fill(c, 1, p, write: p < 5);
        var written = new List<ulong>();
        RangeWalk w = c.WalkAddressSpace(1);
        while (c.NextDirty(ref w, out int line))
        {
            Assert.True(c.BeginWriteBack(line));
            Assert.Equal(LineState.WritingBack, c.StateOf(line));
            Assert.Equal(LineLookup.InFlight, c.Find(1, c.PageOf(line), out _));
            Assert.True(c.ObserveAccessed(line));           // still mapped for reads
            if (c.PageOf(line) == 2) Assert.True(c.MarkDirty(line));   // written again meanwhile
            written.Add(c.PageOf(line));
            Assert.True(c.OnWriteBackComplete(line));
            Assert.Equal(c.PageOf(line) == 2 ? LineState.Dirty : LineState.Clean, c.StateOf(line));
        }
        Assert.Equal(new ulong[] { 0, 1, 2, 3, 4 }, written.Order());
        Assert.Equal((5UL, 5UL), (c.Counters.FlushWriteBacks, c.Counters.WriteBacks));
        Assert.False(c.IsFresh(1, 0) || c.IsFresh(1, 4));
        Assert.True(c.IsFresh(1, 5));
        Assert.True(c.Counters.Consistent);
    }

    [Fact]
    public void ALineWritingBackIsNeitherEvictedNorLost()
    {
        ExCache c = Cache(2, 2);
        int a = Fill(c, 1, 0, write: true);
        Fill(c, 1, 2);
        Assert.True(c.BeginWriteBack(a));
        MissPlan m = Miss(c, 1, 4);
        Assert.NotEqual(a, m.Line);
        Assert.Equal(1, c.InvalidateRange(1, 0, 1));          // munmap during the write-back
        Assert.False(c.OnWriteBackComplete(a));
        Assert.Equal(LineState.Invalid, c.StateOf(a));
    }

    // ---------------- counters and histogram ----------------

    [Theory]
    [InlineData(0UL, 0)]
    [InlineData(1UL, 0)]
    [InlineData(2UL, 1)]
    [InlineData(3UL, 1)]
    [InlineData(4UL, 2)]
    [InlineData(1023UL, 9)]
    [InlineData(1024UL, 10)]
    [InlineData(ulong.MaxValue, 63)]
    public void LatencyBuckets(ulong ns, int bucket)
    {
        Assert.Equal(bucket, LatencyHistogram.BucketOf(ns));
        Assert.InRange(ns, LatencyHistogram.BucketStart(bucket), LatencyHistogram.BucketEnd(bucket));
    }

    [Fact]
    public void PercentilesAreBucketBounds()
    {
        var h = new LatencyHistogram();
        Assert.Equal(0UL, h.Percentile(500));
        for (ulong ns = 1; ns <= 1000; ns++) h.Record(ns);
        Assert.Equal(1000UL, h.Count);
        Assert.Equal((1UL, 1000UL, 500UL), (h.Min, h.Max, h.Mean));
        Assert.Equal(511UL, h.Percentile(500));   // the 500th value (500) is in [256, 512)
        Assert.Equal(1000UL, h.Percentile(990));  // in [512, 1024), clamped to the largest seen
        Assert.Equal(1UL, h.Percentile(0));
        Assert.Equal(256UL, h.Bucket(8));
        var text = new AsciiText(4000);
        h.WriteTo(text, "");
        string s = Text(text);
        Assert.StartsWith("miss latency: 1000 samples, min 1 ns, mean 500 ns, p50 <= 511 ns, p99 <= 1000 ns, max 1000 ns\n", s);
        Assert.Contains("  [        512,        1024) ns       489 ########################################\n", s);
        Assert.Contains("  [          0,           2) ns         1 #\n", s);
        h.Clear();
        Assert.Equal((0UL, 0UL, 0UL), (h.Count, h.Min, h.Max));
    }

    [Fact]
    public void TheSummaryShowsGeometryCountersAndLatency()
    {
        ExCache c = new(Geometry(16 * KiB, 2), ReplacementPolicy.Fifo, 0x12_3400_0000UL);
        c.AnnounceFresh(1, 0, 1);
        Fill(c, 1, 0, write: true);
        Fill(c, 1, 2);
        Miss(c, 1, 4);
        c.RecordMissLatency(200_000);
        var text = new AsciiText(4000);
        c.WriteSummary(text);
        string s = Text(text);
        Assert.Equal(
            "excache: 16 KiB at 0x1234000000, 4 lines, 2 sets x 2 ways, fifo, 2 lines in use\n" +
            "excache: misses 3 (zero-filled 1, fetched 2, of which zero replies 0), hits observed 0\n" +
            "excache: evictions 1 (clean 0, dirty 1), write-backs 1 (with the miss 1, alone 0, flushes 0)\n" +
            "excache: invalidated 0 (dirty dropped 0), fill failures 0, waits 0, stalls 0, spurious 0\n" +
            "excache: miss latency: 1 samples, min 200000 ns, mean 200000 ns, p50 <= 200000 ns, p99 <= 200000 ns, max 200000 ns\n" +
            "excache:   [     131072,      262144) ns         1 ########################################\n", s);
        Assert.False(text.Truncated);
    }

    [Fact]
    public void CountersCopyAndClear()
    {
        ExCache c = Cache(2, 2);
        Fill(c, 1, 0);
        c.RecordMissLatency(5);
        var copy = new ExCacheCounters();
        copy.CopyFrom(c.Counters);
        Assert.Equal((1UL, 1UL), (copy.Misses, copy.MissLatency.Count));
        c.Counters.Clear();
        Assert.Equal((0UL, 0UL, 1UL), (c.Counters.Misses, c.Counters.MissLatency.Count, copy.Misses));
    }

    [Fact]
    public void TextIsTruncatedNotOverrun()
    {
        var t = new AsciiText(8);
        t.Append("excache: ").Append(12345UL);
        Assert.Equal("excache:", Text(t));
        Assert.True(t.Truncated);
        t.Clear();
        t.Append(-42L).Append(' ').Append(long.MinValue);
        Assert.Equal("-42 -922", Text(t));
        t.Clear();
        t.AppendSize(1536);
        Assert.Equal("1536 B", Text(t));
    }
}
