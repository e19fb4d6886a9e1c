// A page source over one fixed region of memory: today's backing of the kernel heap, the
// 8 MiB boot heap region reserved in the image (boot/entry.asm boot_heap_start..end). It
// stands in until the frame allocator and the direct map exist; then KernelHeap.cs takes
// its pages from those instead and this file is only used by tests.
//
// A bitmap of the region's pages, one bit per page (set = handed out), kept in the
// region's own first page(s); runs are found first-fit from the lowest address, so freed
// pages are reused before fresh ones. O(pages) per search, which is fine for a region of a
// few thousand pages and for something the heap asks only when a slab or a large block is
// made.
namespace Tessera.Core.Memory
{
    internal unsafe struct RegionPageSourceState
    {
        public byte* FirstPage;
        public int PageCount;
        /// <summary>Pages at the start holding this state and the bitmap: never handed out or freed.</summary>
        public int HeaderPages;
        public int FreePages;
        /// <summary>FreePages calls that named pages not handed out (a caller's bug; ignored).</summary>
        public int BadFrees;
        public ulong* Bitmap;
    }

    public unsafe struct RegionPageSource : IPageSource
    {
        private const int PageBytes = HeapSizeClasses.PageBytes;
        private RegionPageSourceState* _state;

        /// <summary>
        /// Takes over [start, end), trimmed to whole pages; its first page(s) hold the
        /// bookkeeping. IsReady is false when the region is too small to hold any page.
        /// </summary>
        public RegionPageSource(byte* start, byte* end)
        {
            _state = null;
            ulong first = ((ulong)start + PageBytes - 1) & ~(ulong)(PageBytes - 1);
            ulong last = (ulong)end & ~(ulong)(PageBytes - 1);
            if (last <= first) return;
            ulong pages = (last - first) / PageBytes;
            if (pages > int.MaxValue) pages = int.MaxValue;
            ulong header = (ulong)sizeof(RegionPageSourceState) + (pages + 63) / 64 * 8;
            ulong headerPages = (header + PageBytes - 1) / PageBytes;
            if (headerPages >= pages) return;

            var state = (RegionPageSourceState*)first;
            for (ulong i = 0; i < headerPages * PageBytes; i += 8) *(ulong*)(first + i) = 0;
            state->FirstPage = (byte*)first;
            state->PageCount = (int)pages;
            state->HeaderPages = (int)headerPages;
            state->Bitmap = (ulong*)(state + 1);
            for (int p = 0; p < (int)headerPages; p++) SetBit(state, p);
            state->FreePages = (int)(pages - headerPages);
            _state = state;
        }

        public bool IsReady => _state != null;
        public int PageCount => _state->PageCount;
        public int FreePageCount => _state->FreePages;
        public int BadFrees => _state->BadFrees;
        public byte* RegionStart => _state->FirstPage;
        public byte* RegionEnd => _state->FirstPage + (long)_state->PageCount * PageBytes;

        public byte* AllocatePages(int count)
        {
            RegionPageSourceState* s = _state;
            if (count <= 0 || count > s->FreePages) return null;
            int runStart = 0, runLength = 0;
            for (int p = 0; p < s->PageCount; p++)
            {
                // Skip whole words of taken pages quickly.
                if ((p & 63) == 0 && runLength == 0 && s->Bitmap[p >> 6] == ~0UL) { p += 63; continue; }
                if (IsSet(s, p)) { runLength = 0; continue; }
                if (runLength == 0) runStart = p;
                if (++runLength == count)
                {
                    for (int q = runStart; q < runStart + count; q++) SetBit(s, q);
                    s->FreePages -= count;
                    return s->FirstPage + (long)runStart * PageBytes;
                }
            }
            return null;
        }

        public void FreePages(byte* address, int count)
        {
            RegionPageSourceState* s = _state;
            long offset = address - s->FirstPage;
            if (count <= 0 || offset < (long)s->HeaderPages * PageBytes || offset % PageBytes != 0 || offset / PageBytes + count > s->PageCount)
            {
                s->BadFrees++;
                return;
            }
            int first = (int)(offset / PageBytes);
            for (int p = first; p < first + count; p++)
                if (!IsSet(s, p)) { s->BadFrees++; return; }
            for (int p = first; p < first + count; p++) s->Bitmap[p >> 6] &= ~(1UL << (p & 63));
            s->FreePages += count;
        }

        /// <summary>True when every page of the run is handed out (for tests).</summary>
        public bool IsAllocated(byte* address, int count)
        {
            long offset = address - _state->FirstPage;
            if (offset < 0 || offset % PageBytes != 0 || offset / PageBytes + count > _state->PageCount) return false;
            for (int p = (int)(offset / PageBytes); p < offset / PageBytes + count; p++)
                if (!IsSet(_state, p)) return false;
            return true;
        }

        private static bool IsSet(RegionPageSourceState* s, int page) => (s->Bitmap[page >> 6] & (1UL << (page & 63))) != 0;
        private static void SetBit(RegionPageSourceState* s, int page) => s->Bitmap[page >> 6] |= 1UL << (page & 63);
    }
}
