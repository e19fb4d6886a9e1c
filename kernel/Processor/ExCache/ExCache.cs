// The ExCache: the processor's software cache of user pages in a reserved region of its own
// DRAM (DESIGN §1, issue 5 item 3; LegoOS's pcache, managers/processor/pcache/).
//
// What this class is: the bookkeeping of the lines - which page of which address space each
// line holds, its state, its replacement information - and the decisions: which line a miss
// gets, which victim it evicts, whether that victim must be written back, when a page may be
// zero-filled. What it is not: it touches no page table, no TLB, no line's bytes and no
// network. The processor's fault handler does those, in the order MissPlan describes, and
// reports back. That split keeps every decision host-testable against a reference model
// (tests/Tessera.Tests/Host/ExCacheTests.cs).
//
// Hits cost the cache nothing: the user page table maps the page straight to its line, so a
// hit is a plain memory access and never reaches this code. The cache learns about hits only
// from the accessed bits the caller samples and reports (ObserveAccessed) - periodically, or
// over a set just before a miss in it picks a victim - and learns about writes from write
// faults or reported dirty bits (MarkDirty, and the dirty bit read when a victim is unmapped).
//
// Layout: line i is the 4 KiB at RegionBase + i x 4 KiB; the lines of set s are
// s x ways ... s x ways + ways - 1, so a set's metadata is contiguous (LegoOS strides the ways
// of a set across the region instead; nothing here depends on either). The metadata lives in a
// kernel-heap array beside the region (LegoOS puts it at the region's end): 48 bytes a line,
// 192 KiB for the default 16 MiB.
//
// A miss scans the ways of one set (the "small per-set tag check"): to find a free way, to
// see whether the page is already cached or in flight, and to pick a victim. That is O(ways)
// on the miss path only, next to a network round trip.
//
// Not thread-safe: the caller holds one lock around every call (the ExCache's calls are short;
// the RPCs between them happen outside the lock - that is what the in-flight states are for).
// Pure logic: compiled into the processor image and the host tests.
using System;

namespace Tessera.Processor.Cache
{
    public sealed partial class ExCache
    {
        private struct Line
        {
            public LineState State;
            public byte Flags;
            public ushort Pins;
            /// <summary>The page the line holds or is filling (the victim's while Evicting).</summary>
            public int Asid;
            public ulong Page;
            /// <summary>Evicting: the page the miss will fill. Filling with WriteBackPending: the victim being written back.</summary>
            public int OtherAsid;
            public ulong OtherPage;
            /// <summary>LRU: the cache clock when the line was filled or last observed accessed.</summary>
            public ulong LastUse;
            /// <summary>FIFO: the cache clock when the line was allocated to its page.</summary>
            public ulong FilledAt;
        }

        // Line flags.
        /// <summary>The line's page was invalidated while in flight or pinned: drop the line when that ends.</summary>
        private const byte Doomed = 1;
        /// <summary>Evicting: the page the miss is for was invalidated; the fill will be dropped.</summary>
        private const byte IncomingDoomed = 2;
        /// <summary>Filling: Other is the victim whose data travels with (or before) this fill.</summary>
        private const byte WriteBackPending = 4;
        /// <summary>Evicting: the victim was Dirty when chosen.</summary>
        private const byte VictimDirty = 8;
        /// <summary>Filling/Evicting: the miss was a write, the line becomes Dirty when filled.</summary>
        private const byte FillWrite = 16;
        /// <summary>WritingBack: written again (dirty bit reported) during the write-back: Dirty when it completes.</summary>
        private const byte Redirtied = 32;
        /// <summary>Filling: the page is being fetched (not zero-filled).</summary>
        private const byte Fetching = 64;

        public const int DefaultMaxAddressSpaces = 64;
        public const int DefaultFreshRanges = 128;

        private readonly Line[] _lines;
        private readonly FreshPages?[] _fresh;
        private readonly int _freshRanges;
        private XorShift64 _random;
        private ulong _clock;

        public readonly ExCacheGeometry Geometry;
        public readonly ReplacementPolicy Policy;
        /// <summary>Physical address of line 0 (4 KiB aligned).</summary>
        public readonly ulong RegionBase;
        public readonly ExCacheCounters Counters = new ExCacheCounters();

