using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Tessera.Processor.Cache;
using Xunit;

namespace Tessera.Tests.Host;

/// <summary>
/// The ExCache driven through random traces exactly as the processor's fault handler will
/// drive it (MissPlan's protocol: unmap the victim and take its PTE dirty bit, write back,
/// fetch or zero-fill, map), with a simulated memory component, simulated PTE dirty bits and
/// real page contents, checked after every step against a plain reference model of a
/// set-associative cache with the same policy:
///   - the pages cached in every set, their dirty flags and pins equal the model's;
///   - victims are the model's (LRU: least recently used; FIFO: oldest fill; random: any
///     unpinned page of the set - the model follows the cache's pick and checks it);
///   - write-backs happen exactly for dirty victims, in the model's order, each version of a
///     page at most once, and a fresh page is zero-filled exactly when the model says so;
///   - every read sees the last value written: nothing is lost through evictions, write-backs,
///     zero-fills, munmap/mmap, exit or flushes.
/// </summary>
public sealed class ExCacheModelProperties
{
    // ---------------- traces ----------------

    public abstract record Op;
    public sealed record Access(int Asid, int Page, bool Write, bool ReportDirtyNow) : Op;
    /// <summary>The sampler reports every pending PTE dirty bit.</summary>
    public sealed record Harvest : Op;
    /// <summary>munmap of a range, then mmap of fresh anonymous memory at the same place.</summary>
    public sealed record Remap(int Asid, int Start, int Count) : Op;
    /// <summary>The process exits; a new one gets the same address-space id.</summary>
    public sealed record Exit(int Asid) : Op;
    public sealed record Protect(int Asid, int Start, int Count) : Op;
    public sealed record PinPage(int Asid, int Page) : Op;
    public sealed record UnpinOne(int Index) : Op;
    /// <summary>Every dirty line of the address space written back and kept (what fork needs).</summary>
    public sealed record Flush(int Asid) : Op;

    public sealed record Scenario(int Lines, int Ways, int Pages, int Spaces, ulong Seed, bool[] Fresh, Op[] Ops)
    {
        public override string ToString() =>
            $"{Lines} lines / {Ways} ways, {Pages} pages x {Spaces} spaces, seed {Seed}, fresh [{string.Join(",", Fresh)}]\n  " +
            string.Join("\n  ", Ops.Select(o => o.ToString()));
    }

    private static readonly (int Lines, int Ways)[] Shapes =
    [
        (1, 1), (2, 1), (2, 2), (4, 1), (4, 2), (4, 4), (6, 3), (8, 2), (8, 8), (12, 3), (16, 1), (16, 4), (16, 16), (24, 3),
    ];

    private static Gen<Op> OpGen(int pages, int spaces) =>
        Gen.Frequency(
            (60, from a in Gen.Choose(0, spaces - 1)
                 from hot in Gen.Frequency((1, Gen.Constant(true)), (1, Gen.Constant(false)))
                 from p in hot ? Gen.Choose(0, Math.Min(pages, 6) - 1) : Gen.Choose(0, pages - 1)
                 from w in Gen.Frequency((3, Gen.Constant(false)), (2, Gen.Constant(true)))
                 from now in Gen.Elements(true, false)
                 select (Op)new Access(a, p, w, now)),
            (3, Gen.Constant((Op)new Harvest())),
            (3, from a in Gen.Choose(0, spaces - 1) from s in Gen.Choose(0, pages - 1) from n in Gen.Choose(1, 6)
                select (Op)new Remap(a, s, n)),
            (1, Gen.Choose(0, spaces - 1).Select(a => (Op)new Exit(a))),
            (2, from a in Gen.Choose(0, spaces - 1) from s in Gen.Choose(0, pages - 1) from n in Gen.Choose(1, 6)
                select (Op)new Protect(a, s, n)),
            (3, from a in Gen.Choose(0, spaces - 1) from p in Gen.Choose(0, pages - 1) select (Op)new PinPage(a, p)),
            (3, Gen.Choose(0, 7).Select(i => (Op)new UnpinOne(i))),
            (2, Gen.Choose(0, spaces - 1).Select(a => (Op)new Flush(a))));

