// A span: one run of pages the kernel heap took from its page source, either a slab of
// equal blocks of one size class or a single large block. Its descriptor lives outside
// the run (in the heap's descriptor pages), so a slab's pages hold blocks only and a large
// block starts on a page boundary; the heap's page map (HeapPageMap.cs) leads from any
// page of the run to its descriptor, which is how Free finds a block's size.
namespace Tessera.Core.Memory
{
    internal unsafe struct HeapSpan
    {
        public const int Large = -1;
        private const int BitmapWords = HeapSizeClasses.MaxBlocksPerSlab / 64;

        public byte* Start;
        /// <summary>Links in the class's list of slabs with free blocks (InAvailableList), or in the descriptor free list.</summary>
        public HeapSpan* Next, Prev;
        public int Pages;
        /// <summary>Size class index, or Large.</summary>
        public int SizeClass;
        public int BlockSize;
        public int Capacity;
        /// <summary>Blocks handed out and not yet freed.</summary>
        public int Live;
        /// <summary>Blocks [0, Carved) have been handed out at least once; the rest never were.</summary>
        public int Carved;
        /// <summary>Blocks found written after they were freed: never handed out again.</summary>
        public int Quarantined;
        public bool InAvailableList;

        /// <summary>Bit set: the block is live or quarantined (not available).</summary>
        public fixed ulong Taken[BitmapWords];
        /// <summary>Bit set: the block is quarantined.</summary>
        public fixed ulong Quarantine[BitmapWords];

        public bool IsLarge => SizeClass == Large;
        public bool IsFull => Live + Quarantined == Capacity;
        /// <summary>No live and no quarantined blocks: the slab could go back to the page source.</summary>
        public bool IsEmpty => Live == 0 && Quarantined == 0;

        public bool IsTaken(int block) => (Taken[block >> 6] & (1UL << (block & 63))) != 0;
        public bool IsQuarantined(int block) => (Quarantine[block >> 6] & (1UL << (block & 63))) != 0;
        public void SetTaken(int block) => Taken[block >> 6] |= 1UL << (block & 63);
        public void ClearTaken(int block) => Taken[block >> 6] &= ~(1UL << (block & 63));
        public void SetQuarantined(int block) => Quarantine[block >> 6] |= 1UL << (block & 63);

        /// <summary>The lowest block not taken, or -1 when the slab is full.</summary>
        public int FirstAvailable()
        {
            int words = (Capacity + 63) >> 6;
            for (int w = 0; w < words; w++)
            {
                ulong available = ~Taken[w];
                if (available == 0) continue;
                int block = (w << 6) + TrailingZeroCount(available);
                return block < Capacity ? block : -1;
            }
            return -1;
        }

        public void ClearBitmaps()
        {
            for (int w = 0; w < BitmapWords; w++) { Taken[w] = 0; Quarantine[w] = 0; }
        }

        // Baseline x86-64 (the images run on -cpu qemu64) has BSF but no TZCNT, and the core
        // library has no BitOperations: a branchy binary search, value != 0.
        private static int TrailingZeroCount(ulong value)
        {
            int n = 0;
            if ((value & 0xFFFFFFFF) == 0) { n += 32; value >>= 32; }
            if ((value & 0xFFFF) == 0) { n += 16; value >>= 16; }
            if ((value & 0xFF) == 0) { n += 8; value >>= 8; }
            if ((value & 0xF) == 0) { n += 4; value >>= 4; }
            if ((value & 0x3) == 0) { n += 2; value >>= 2; }
            if ((value & 0x1) == 0) n += 1;
            return n;
        }
    }
}
