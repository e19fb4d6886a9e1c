// One user process as the memory component sees it: its areas (VmaSet), the pages it wrote
// back (PageStore), and what the page service did for it. Named by the processor node that
// runs it and the pid that processor chose, so processors never see each other's processes.
// Objects are reused after EXIT (MemoryService keeps them): the kernel heap gives memory
// back only when told to, and the arrays inside a VmaSet are worth keeping.
// Pure logic: compiled into the memory kernel and the host tests.
namespace Tessera.Memory
{
    /// <summary>What the page service did for one process (printed at its exit).</summary>
    public struct ProcessCounters
    {
        /// <summary>PCACHE_MISS requests served with a page or a zero page.</summary>
        public ulong Misses;
        /// <summary>... of which answered "zero page" (anonymous memory never written back).</summary>
        public ulong ZeroPages;
        /// <summary>... of which read from the executable (file pages never written back).</summary>
        public ulong FilePages;
        /// <summary>... of which sent from the page store.</summary>
        public ulong StoredPages;
        /// <summary>Pages written back: PCACHE_FLUSH plus victims riding on misses.</summary>
        public ulong WriteBacks;
        /// <summary>... of which victims.</summary>
        public ulong Victims;
        /// <summary>Victims that could not be stored (no area covers them any more).</summary>
        public ulong VictimsDropped;
        /// <summary>Requests refused with an error reply (bad access, malformed request).</summary>
        public ulong Refused;
        /// <summary>Most pages stored at once.</summary>
        public ulong PeakStoredPages;
    }

    public sealed class ProcessAddressSpace
    {
        public ushort Node;
        public uint Pid;
        /// <summary>False once the process exited: the object waits to be reused.</summary>
        public bool Live;
        /// <summary>The executable (ExecutableSource file id) and its last path component, for the log.</summary>
        public ulong FileId;
        public readonly VmaSet Areas;
        public readonly PageStore Pages;
        public ProcessCounters Counters;

        public ProcessAddressSpace(AddressSpaceLayout layout, PageFrames frames)
        {
            Areas = new VmaSet(layout);
            Pages = new PageStore(frames);
        }

        /// <summary>Frees every page and forgets every area.</summary>
        public void Reset()
        {
            Pages.Clear();
            Areas.Clear();
            Counters = default;
            FileId = 0;
        }

        internal void NotePeak()
        {
            if ((ulong)Pages.StoredPages > Counters.PeakStoredPages) Counters.PeakStoredPages = (ulong)Pages.StoredPages;
        }
    }
}