        /// <param name="geometry">A valid geometry (ExCacheGeometry.TryCreate / ExCacheConfig.Parse).</param>
        /// <param name="regionBase">Physical address of the reserved region, 4 KiB aligned, geometry.SizeBytes long.</param>
        /// <param name="seed">The random policy's xorshift seed.</param>
        /// <param name="maxAddressSpaces">Address-space ids 0 .. this - 1 get zero-fill bookkeeping; others are cached but never zero-filled.</param>
        /// <param name="freshRanges">Fresh page ranges remembered per address space (FreshPages).</param>
        public ExCache(ExCacheGeometry geometry, ReplacementPolicy policy, ulong regionBase, ulong seed = ExCacheConfig.DefaultSeed,
            int maxAddressSpaces = DefaultMaxAddressSpaces, int freshRanges = DefaultFreshRanges)
        {
            if (!geometry.IsValid) throw new ArgumentException("ExCache: invalid geometry (validate it with ExCacheGeometry.TryCreate)");
            if ((regionBase & (ExCacheGeometry.LineSize - 1)) != 0) throw new ArgumentException("ExCache: region base not 4 KiB aligned");
            Geometry = geometry;
            Policy = policy;
            RegionBase = regionBase;
            _lines = new Line[geometry.Lines];
            _fresh = new FreshPages?[maxAddressSpaces > 0 ? maxAddressSpaces : 0];
            _freshRanges = freshRanges;
            _random = new XorShift64(seed);
        }

        /// <summary>A cache from parsed command-line options (ExCacheConfig.Parse returned None).</summary>
        public ExCache(in ExCacheConfig config, ulong regionBase)
            : this(config.Geometry, config.Policy, regionBase, config.Seed) { }

        // ---------------- lines and their addresses ----------------

        public int LineCount => _lines.Length;
        public int MaxAddressSpaces => _fresh.Length;

        /// <summary>Physical address of a line: where the fault handler maps the page and copies data.</summary>
        public ulong LineAddress(int line) => RegionBase + ((ulong)line << ExCacheGeometry.LineShift);

        /// <summary>The line at a physical address (a PTE's frame, when harvesting bits from a page table).</summary>
        public bool TryLineOfAddress(ulong physical, out int line)
        {
            line = -1;
            if (physical < RegionBase) return false;
            ulong index = (physical - RegionBase) >> ExCacheGeometry.LineShift;
            if (index >= (ulong)_lines.Length) return false;
            line = (int)index;
            return true;
        }

        public int SetOf(int asid, ulong page) => Geometry.SetOf(asid, page);
        public int SetOfLine(int line) => line / Geometry.Ways;
        /// <summary>The first line of a set; its ways are this .. this + Geometry.Ways - 1.</summary>
        public int FirstLineOfSet(int set) => set * Geometry.Ways;

        public LineState StateOf(int line) => _lines[line].State;
        public int OwnerOf(int line) => _lines[line].Asid;
        public ulong PageOf(int line) => _lines[line].Page;
        public int PinCount(int line) => _lines[line].Pins;
        /// <summary>The line's page was invalidated; it is only waiting for an in-flight operation or a pin to end.</summary>
        public bool IsDoomed(int line) => (_lines[line].Flags & Doomed) != 0;

        private bool IsLine(int line) => (uint)line < (uint)_lines.Length;

        /// <summary>Which line holds (or is busy with) the page: the tag check of one set.</summary>
        public LineLookup Find(int asid, ulong page, out int line)
        {
            int first = SetOf(asid, page) * Geometry.Ways;
            for (int w = 0; w < Geometry.Ways; w++)
            {
                ref Line l = ref _lines[first + w];
                if (l.State == LineState.Invalid) continue;
                bool mine = l.Asid == asid && l.Page == page && (l.Flags & Doomed) == 0;
                bool other = l.OtherAsid == asid && l.OtherPage == page &&
                    ((l.State == LineState.Evicting && (l.Flags & IncomingDoomed) == 0) ||
                     (l.State == LineState.Filling && (l.Flags & WriteBackPending) != 0));
                if (!mine && !other) continue;
                line = first + w;
                return mine && (l.State == LineState.Clean || l.State == LineState.Dirty) ? LineLookup.Resident : LineLookup.InFlight;
            }
            line = -1;
            return LineLookup.NotCached;
        }