    private static Gen<Scenario> Scenarios =>
        from shape in Gen.Elements(Shapes)
        from pages in Gen.Choose(Math.Max(2, shape.Lines / 2), 3 * shape.Lines + 3)
        from spaces in Gen.Choose(1, 3)
        from seed in Gen.Choose(0, int.MaxValue)
        from fresh in Gen.ArrayOf(Gen.Elements(true, false), 3)
        from n in Gen.Choose(0, 250)
        from ops in Gen.ArrayOf(OpGen(pages, spaces), n)
        select new Scenario(shape.Lines, shape.Ways, pages, spaces, (ulong)seed, fresh, ops);

    [Property(MaxTest = 400)]
    public Property LruMatchesTheModel() => Prop.ForAll(Scenarios.ToArbitrary(), s => new Simulation(s, ReplacementPolicy.Lru).Run());

    [Property(MaxTest = 400)]
    public Property FifoMatchesTheModel() => Prop.ForAll(Scenarios.ToArbitrary(), s => new Simulation(s, ReplacementPolicy.Fifo).Run());

    [Property(MaxTest = 400)]
    public Property RandomMatchesTheModel() => Prop.ForAll(Scenarios.ToArbitrary(), s => new Simulation(s, ReplacementPolicy.Random).Run());

    /// <summary>A long trace through the default geometry's shape, scaled down: many sets of many ways.</summary>
    [Theory]
    [InlineData(ReplacementPolicy.Lru)]
    [InlineData(ReplacementPolicy.Fifo)]
    [InlineData(ReplacementPolicy.Random)]
    public void ALongTraceOverManySetsMatchesTheModel(ReplacementPolicy policy)
    {
        var random = new Random(2024);
        int pages = 600;
        var ops = new List<Op>();
        for (int i = 0; i < 20000; i++)
        {
            int r = random.Next(1000);
            if (r < 960)
            {
                // Mostly a sequential sweep with a hot set, as a program scanning an array does.
                int page = r < 500 ? (i / 3) % pages : random.Next(r < 800 ? 40 : pages);
                ops.Add(new Access(random.Next(2), page, random.Next(3) == 0, random.Next(2) == 0));
            }
            else if (r < 970) ops.Add(new Harvest());
            else if (r < 980) ops.Add(new Remap(random.Next(2), random.Next(pages), random.Next(1, 40)));
            else if (r < 985) ops.Add(new Flush(random.Next(2)));
            else if (r < 992) ops.Add(new PinPage(random.Next(2), random.Next(40)));
            else if (r < 999) ops.Add(new UnpinOne(random.Next(8)));
            else ops.Add(new Exit(random.Next(2)));
        }
        new Simulation(new Scenario(256, 16, pages, 2, 99, [true, false, true], ops.ToArray()), policy).Run();
    }

    // ---------------- the simulation and its model ----------------

    private sealed class Entry(int asid, ulong page, bool dirty)
    {
        public readonly int Asid = asid;
        public readonly ulong Page = page;
        public bool Dirty = dirty;
        public bool Pinned;
        public (int, ulong) Key => (Asid, Page);
    }

    private sealed class Simulation
    {
        private readonly Scenario _s;
        private readonly ReplacementPolicy _policy;
        private readonly ExCache _cache;

        // The simulated processor and memory component.
        private readonly Dictionary<(int, ulong), int> _pageTable = new();
        private readonly long[] _lineData;
        private readonly bool[] _pteDirty;
        private readonly Dictionary<(int, ulong), long> _memory = new();
        private readonly List<((int, ulong) Key, long Value)> _writeBacks = new();
        private readonly List<(int, ulong)> _pins = new();
        private long _version;

        // The model.
        private readonly List<Entry>[] _sets;
        private readonly HashSet<(int, ulong)> _fresh = new();
        private readonly Dictionary<(int, ulong), long> _truth = new();
        private readonly List<(int, ulong)> _expectedEvictionWriteBacks = new();
        private readonly List<(int, ulong)> _evictionWriteBacks = new();
        private ulong _evictions, _dirtyEvictions;

        public Simulation(Scenario s, ReplacementPolicy policy)
        {
            _s = s;
            _policy = policy;
            _cache = new ExCache(ExCacheTests.Geometry((ulong)s.Lines * 4096, (ulong)s.Ways), policy, ExCacheTests.Base, s.Seed);
            _lineData = new long[s.Lines];
            _pteDirty = new bool[s.Lines];
            _sets = new List<Entry>[_cache.Geometry.Sets];
            for (int i = 0; i < _sets.Length; i++) _sets[i] = new List<Entry>();
            for (int a = 0; a < s.Spaces; a++) AnnounceProcess(a);
        }

