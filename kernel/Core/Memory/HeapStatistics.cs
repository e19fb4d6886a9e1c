// What the kernel heap reports: its figures, and what Free found.
namespace Tessera.Core.Memory
{
    /// <summary>What Free did with a pointer. Anything but Freed and Null is a caller's bug.</summary>
    public enum HeapResult
    {
        Freed,
        /// <summary>A null pointer: nothing to do (as C's free(NULL)).</summary>
        Null,
        /// <summary>The pointer is not in memory the heap holds.</summary>
        NotHeapMemory,
        /// <summary>The pointer is inside a block (or a slab's slack), not at a block's start.</summary>
        NotBlockStart,
        /// <summary>A block the heap has never handed out.</summary>
        NeverAllocated,
        /// <summary>The block is already free.</summary>
        DoubleFree,
    }

    /// <summary>The kinds of misuse the heap detects and counts.</summary>
    public enum HeapError
    {
        None,
        /// <summary>Free of a block already free.</summary>
        DoubleFree,
        /// <summary>Free of a pointer the heap never gave out (NotHeapMemory, NotBlockStart, NeverAllocated).</summary>
        InvalidFree,
        /// <summary>A free block lost its poison before it was handed out again (poisoning on).</summary>
        UseAfterFree,
    }

    public struct HeapStatistics
    {
        /// <summary>Bytes of blocks handed out and not freed (block sizes, large blocks in whole pages).</summary>
        public ulong BytesInUse;
        public ulong PeakBytesInUse;
        public ulong BlocksInUse;
        public ulong Allocations;
        public ulong Frees;
        public ulong LargeBlocksInUse;
        /// <summary>Pages currently taken from the page source: slabs, large blocks and metadata.</summary>
        public ulong PagesHeld;
        public ulong PeakPagesHeld;
        /// <summary>Pages holding the heap's own bookkeeping (state, span descriptors, page map).</summary>
        public ulong MetadataPages;
        public ulong DoubleFrees;
        public ulong InvalidFrees;
        public ulong UseAfterFrees;
        public ulong QuarantinedBlocks;
        /// <summary>Every error detected so far (the sum of the three error counts).</summary>
        public ulong Errors;
        public HeapError LastError;
        public ulong LastErrorAddress;
    }

    public struct SizeClassStatistics
    {
        public int BlockSize;
        public int SlabPages;
        public int BlocksPerSlab;
        public ulong BlocksInUse;
        public ulong Allocations;
        public ulong Frees;
        public ulong Slabs;
    }
}