        // ---------------- the miss path ----------------

        /// <summary>
        /// A page fault on (asid, page) that the page table could not satisfy. Allocates a line
        /// (a free way first, else a victim by the policy - never a line in flight or pinned)
        /// and says how to fill it. See MissPlan for the caller's protocol.
        /// A write fault on a Resident page marks its line Dirty (the write-protect fault of
        /// software dirty tracking): map it writable.
        /// </summary>
        public MissPlan OnMiss(int asid, ulong page, bool isWrite)
        {
            MissPlan plan = default;
            plan.Asid = asid;
            plan.Page = page;
            plan.IsWrite = isWrite;
            plan.Line = -1;

            LineLookup found = Find(asid, page, out int existing);
            if (found != LineLookup.NotCached)
            {
                plan.Line = existing;
                plan.LineAddress = LineAddress(existing);
                if (found == LineLookup.Resident)
                {
                    plan.Action = MissAction.Resident;
                    if (isWrite) _lines[existing].State = LineState.Dirty;
                    Counters.SpuriousFaults++;
                }
                else
                {
                    plan.Action = MissAction.Wait;
                    Counters.InFlightWaits++;
                }
                return plan;
            }

            int first = SetOf(asid, page) * Geometry.Ways;
            int line = -1;
            for (int w = 0; w < Geometry.Ways; w++)
                if (_lines[first + w].State == LineState.Invalid) { line = first + w; break; }

            bool zeroFill = IsFresh(asid, page);
            byte flags = (byte)((isWrite ? FillWrite : 0) | (zeroFill ? 0 : Fetching));
            if (line >= 0)
            {
                ref Line f = ref _lines[line];
                f.State = LineState.Filling;
                f.Flags = flags;
                f.Pins = 0;
                f.Asid = asid;
                f.Page = page;
                f.OtherAsid = 0;
                f.OtherPage = 0;
                f.FilledAt = ++_clock;
            }
            else
            {
                line = ChooseVictim(first);
                if (line < 0)
                {
                    plan.Action = MissAction.NoLine;
                    Counters.NoLineStalls++;
                    return plan;
                }
                ref Line v = ref _lines[line];
                plan.HasVictim = true;
                plan.VictimAsid = v.Asid;
                plan.VictimPage = v.Page;
                plan.VictimKnownDirty = v.State == LineState.Dirty;
                v.State = LineState.Evicting;
                v.Flags = (byte)(flags | (plan.VictimKnownDirty ? VictimDirty : 0));
                v.OtherAsid = asid;
                v.OtherPage = page;
                v.FilledAt = ++_clock;
            }

            plan.Action = MissAction.Fill;
            plan.Line = line;
            plan.LineAddress = LineAddress(line);
            plan.Source = zeroFill ? FillSource.ZeroFill : FillSource.Fetch;
            Counters.Misses++;
            if (zeroFill) Counters.ZeroFills++; else Counters.Fetches++;
            return plan;
        }

        /// <summary>
        /// The victim of plan is unmapped and its TLB entries flushed; pteDirty is the dirty bit
        /// of its exchanged PTE. Decides plan.WriteBackVictim and turns the line to Filling.
        /// </summary>
        public void OnVictimUnmapped(ref MissPlan plan, bool pteDirty)
        {
            plan.WriteBackVictim = false;
            int line = plan.Line;
            if (!plan.HasVictim || !IsLine(line) || _lines[line].State != LineState.Evicting ||
                _lines[line].OtherAsid != plan.Asid || _lines[line].OtherPage != plan.Page)
            {
                Counters.ProtocolErrors++;
                return;
            }
            ref Line l = ref _lines[line];
            bool dirty = (l.Flags & VictimDirty) != 0 || pteDirty;
            // A victim whose page was unmapped meanwhile has no memory left to write back to.
            bool writeBack = dirty && (l.Flags & Doomed) == 0;
            Counters.Evictions++;
            if (writeBack)
            {
                Counters.DirtyEvictions++;
                Counters.WriteBacks++;
                if ((l.Flags & Fetching) != 0) Counters.CombinedWriteBacks++; else Counters.StandaloneWriteBacks++;
                // From now on the memory component holds data for the victim's page.
                FreshOf(l.Asid)?.Remove(l.Page, 1);
            }
            else Counters.CleanEvictions++;

            byte flags = (byte)(l.Flags & (FillWrite | Fetching));
            if ((l.Flags & IncomingDoomed) != 0) flags |= Doomed;
            if (writeBack) flags |= WriteBackPending;
            int victimAsid = l.Asid;
            ulong victimPage = l.Page;
            l.Asid = l.OtherAsid;
            l.Page = l.OtherPage;
            l.OtherAsid = writeBack ? victimAsid : 0;
            l.OtherPage = writeBack ? victimPage : 0;
            l.State = LineState.Filling;
            l.Flags = flags;
            plan.WriteBackVictim = writeBack;
        }