        private void AnnounceProcess(int asid)
        {
            if (!_s.Fresh[asid]) return;
            Assert.True(_cache.AnnounceFresh(asid, 0, (ulong)_s.Pages));
            for (int p = 0; p < _s.Pages; p++) _fresh.Add((asid, (ulong)p));
        }

        private bool Forgot(int asid) => _cache.FreshOf(asid) is FreshPages f && f.ForgottenPages > 0;

        private long Truth((int, ulong) key) => _truth.TryGetValue(key, out long v) ? v : 0;
        private List<Entry> SetOf((int Asid, ulong Page) key) => _sets[_cache.SetOf(key.Asid, key.Page)];
        private Entry? Model((int, ulong) key) => SetOf(key).FirstOrDefault(e => e.Key == key);

        public void Run()
        {
            foreach (Op op in _s.Ops)
            {
                switch (op)
                {
                    case Access a: DoAccess(a); break;
                    case Harvest: HarvestDirtyBits(_ => true); break;
                    case Remap r: DoRemap(r); break;
                    case Exit e: DoExit(e); break;
                    case Protect p: DoProtect(p); break;
                    case PinPage p: DoPin(p); break;
                    case UnpinOne u: DoUnpin(u); break;
                    case Flush f: DoFlush(f); break;
                }
                CheckAgainstModel();
            }
            // Nothing lost: every page reads back its last written value, from its line or from memory.
            for (int a = 0; a < _s.Spaces; a++)
                for (int p = 0; p < _s.Pages; p++)
                {
                    var key = (a, (ulong)p);
                    long seen = _pageTable.TryGetValue(key, out int line) ? _lineData[line] : _memory.GetValueOrDefault(key);
                    Assert.Equal(Truth(key), seen);
                }
            Assert.Equal(_expectedEvictionWriteBacks, _evictionWriteBacks);
            // Each version of a page is written back at most once: no redundant write-backs.
            Assert.Equal(_writeBacks.Count, _writeBacks.Distinct().Count());
        }

        private void DoAccess(Access a)
        {
            var key = (a.Asid, (ulong)a.Page);
            if (_pageTable.TryGetValue(key, out int line))
            {
                // A hit: the hardware uses the mapping; the sampler reports the accessed bit.
                Entry e = Model(key) ?? throw new InvalidOperationException("cached page missing from the model");
                if (_policy == ReplacementPolicy.Lru) { SetOf(key).Remove(e); SetOf(key).Add(e); }
                Assert.True(_cache.ObserveAccessed(line));
                Assert.Equal(Truth(key), _lineData[line]);
                if (a.Write) Write(key, line, e, a.ReportDirtyNow);
                return;
            }

            List<Entry> set = SetOf(key);
            MissPlan plan = _cache.OnMiss(a.Asid, (ulong)a.Page, a.Write);
            if (set.Count == _s.Ways && set.All(x => x.Pinned))
            {
                Assert.Equal(MissAction.NoLine, plan.Action);
                return;
            }
            Assert.Equal(MissAction.Fill, plan.Action);
            // Zero-filled exactly when fresh, unless the record overflowed and forgot the page (then fetched).
            if (plan.Source == FillSource.ZeroFill || !Forgot(a.Asid)) Assert.Equal(_fresh.Contains(key) ? FillSource.ZeroFill : FillSource.Fetch, plan.Source);
            Assert.Equal((a.Asid, (ulong)a.Page, a.Write), (plan.Asid, plan.Page, plan.IsWrite));
            Assert.Equal(_cache.LineAddress(plan.Line), plan.LineAddress);
            Assert.Equal(_cache.SetOf(a.Asid, (ulong)a.Page), _cache.SetOfLine(plan.Line));

            if (set.Count < _s.Ways) Assert.False(plan.HasVictim);
            else
            {
                Assert.True(plan.HasVictim);
                Entry expected = _policy == ReplacementPolicy.Random
                    ? set.Single(x => x.Key == (plan.VictimAsid, plan.VictimPage))
                    : set.First(x => !x.Pinned);
                Assert.False(expected.Pinned);
                Assert.Equal(expected.Key, (plan.VictimAsid, plan.VictimPage));

                // Unmap the victim: the exchanged PTE's dirty bit is final.
                var victim = expected.Key;
                int vline = _pageTable[victim];
                Assert.Equal(plan.Line, vline);
                _pageTable.Remove(victim);
                bool pteDirty = _pteDirty[vline];
                _pteDirty[vline] = false;
                Assert.Equal(expected.Dirty, plan.VictimKnownDirty || pteDirty);
                _cache.OnVictimUnmapped(ref plan, pteDirty);
                Assert.Equal(expected.Dirty, plan.WriteBackVictim);
                _evictions++;
                if (expected.Dirty)
                {
                    _dirtyEvictions++;
                    _expectedEvictionWriteBacks.Add(victim);
                    _fresh.Remove(victim);
                }
                if (plan.WriteBackVictim)
                {
                    // Copied out of the line into the request before the fill lands there.
                    Assert.Equal(Truth(victim), _lineData[vline]);
                    _memory[victim] = _lineData[vline];
                    _writeBacks.Add((victim, _lineData[vline]));
                    _evictionWriteBacks.Add(victim);
                }
                set.Remove(expected);
            }

            bool zeroReply = false;
            if (plan.Source == FillSource.ZeroFill)
            {
                Assert.False(_memory.ContainsKey(key), "zero-filled a page the memory component holds data for");
                _lineData[plan.Line] = 0;
            }
            else if (_memory.TryGetValue(key, out long stored)) _lineData[plan.Line] = stored;
            else { zeroReply = true; _lineData[plan.Line] = 0; }
            Assert.True(_cache.OnFillComplete(plan.Line, zeroReply));
            _pageTable[key] = plan.Line;
            _pteDirty[plan.Line] = false;
            var entry = new Entry(a.Asid, (ulong)a.Page, a.Write);
            set.Add(entry);
            Assert.Equal(Truth(key), _lineData[plan.Line]);
            if (a.Write)
            {
                // The write miss filled the line Dirty and mapped it writable: the write needs no report.
                long v = ++_version;
                _lineData[plan.Line] = v;
                _truth[key] = v;
            }
        }

