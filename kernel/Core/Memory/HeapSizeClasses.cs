// The kernel heap's size classes: which block size a request gets, and how many pages a
// slab of each class spans.
//
// 24 classes from 16 to 2048 bytes:
//   16, 32, 48, ..., 128                      (steps of 16: 8 classes)
//   160, 192, 224, 256                        (then four classes per doubling:
//   320, 384, 448, 512                         each step a quarter of the power of
//   640, 768, 896, 1024                        two below it)
//   1280, 1536, 1792, 2048
// Why not powers of two: a power-of-two class wastes up to half of each block, and most
// kernel objects are small and of scattered sizes (an object header is 16 bytes, arrays
// add a length word), so a request of 136 bytes would take 256. With quarter steps the
// waste above 128 bytes is under 20% of the block, and 16-byte steps below 128 keep small
// objects tight; 16 is also the alignment every block needs (SSE stores, and the x86-64
// psABI's 16-byte alignment of long double and __int128), so no class is smaller.
// Requests above 2048 bytes take whole pages (SlabHeap's large blocks): a 4 KiB page fits
// two 2048-byte blocks, and anything bigger would waste more of a slab than of a page run.
//
// No tables: the heap runs before the runtime has set up any static array (it is what
// allocates them), so every figure here is computed.
namespace Tessera.Core.Memory
{
    public static class HeapSizeClasses
    {
        public const int Count = 24;
        public const int Alignment = 16;
        public const int LargestBlock = 2048;
        public const int PageBytes = 4096;
        public const int PageShift = 12;

        /// <summary>A slab holds at most this many blocks, the size of a span's bitmaps.</summary>
        public const int MaxBlocksPerSlab = 512;

        /// <summary>The block size of class index c (0 ≤ c &lt; Count).</summary>
        public static int BlockSize(int c)
        {
            if (c < 8) return (c + 1) * 16;
            int group = (c - 8) >> 2;            // 0: 129..256, 1: 257..512, ...
            int step = 32 << group;              // a quarter of the group's lower bound
            return (128 << group) + ((c - 8) & 3) * step + step;
        }

        /// <summary>The class a request of size bytes gets (1 ≤ size ≤ LargestBlock; 0 counts as 1).</summary>
        public static int ClassOf(nuint size)
        {
            if (size <= 128) return size == 0 ? 0 : (int)((size + 15) >> 4) - 1;
            int group = 0;
            while (size > (nuint)(256 << group)) group++;
            int step = 32 << group;
            int k = (int)((size - (nuint)(128 << group) + (nuint)step - 1) / (nuint)step) - 1;
            return 8 + group * 4 + k;
        }

        /// <summary>
        /// Pages per slab of class c: the fewest (1..8) that waste at most an eighth of the
        /// slab after the last whole block. Only 1536 needs more than one page (one page
        /// would waste 1024 of 4096 bytes; two waste 512 of 8192). Every class then holds
        /// at most 256 blocks a slab (16-byte blocks in one page), within MaxBlocksPerSlab.
        /// </summary>
        public static int SlabPages(int c)
        {
            int size = BlockSize(c);
            for (int pages = 1; pages < 8; pages++)
            {
                int bytes = pages * PageBytes;
                if (bytes % size <= bytes / 8) return pages;
            }
            return 8;
        }

        /// <summary>Blocks in one slab of class c.</summary>
        public static int BlocksPerSlab(int c) => SlabPages(c) * PageBytes / BlockSize(c);
    }
}