        /// <summary>
        /// The line's contents are in place (and any write-back in its plan acknowledged).
        /// zeroReply: the memory component answered "zero page" and the caller zeroed the line.
        /// True: map the page. False: the page was invalidated while it was filling (or the call
        /// was out of order) - map nothing; the line is free again.
        /// </summary>
        public bool OnFillComplete(int line, bool zeroReply = false)
        {
            if (!IsLine(line) || _lines[line].State != LineState.Filling || (zeroReply && (_lines[line].Flags & Fetching) == 0))
            {
                Counters.ProtocolErrors++;
                return false;
            }
            ref Line l = ref _lines[line];
            if (zeroReply) Counters.ZeroReplies++;
            if ((l.Flags & Doomed) != 0)
            {
                Free(ref l);
                return false;
            }
            l.State = (l.Flags & FillWrite) != 0 ? LineState.Dirty : LineState.Clean;
            l.Flags = 0;
            l.OtherAsid = 0;
            l.OtherPage = 0;
            l.LastUse = ++_clock;
            return true;
        }

        /// <summary>The memory component refused the page (outside any VMA) or the fill could not be done: the line is free again.</summary>
        public void OnFillFailed(int line)
        {
            if (!IsLine(line) || _lines[line].State != LineState.Filling) { Counters.ProtocolErrors++; return; }
            Counters.FillFailures++;
            Free(ref _lines[line]);
        }

        /// <summary>The fault-to-mapped time of one miss, in nanoseconds.</summary>
        public void RecordMissLatency(ulong nanoseconds) => Counters.MissLatency.Record(nanoseconds);

        private static void Free(ref Line l)
        {
            l.State = LineState.Invalid;
            l.Flags = 0;
            l.Pins = 0;
            l.Asid = 0;
            l.Page = 0;
            l.OtherAsid = 0;
            l.OtherPage = 0;
        }

        // ---------------- replacement ----------------

        private static bool Evictable(ref Line l) =>
            (l.State == LineState.Clean || l.State == LineState.Dirty) && l.Pins == 0 && (l.Flags & Doomed) == 0;

        /// <summary>The victim among the ways starting at first, or -1 when none may be evicted. Ties go to the lowest way.</summary>
        private int ChooseVictim(int first)
        {
            int ways = Geometry.Ways;
            if (Policy == ReplacementPolicy.Random)
            {
                int eligible = 0;
                for (int w = 0; w < ways; w++) if (Evictable(ref _lines[first + w])) eligible++;
                if (eligible == 0) return -1;
                int pick = _random.Below(eligible);
                for (int w = 0; w < ways; w++)
                    if (Evictable(ref _lines[first + w]) && pick-- == 0) return first + w;
                return -1;
            }
            int best = -1;
            ulong bestStamp = 0;
            for (int w = 0; w < ways; w++)
            {
                ref Line l = ref _lines[first + w];
                if (!Evictable(ref l)) continue;
                ulong stamp = Policy == ReplacementPolicy.Lru ? l.LastUse : l.FilledAt;
                if (best < 0 || stamp < bestStamp) { best = first + w; bestStamp = stamp; }
            }
            return best;
        }

        // ---------------- what the caller observes ----------------

        /// <summary>
        /// The caller found the line's PTE accessed bit set (and cleared it): the page was used
        /// since the last sample. Makes it the most recently used of its set for LRU. Sample a
        /// set just before a miss in it (SetOf, FirstLineOfSet), periodically, or both.
        /// False when the line holds no resident page (a stale sample: ignored).
        /// </summary>
        public bool ObserveAccessed(int line)
        {
            if (!IsLine(line)) return false;
            ref Line l = ref _lines[line];
            if ((l.State != LineState.Clean && l.State != LineState.Dirty && l.State != LineState.WritingBack) || (l.Flags & Doomed) != 0)
                return false;
            l.LastUse = ++_clock;
            Counters.HitsObserved++;
            return true;
        }