        private void Write((int, ulong) key, int line, Entry e, bool reportNow)
        {
            long v = ++_version;
            _lineData[line] = v;
            _truth[key] = v;
            e.Dirty = true;
            if (reportNow) Assert.True(_cache.MarkDirty(line));   // a write-protect fault
            else _pteDirty[line] = true;                          // the CPU set D in the PTE
        }

        private void HarvestDirtyBits(Func<(int Asid, ulong Page), bool> which)
        {
            foreach (var (key, line) in _pageTable)
                if (which(key) && _pteDirty[line])
                {
                    Assert.True(_cache.MarkDirty(line));
                    _pteDirty[line] = false;
                }
        }

        /// <summary>munmap: unpin (the copy ends first), clear the PTEs, invalidate, free memory; then mmap fresh.</summary>
        private void Unmap(int asid, Func<ulong, bool> inRange, Func<int> invalidate)
        {
            foreach (var key in _pins.Where(k => k.Item1 == asid && inRange(k.Item2)).ToList()) Unpin(key);
            foreach (var key in _pageTable.Keys.Where(k => k.Item1 == asid && inRange(k.Item2)).ToList())
            {
                _pteDirty[_pageTable[key]] = false;
                _pageTable.Remove(key);
            }
            int expected = _sets.Sum(set => set.Count(e => e.Asid == asid && inRange(e.Page)));
            Assert.Equal(expected, invalidate());
            foreach (var set in _sets) set.RemoveAll(e => e.Asid == asid && inRange(e.Page));
            foreach (var key in _memory.Keys.Where(k => k.Item1 == asid && inRange(k.Item2)).ToList()) _memory.Remove(key);
            foreach (var key in _truth.Keys.Where(k => k.Item1 == asid && inRange(k.Item2)).ToList()) _truth.Remove(key);
            _fresh.RemoveWhere(k => k.Item1 == asid && inRange(k.Item2));
        }

        private void DoRemap(Remap r)
        {
            ulong start = (ulong)r.Start, end = start + (ulong)r.Count;
            Unmap(r.Asid, p => p >= start && p < end, () => _cache.InvalidateRange(r.Asid, start, (ulong)r.Count));
            Assert.Equal(0, _cache.InFlightIn(r.Asid, start, (ulong)r.Count));
            Assert.True(_cache.AnnounceFresh(r.Asid, start, (ulong)r.Count));
            for (ulong p = start; p < end; p++) _fresh.Add((r.Asid, p));
        }

