// What the page-table builder needs from the machine: read and write 64-bit
// entries of 4 KiB tables by physical address, get and return zeroed table
// frames, and drop stale translations. The kernel implements it over the
// direct map, the frame allocator and INVLPG (DirectMapPageTableMemory); the
// host tests over plain arrays, recording every invalidation.
// Pure: kernels and host tests.
namespace Tessera.Core.Memory
{
    public abstract class PageTableMemory
    {
        public abstract ulong ReadEntry(ulong tablePhysical, int index);
        public abstract void WriteEntry(ulong tablePhysical, int index, ulong entry);

        /// <summary>A zeroed, 4 KiB-aligned frame for a table; false when memory is exhausted.</summary>
        public abstract bool TryAllocateTable(out ulong physical);
        public abstract void FreeTable(ulong physical);

        /// <summary>
        /// An entry that translates virtualAddress in the hierarchy rooted at root changed
        /// (or a table on its path went away): drop cached translations. The builder calls it
        /// after every change, before freeing any table (Intel SDM Vol. 3A §4.10.4).
        /// </summary>
        public abstract void Invalidate(ulong root, ulong virtualAddress);
    }
}