        /// <summary>
        /// The page of the line was written: a write-protect fault on a read-filled line, or a
        /// dirty bit the caller found (and cleared) in its PTE. False when the line is not resident.
        /// </summary>
        public bool MarkDirty(int line)
        {
            if (!IsLine(line)) return false;
            ref Line l = ref _lines[line];
            if ((l.Flags & Doomed) != 0) return false;
            if (l.State == LineState.Clean || l.State == LineState.Dirty) { l.State = LineState.Dirty; return true; }
            if (l.State == LineState.WritingBack) { l.Flags |= Redirtied; return true; }
            return false;
        }

        /// <summary>Convenience for a sampler that read both bits of a PTE.</summary>
        public void ObservePte(int line, bool accessed, bool dirty)
        {
            if (accessed) ObserveAccessed(line);
            if (dirty) MarkDirty(line);
        }

        // ---------------- pinning ----------------

        /// <summary>
        /// Keeps a resident line from being evicted (a syscall copying to or from the user page
        /// through the line). Pins nest. False when the line is not resident or pinned 65535 times.
        /// </summary>
        public bool Pin(int line)
        {
            if (!IsLine(line)) return false;
            ref Line l = ref _lines[line];
            if ((l.State != LineState.Clean && l.State != LineState.Dirty) || (l.Flags & Doomed) != 0 || l.Pins == 0xFFFF)
                return false;
            l.Pins++;
            return true;
        }

        /// <summary>Releases one pin; a line invalidated while pinned is freed with its last pin.</summary>
        public void Unpin(int line)
        {
            if (!IsLine(line) || _lines[line].Pins == 0) { Counters.ProtocolErrors++; return; }
            ref Line l = ref _lines[line];
            l.Pins--;
            if (l.Pins == 0 && (l.Flags & Doomed) != 0) Free(ref l);
        }

        // ---------------- zero-fill bookkeeping ----------------

        /// <summary>
        /// The memory component declared [startPage, startPage + pageCount) fresh anonymous
        /// read+write memory of asid (the contract is in FreshPages.cs). False when asid has no
        /// bookkeeping slot (its pages will be fetched instead).
        /// </summary>
        public bool AnnounceFresh(int asid, ulong startPage, ulong pageCount)
        {
            if ((uint)asid >= (uint)_fresh.Length) return false;
            FreshPages? f = _fresh[asid];
            if (f is null) { f = new FreshPages(_freshRanges); _fresh[asid] = f; }
            f.Add(startPage, pageCount);
            return true;
        }

        /// <summary>True when a miss on the page would be zero-filled locally.</summary>
        public bool IsFresh(int asid, ulong page)
        {
            FreshPages? f = FreshOf(asid);
            return f is not null && f.Contains(page);
        }

        /// <summary>The fresh-page record of an address space (null before its first announcement).</summary>
        public FreshPages? FreshOf(int asid) => (uint)asid < (uint)_fresh.Length ? _fresh[asid] : null;

        // ---------------- summary ----------------

        /// <summary>The geometry, then the counters and the latency histogram: what the processor prints at process exit.</summary>
        public void WriteSummary(AsciiText text)
        {
            text.Append("excache: ").AppendSize(Geometry.SizeBytes).Append(" at ").AppendHex(RegionBase).Append(", ")
                .Append(Geometry.Lines).Append(" lines, ").Append(Geometry.Sets).Append(" sets x ").Append(Geometry.Ways)
                .Append(" ways, ").Append(ReplacementPolicies.Name(Policy)).Append(", ").Append(ResidentLines())
                .Append(" lines in use\n");
            Counters.WriteTo(text, "excache: ");
        }

        /// <summary>Lines holding a Clean or Dirty page.</summary>
        public int ResidentLines()
        {
            int n = 0;
            for (int i = 0; i < _lines.Length; i++)
                if (_lines[i].State == LineState.Clean || _lines[i].State == LineState.Dirty) n++;
            return n;
        }
    }
}
