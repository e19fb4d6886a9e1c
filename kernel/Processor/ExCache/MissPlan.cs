// What the ExCache tells the page-fault handler to do about a miss (ExCache.OnMiss).
//
// The caller's protocol for Action == Fill:
//   1. If HasVictim: clear the PTE of (VictimAsid, VictimPage) with one atomic exchange, flush
//      its TLB entry on every CPU that may cache it (Intel SDM vol. 3A §4.10.4), and take the
//      old PTE's dirty bit: the CPU may set D until the PTE is gone (SDM vol. 3A §4.8), so
//      only the exchanged value is final. Then call ExCache.OnVictimUnmapped(ref plan, D).
//      It sets WriteBackVictim: true when the victim's data must go to the memory component.
//   2. Source == Fetch: send one PCACHE_MISS for (Asid, Page) to the memory component with,
//      when WriteBackVictim, the victim's page attached (copied out of the line into the
//      request before the reply may land in the same line) - the combined message of LegoOS.
//      Source == ZeroFill: when WriteBackVictim, send the victim's data alone (PCACHE_FLUSH)
//      and wait for its acknowledgement; then zero the line (LineAddress). No miss RPC.
//   3. ExCache.OnFillComplete(Line, zeroReply): true means map Page to LineAddress - writable
//      when IsWrite or Source == ZeroFill - and return to the program; false means the page
//      was unmapped meanwhile: map nothing. On an error reply for the page (outside any VMA),
//      ExCache.OnFillFailed(Line) and deliver the segfault. The memory component applies an
//      attached write-back even when the miss part fails.
//   4. Feed the fault-to-mapped time to ExCache.RecordMissLatency.
// Action == Resident: the page is already cached (map Line if the PTE is missing). Action ==
// Wait or NoLine: block until an in-flight operation completes, then take the fault again.
namespace Tessera.Processor.Cache
{
    public enum MissAction : byte
    {
        /// <summary>A line was allocated: follow the protocol above.</summary>
        Fill,
        /// <summary>The page already has a Clean or Dirty line: no fill.</summary>
        Resident,
        /// <summary>The page's line is in flight (filling, evicting, writing back): wait, then retry.</summary>
        Wait,
        /// <summary>Every way of the set is in flight or pinned: wait for one to finish, then retry.</summary>
        NoLine,
    }

    public enum FillSource : byte
    {
        /// <summary>Ask the memory component for the page (PCACHE_MISS).</summary>
        Fetch,
        /// <summary>A fresh anonymous page: zero the line locally, no RPC.</summary>
        ZeroFill,
    }

    public struct MissPlan
    {
        public MissAction Action;
        /// <summary>The line to fill (Fill), or the line holding the page (Resident, Wait); -1 for NoLine.</summary>
        public int Line;
        /// <summary>Physical address of Line in the reserved region.</summary>
        public ulong LineAddress;
        public FillSource Source;
        public int Asid;
        public ulong Page;
        public bool IsWrite;

        public bool HasVictim;
        public int VictimAsid;
        public ulong VictimPage;
        /// <summary>The cache already knew the victim dirty (written through a write fault or a reported dirty bit).</summary>
        public bool VictimKnownDirty;
        /// <summary>Final after OnVictimUnmapped: the victim's data goes to the memory component with (or before) this miss.</summary>
        public bool WriteBackVictim;
    }
}