        private void DoExit(Exit e)
        {
            Unmap(e.Asid, _ => true, () => _cache.InvalidateAddressSpace(e.Asid));
            AnnounceProcess(e.Asid);
        }

        private void DoProtect(Protect p)
        {
            _cache.OnProtect(p.Asid, (ulong)p.Start, (ulong)p.Count);
            _fresh.RemoveWhere(k => k.Item1 == p.Asid && k.Item2 >= (ulong)p.Start && k.Item2 < (ulong)(p.Start + p.Count));
        }

        private void DoPin(PinPage p)
        {
            var key = (p.Asid, (ulong)p.Page);
            if (!_pageTable.TryGetValue(key, out int line) || _pins.Contains(key)) return;
            Assert.True(_cache.Pin(line));
            Model(key)!.Pinned = true;
            _pins.Add(key);
        }

        private void DoUnpin(UnpinOne u)
        {
            if (_pins.Count > 0) Unpin(_pins[u.Index % _pins.Count]);
        }

        private void Unpin((int, ulong) key)
        {
            _cache.Unpin(_pageTable[key]);
            Model(key)!.Pinned = false;
            _pins.Remove(key);
        }

        private void DoFlush(Flush f)
        {
            // Write-protect and harvest first, so the cache knows every dirty line; then write them back.
            HarvestDirtyBits(k => k.Asid == f.Asid);
            var flushed = new HashSet<(int, ulong)>();
            RangeWalk w = _cache.WalkAddressSpace(f.Asid);
            while (_cache.NextDirty(ref w, out int line))
            {
                var key = (_cache.OwnerOf(line), _cache.PageOf(line));
                Assert.True(_cache.BeginWriteBack(line));
                Assert.Equal(Truth(key), _lineData[line]);
                _memory[key] = _lineData[line];
                _writeBacks.Add((key, _lineData[line]));
                Assert.True(flushed.Add(key));
                Assert.True(_cache.OnWriteBackComplete(line));
            }
            var expected = _sets.SelectMany(s => s).Where(e => e.Asid == f.Asid && e.Dirty).ToList();
            Assert.Equal(expected.Select(e => e.Key).ToHashSet(), flushed);
            foreach (Entry e in expected) { e.Dirty = false; _fresh.Remove(e.Key); }
        }

        private void CheckAgainstModel()
        {
            ExCacheCounters k = _cache.Counters;
            Assert.Equal(0UL, k.ProtocolErrors);
            Assert.True(k.Consistent);
            Assert.Equal(_evictions, k.Evictions);
            Assert.Equal(_dirtyEvictions, k.DirtyEvictions);
            Assert.Equal((ulong)_writeBacks.Count, k.WriteBacks);

            for (int s = 0; s < _sets.Length; s++)
            {
                var cached = new HashSet<(int, ulong)>();
                for (int w = 0; w < _s.Ways; w++)
                {
                    int line = _cache.FirstLineOfSet(s) + w;
                    LineState state = _cache.StateOf(line);
                    Assert.True(state is LineState.Invalid or LineState.Clean or LineState.Dirty, $"line {line} left {state}");
                    Assert.False(_cache.IsDoomed(line));
                    if (state == LineState.Invalid) continue;
                    var key = (_cache.OwnerOf(line), _cache.PageOf(line));
                    Assert.True(cached.Add(key), "a page cached twice");
                    Entry e = Model(key) ?? throw new InvalidOperationException($"line {line} caches {key}, the model does not");
                    Assert.Equal(e.Dirty, state == LineState.Dirty || _pteDirty[line]);
                    Assert.Equal(e.Pinned ? 1 : 0, _cache.PinCount(line));
                    Assert.Equal(line, _pageTable[key]);
                    Assert.Equal(LineLookup.Resident, _cache.Find(key.Item1, key.Item2, out int found));
                    Assert.Equal(line, found);
                }
                Assert.Equal(_sets[s].Select(e => e.Key).ToHashSet(), cached);
            }
            Assert.Equal(_sets.Sum(s => s.Count), _pageTable.Count);
            for (int a = 0; a < _s.Spaces; a++)
                for (int p = 0; p < _s.Pages; p++)
                {
                    // The record only ever forgets: fresh in the cache means fresh in the model.
                    bool fresh = _cache.IsFresh(a, (ulong)p);
                    if (fresh || !Forgot(a)) Assert.Equal(_fresh.Contains((a, (ulong)p)), fresh);
                }
        }
    }
}
