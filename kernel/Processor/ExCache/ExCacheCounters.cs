// What the ExCache counts (issue 5 item 3). The identities that hold at every moment, and
// that the rig tests check at process exit ("nothing lost"):
//   Misses          = ZeroFills + Fetches
//   Evictions       = CleanEvictions + DirtyEvictions
//   DirtyEvictions  = CombinedWriteBacks + StandaloneWriteBacks   (every dirty victim written back once)
//   WriteBacks      = DirtyEvictions + FlushWriteBacks
// Counts are of events the cache decided; the caller feeds the observations (accessed bits,
// latencies) it makes. Pure logic: compiled into the processor image and the host tests.
namespace Tessera.Processor.Cache
{
    public sealed class ExCacheCounters
    {
        /// <summary>Faults that needed a line filled.</summary>
        public ulong Misses;
        /// <summary>Misses satisfied locally with zeros: fresh anonymous pages, no RPC.</summary>
        public ulong ZeroFills;
        /// <summary>Misses that asked the memory component (PCACHE_MISS).</summary>
        public ulong Fetches;
        /// <summary>Fetches the memory component answered "zero page" (no page transferred).</summary>
        public ulong ZeroReplies;
        /// <summary>Accessed bits reported set on a resident line (hits happen in hardware; these are what the sampler saw).</summary>
        public ulong HitsObserved;
        /// <summary>Victims taken from a full set.</summary>
        public ulong Evictions;
        public ulong CleanEvictions;
        public ulong DirtyEvictions;
        /// <summary>Dirty victims whose data rode in the same message as the miss.</summary>
        public ulong CombinedWriteBacks;
        /// <summary>Dirty victims written back on their own (the miss was a zero-fill: no miss message to ride).</summary>
        public ulong StandaloneWriteBacks;
        /// <summary>Dirty lines written back and kept (BeginWriteBack: before fork, mremap).</summary>
        public ulong FlushWriteBacks;
        /// <summary>Every page of data sent to the memory component.</summary>
        public ulong WriteBacks;
        /// <summary>Lines dropped by munmap or exit.</summary>
        public ulong Invalidations;
        /// <summary>Of those, lines dropped dirty without a write-back (their memory was being freed).</summary>
        public ulong DiscardedDirty;
        /// <summary>Fills that failed (the memory component refused the page: outside any VMA).</summary>
        public ulong FillFailures;
        /// <summary>Faults on a page whose line was still in flight: the caller waits and retries.</summary>
        public ulong InFlightWaits;
        /// <summary>Faults whose set had every way filling, writing back or pinned: the caller waits and retries.</summary>
        public ulong NoLineStalls;
        /// <summary>Faults on a page already resident (a stale TLB entry, a lost race): nothing to fill.</summary>
        public ulong SpuriousFaults;
        /// <summary>Calls out of order (wrong line state): refused and counted; should stay 0.</summary>
        public ulong ProtocolErrors;

        public readonly LatencyHistogram MissLatency = new LatencyHistogram();

        public void CopyFrom(ExCacheCounters o)
        {
            Misses = o.Misses; ZeroFills = o.ZeroFills; Fetches = o.Fetches; ZeroReplies = o.ZeroReplies;
            HitsObserved = o.HitsObserved; Evictions = o.Evictions; CleanEvictions = o.CleanEvictions;
            DirtyEvictions = o.DirtyEvictions; CombinedWriteBacks = o.CombinedWriteBacks;
            StandaloneWriteBacks = o.StandaloneWriteBacks; FlushWriteBacks = o.FlushWriteBacks; WriteBacks = o.WriteBacks;
            Invalidations = o.Invalidations; DiscardedDirty = o.DiscardedDirty; FillFailures = o.FillFailures;
            InFlightWaits = o.InFlightWaits; NoLineStalls = o.NoLineStalls; SpuriousFaults = o.SpuriousFaults;
            ProtocolErrors = o.ProtocolErrors;
            MissLatency.CopyFrom(o.MissLatency);
        }

        /// <summary>Zeroes every counter (the processor may do so when a program starts, to print that program's own figures at its exit).</summary>
        public void Clear()
        {
            Misses = ZeroFills = Fetches = ZeroReplies = HitsObserved = 0;
            Evictions = CleanEvictions = DirtyEvictions = CombinedWriteBacks = StandaloneWriteBacks = FlushWriteBacks = WriteBacks = 0;
            Invalidations = DiscardedDirty = FillFailures = InFlightWaits = NoLineStalls = SpuriousFaults = ProtocolErrors = 0;
            MissLatency.Clear();
        }

        /// <summary>True when the identities in the header hold.</summary>
        public bool Consistent =>
            Misses == ZeroFills + Fetches &&
            Evictions == CleanEvictions + DirtyEvictions &&
            DirtyEvictions == CombinedWriteBacks + StandaloneWriteBacks &&
            WriteBacks == DirtyEvictions + FlushWriteBacks &&
            ZeroReplies <= Fetches;

        /// <summary>The counters as text, one topic a line, each line starting with indent.</summary>
        public void WriteTo(AsciiText text, string indent)
        {
            text.Append(indent).Append("misses ").Append(Misses).Append(" (zero-filled ").Append(ZeroFills)
                .Append(", fetched ").Append(Fetches).Append(", of which zero replies ").Append(ZeroReplies)
                .Append("), hits observed ").Append(HitsObserved).Append('\n');
            text.Append(indent).Append("evictions ").Append(Evictions).Append(" (clean ").Append(CleanEvictions)
                .Append(", dirty ").Append(DirtyEvictions).Append("), write-backs ").Append(WriteBacks)
                .Append(" (with the miss ").Append(CombinedWriteBacks).Append(", alone ").Append(StandaloneWriteBacks)
                .Append(", flushes ").Append(FlushWriteBacks).Append(")\n");
            text.Append(indent).Append("invalidated ").Append(Invalidations).Append(" (dirty dropped ").Append(DiscardedDirty)
                .Append("), fill failures ").Append(FillFailures).Append(", waits ").Append(InFlightWaits)
                .Append(", stalls ").Append(NoLineStalls).Append(", spurious ").Append(SpuriousFaults);
            if (ProtocolErrors != 0) text.Append(", PROTOCOL ERRORS ").Append(ProtocolErrors);
            if (!Consistent) text.Append(", INCONSISTENT");
            text.Append('\n');
            MissLatency.WriteTo(text, indent);
        }
    }
}
