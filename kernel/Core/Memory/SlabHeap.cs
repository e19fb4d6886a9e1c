// The kernel heap allocator: size-class slabs for small blocks, whole page runs for large
// ones, explicit free, optional poisoning of freed memory. Pure logic over a page source
// (IPageSource.cs): the same file compiles into the kernels (KernelHeap.cs backs it with
// the boot heap region) and into the host tests (tests/Tessera.Tests/Host/KernelHeapTests.cs).
//
// Shape
// - Requests up to 2048 bytes get a block of their size class (HeapSizeClasses.cs) from a
//   slab: a run of 1–2 pages cut into equal blocks. Larger requests get their own run of
//   whole pages, page-aligned, returned to the page source as soon as they are freed.
// - Every span (slab or large run) has a descriptor (HeapSpan.cs) outside its pages, and
//   the page map (HeapPageMap.cs) leads from each page to it. So Free(pointer) needs no
//   size, and it can tell a pointer it gave out from anything else.
// - A slab's descriptor keeps a bitmap of taken blocks instead of a free list threaded
//   through the free blocks: a stray write into freed memory cannot corrupt the heap's own
//   structure, a double free is a clear bit, and poisoning can cover the whole block.
//   Allocation takes the lowest free block of the slab at the head of the class's list;
//   a slab that gains a free block moves to the head, so freed memory is reused first
//   (warm in the cache, and the heap's footprint stays small).
// - Each class keeps at most one empty slab for the next allocation; further empty slabs
//   go back to the page source.
// - Blocks are 16-byte aligned (slab blocks are multiples of 16 from a page boundary).
//
// Misuse is detected, counted and reported (HeapStatistics.Errors, LastError), never
// acted on: a double free, a pointer the heap never gave out or a pointer into the middle
// of a block changes nothing. With poisoning on, a freed slab block is filled with 0xDE and
// checked when it is handed out again; a block whose poison was overwritten (a write after
// free) is quarantined — never handed out again — and the allocation takes another block.
// What to do about an error is the caller's policy (the kernel panics, KernelHeap.cs).
//
// Nothing here allocates from the managed heap (this is what `new` calls): every piece of
// bookkeeping — this state, the class table, span descriptors, page-map nodes — lives in
// pages from the page source. The struct itself is a handle (a pointer to that state and
// the page source handle), so copies of it are the same heap. Not thread-safe: callers
// serialise (the kernel runs the heap on one CPU with no interrupt handler allocating).
namespace Tessera.Core.Memory
{
    /// <summary>Per size class bookkeeping, in the heap's state page.</summary>
    internal unsafe struct SizeClassState
    {
        /// <summary>Slabs with at least one free block, most recently freed-into first.</summary>
        public HeapSpan* Available;
        public int BlockSize;
        public int SlabPages;
        public int BlocksPerSlab;
        /// <summary>Empty slabs kept (0 or 1).</summary>
        public int EmptySlabs;
        public ulong BlocksInUse;
        public ulong Allocations;
        public ulong Frees;
        public ulong Slabs;
    }

    /// <summary>The heap's state: the first page it takes from its source.</summary>
    internal unsafe struct SlabHeapState
    {
        public HeapStatistics Stats;
        public HeapPageMap Map;
        public HeapSpan* FreeDescriptors;
        /// <summary>Pages in slabs and large blocks (PagesHeld is these plus MetadataPages).</summary>
        public ulong SpanPages;
        public bool Poisoning;
        public SizeClassState* Classes;
    }

    public unsafe struct SlabHeap<TPages> where TPages : struct, IPageSource
    {
        public const byte PoisonByte = 0xDE;
        private const ulong PoisonWord = 0xDEDEDEDEDEDEDEDE;
        private const int PageBytes = HeapSizeClasses.PageBytes;

        // Large requests are capped so page arithmetic stays within int: 2^30 pages = 4 TiB.
        private const ulong MaxLargePages = 1UL << 30;

        private SlabHeapState* _state;
        private TPages _pages;

        /// <summary>
        /// Makes a heap over pages; it takes its first two pages (state and page-map root)
        /// at once. IsReady is false when the source could not supply them.
        /// </summary>
        public SlabHeap(TPages pages, bool poisoning)
        {
            _pages = pages;
            _state = null;
            byte* statePage = _pages.AllocatePages(1);
            if (statePage == null) return;
            byte* root = _pages.AllocatePages(1);
            if (root == null) { _pages.FreePages(statePage, 1); return; }
            Fill(statePage, 0, PageBytes);
            Fill(root, 0, PageBytes);

            var state = (SlabHeapState*)statePage;
            state->Map.Initialize((ulong*)root);
            state->Poisoning = poisoning;
            state->Stats.MetadataPages = 2;
            // The class table follows the state in the same page (24 classes of 56 bytes: well
            // within it; a static table is not possible, see HeapSizeClasses.cs).
            state->Classes = (SizeClassState*)(statePage + ((sizeof(SlabHeapState) + 63) & ~63));
            for (int c = 0; c < HeapSizeClasses.Count; c++)
            {
                SizeClassState* k = &state->Classes[c];
                k->BlockSize = HeapSizeClasses.BlockSize(c);
                k->SlabPages = HeapSizeClasses.SlabPages(c);
                k->BlocksPerSlab = HeapSizeClasses.BlocksPerSlab(c);
            }
            _state = state;
            UpdatePagesHeld();
        }

        public bool IsReady => _state != null;
        public bool Poisoning => _state->Poisoning;
        public HeapStatistics Statistics => _state->Stats;
        public ulong ErrorCount => _state->Stats.Errors;

        public SizeClassStatistics ClassStatistics(int sizeClass)
        {
            SizeClassState* k = &_state->Classes[sizeClass];
            SizeClassStatistics s;
            s.BlockSize = k->BlockSize;
            s.SlabPages = k->SlabPages;
            s.BlocksPerSlab = k->BlocksPerSlab;
            s.BlocksInUse = k->BlocksInUse;
            s.Allocations = k->Allocations;
            s.Frees = k->Frees;
            s.Slabs = k->Slabs;
            return s;
        }

        /// <summary>
        /// Turns poisoning on from now: every free block is poisoned at once, so the check on
        /// allocation holds for blocks freed before (the kernel reads its command line only
        /// after the heap has served the boot code).
        /// </summary>
        public void EnablePoisoning()
        {
            if (_state->Poisoning) return;
            _state->Poisoning = true;
            for (int c = 0; c < HeapSizeClasses.Count; c++)
            {
                for (HeapSpan* span = _state->Classes[c].Available; span != null; span = span->Next)
                {
                    for (int b = 0; b < span->Carved; b++)
                        if (!span->IsTaken(b)) Fill(span->Start + (long)b * span->BlockSize, PoisonByte, span->BlockSize);
                }
            }
        }

        /// <summary>
        /// size bytes (at least 1), 16-byte aligned, contents undefined; null when the page
        /// source has run dry.
        /// </summary>
        public byte* Allocate(nuint size)
        {
            if (size > HeapSizeClasses.LargestBlock) return AllocateLarge(size);
            int c = HeapSizeClasses.ClassOf(size);
            SizeClassState* k = &_state->Classes[c];
            while (true)
            {
                HeapSpan* span = k->Available;
                if (span == null)
                {
                    span = NewSlab(c);
                    if (span == null) return null;
                }
                int b = span->FirstAvailable();
                byte* block = span->Start + (long)b * k->BlockSize;
                bool wasEmpty = span->IsEmpty;
                if (b < span->Carved)
                {
                    if (_state->Poisoning && !IsPoisoned(block, k->BlockSize))
                    {
                        // Written after it was freed: keep it out of circulation, report, and
                        // try the next block.
                        span->SetTaken(b);
                        span->SetQuarantined(b);
                        span->Quarantined++;
                        _state->Stats.QuarantinedBlocks++;
                        RecordError(HeapError.UseAfterFree, block);
                        AfterTaking(k, span, wasEmpty);
                        continue;
                    }
                }
                else
                {
                    span->Carved = b + 1;   // all blocks at or above Carved are free, so b == Carved
                }
                span->SetTaken(b);
                span->Live++;
                AfterTaking(k, span, wasEmpty);
                k->BlocksInUse++;
                k->Allocations++;
                CountAllocation((ulong)k->BlockSize);
                return block;
            }
        }

        /// <summary>As Allocate, and the first size bytes are zero (what `new` needs).</summary>
        public byte* AllocateZeroed(nuint size)
        {
            byte* block = Allocate(size);
            if (block != null) Zero(block, size == 0 ? 1 : size);
            return block;
        }

        /// <summary>
        /// Gives a block back. Anything but a block the heap handed out and has not taken back
        /// is reported (counted, LastError) and changes nothing else.
        /// </summary>
        public HeapResult Free(void* pointer)
        {
            if (pointer == null) return HeapResult.Null;
            ulong address = (ulong)pointer;
            ulong entry = HeapPageMap.IsCanonical(address) ? _state->Map.Lookup(address) : 0;
            if (entry == 0) return Reject(HeapResult.NotHeapMemory, pointer);
            if (entry == HeapPageMap.Released) return Reject(HeapResult.DoubleFree, pointer);
            var span = (HeapSpan*)entry;

            if (span->IsLarge)
            {
                if ((byte*)pointer != span->Start) return Reject(HeapResult.NotBlockStart, pointer);
                FreeLarge(span);
                return HeapResult.Freed;
            }

            long offset = (byte*)pointer - span->Start;
            if (offset % span->BlockSize != 0 || offset / span->BlockSize >= span->Capacity)
                return Reject(HeapResult.NotBlockStart, pointer);
            int b = (int)(offset / span->BlockSize);
            if (b >= span->Carved) return Reject(HeapResult.NeverAllocated, pointer);
            if (!span->IsTaken(b) || span->IsQuarantined(b)) return Reject(HeapResult.DoubleFree, pointer);

            SizeClassState* k = &_state->Classes[span->SizeClass];
            span->ClearTaken(b);
            span->Live--;
            if (_state->Poisoning) Fill((byte*)pointer, PoisonByte, span->BlockSize);
            k->BlocksInUse--;
            k->Frees++;
            CountFree((ulong)span->BlockSize);

            // Freed-into slabs go to the head of the list: their memory is the next to be reused.
            if (span->InAvailableList) Unlink(k, span);
            PushFront(k, span);
            if (span->IsEmpty)
            {
                if (k->EmptySlabs > 0) ReleaseSlab(k, span);
                else k->EmptySlabs++;
            }
            return HeapResult.Freed;
        }

        /// <summary>True when pointer lies in a span the heap holds now (a slab or a large block).</summary>
        public bool Owns(void* pointer)
        {
            ulong address = (ulong)pointer;
            if (!HeapPageMap.IsCanonical(address)) return false;
            ulong entry = _state->Map.Lookup(address);
            return entry != 0 && entry != HeapPageMap.Released;
        }

        /// <summary>The size of the live block that starts at pointer, or 0 when there is none.</summary>
        public nuint BlockSizeOf(void* pointer)
        {
            ulong address = (ulong)pointer;
            if (pointer == null || !HeapPageMap.IsCanonical(address)) return 0;
            ulong entry = _state->Map.Lookup(address);
            if (entry == 0 || entry == HeapPageMap.Released) return 0;
            var span = (HeapSpan*)entry;
            if (span->IsLarge) return (byte*)pointer == span->Start ? (nuint)span->Pages * PageBytes : 0;
            long offset = (byte*)pointer - span->Start;
            if (offset % span->BlockSize != 0) return 0;
            int b = (int)(offset / span->BlockSize);
            if (b >= span->Carved || !span->IsTaken(b) || span->IsQuarantined(b)) return 0;
            return (nuint)span->BlockSize;
        }

        // ---- slabs ----

        private HeapSpan* NewSlab(int c)
        {
            SizeClassState* k = &_state->Classes[c];
            HeapSpan* span = NewSpan(k->SlabPages);
            if (span == null) return null;
            span->SizeClass = c;
            span->BlockSize = k->BlockSize;
            span->Capacity = k->BlocksPerSlab;
            PushFront(k, span);
            k->EmptySlabs++;
            k->Slabs++;
            return span;
        }

        // After a block of span was taken (handed out or quarantined).
        private static void AfterTaking(SizeClassState* k, HeapSpan* span, bool wasEmpty)
        {
            if (wasEmpty) k->EmptySlabs--;
            if (span->IsFull) Unlink(k, span);
        }

        private void ReleaseSlab(SizeClassState* k, HeapSpan* span)
        {
            Unlink(k, span);
            k->Slabs--;
            ReleaseSpan(span);
        }

        private static void PushFront(SizeClassState* k, HeapSpan* span)
        {
            span->Prev = null;
            span->Next = k->Available;
            if (k->Available != null) k->Available->Prev = span;
            k->Available = span;
            span->InAvailableList = true;
        }

        private static void Unlink(SizeClassState* k, HeapSpan* span)
        {
            if (span->Prev != null) span->Prev->Next = span->Next;
            else k->Available = span->Next;
            if (span->Next != null) span->Next->Prev = span->Prev;
            span->Next = span->Prev = null;
            span->InAvailableList = false;
        }

        // ---- large blocks ----

        private byte* AllocateLarge(nuint size)
        {
            // Rounded up without adding first: size may be near nuint's maximum.
            ulong pages = (ulong)size / PageBytes + ((ulong)size % PageBytes != 0 ? 1UL : 0UL);
            if (pages > MaxLargePages) return null;
            HeapSpan* span = NewSpan((int)pages);
            if (span == null) return null;
            span->SizeClass = HeapSpan.Large;
            span->BlockSize = 0;
            span->Capacity = 1;
            span->Live = 1;
            span->Carved = 1;
            _state->Stats.LargeBlocksInUse++;
            CountAllocation(pages * PageBytes);
            return span->Start;
        }

        private void FreeLarge(HeapSpan* span)
        {
            ulong bytes = (ulong)span->Pages * PageBytes;
            // Poisoned even though the pages leave the heap: a stale reader sees 0xDE, not
            // plausible data, as long as the page source keeps them mapped.
            if (_state->Poisoning) Fill(span->Start, PoisonByte, (nuint)bytes);
            _state->Stats.LargeBlocksInUse--;
            CountFree(bytes);
            ReleaseSpan(span);
        }

        // ---- spans, descriptors, pages ----

        // A descriptor and a run of pages, every page mapped to the descriptor.
        private HeapSpan* NewSpan(int pages)
        {
            HeapSpan* span = NewDescriptor();
            if (span == null) return null;
            byte* run = _pages.AllocatePages(pages);
            if (run == null) { FreeDescriptor(span); return null; }
            for (int i = 0; i < pages; i++)
            {
                if (!_state->Map.Set((ulong)(run + (long)i * PageBytes), (ulong)span, ref _pages, ref _state->Stats.MetadataPages))
                {
                    // Out of pages for the map itself: undo and report exhaustion.
                    for (int j = 0; j < i; j++) _state->Map.Set((ulong)(run + (long)j * PageBytes), 0, ref _pages, ref _state->Stats.MetadataPages);
                    _pages.FreePages(run, pages);
                    FreeDescriptor(span);
                    UpdatePagesHeld();
                    return null;
                }
            }
            span->Start = run;
            span->Pages = pages;
            span->Live = 0;
            span->Carved = 0;
            span->Quarantined = 0;
            span->ClearBitmaps();
            _state->SpanPages += (ulong)pages;
            UpdatePagesHeld();
            return span;
        }

        private void ReleaseSpan(HeapSpan* span)
        {
            for (int i = 0; i < span->Pages; i++)
                _state->Map.Set((ulong)(span->Start + (long)i * PageBytes), HeapPageMap.Released, ref _pages, ref _state->Stats.MetadataPages);
            _pages.FreePages(span->Start, span->Pages);
            _state->SpanPages -= (ulong)span->Pages;
            UpdatePagesHeld();
            FreeDescriptor(span);
        }

        private HeapSpan* NewDescriptor()
        {
            if (_state->FreeDescriptors == null)
            {
                byte* page = _pages.AllocatePages(1);
                if (page == null) return null;
                Fill(page, 0, PageBytes);
                _state->Stats.MetadataPages++;
                UpdatePagesHeld();
                int count = PageBytes / sizeof(HeapSpan);
                for (int i = 0; i < count; i++) FreeDescriptor((HeapSpan*)page + i);
            }
            HeapSpan* span = _state->FreeDescriptors;
            _state->FreeDescriptors = span->Next;
            span->Next = span->Prev = null;
            span->InAvailableList = false;
            return span;
        }

        private void FreeDescriptor(HeapSpan* span)
        {
            span->Start = null;
            span->Prev = null;
            span->InAvailableList = false;
            span->Next = _state->FreeDescriptors;
            _state->FreeDescriptors = span;
        }

        // Page-map nodes are counted in MetadataPages by the map as it makes them, so the
        // total is recomputed rather than kept in step by hand.
        private void UpdatePagesHeld()
        {
            HeapStatistics* s = &_state->Stats;
            s->PagesHeld = _state->SpanPages + s->MetadataPages;
            if (s->PagesHeld > s->PeakPagesHeld) s->PeakPagesHeld = s->PagesHeld;
        }

        // ---- accounting and reporting ----

        private void CountAllocation(ulong bytes)
        {
            HeapStatistics* s = &_state->Stats;
            s->BytesInUse += bytes;
            if (s->BytesInUse > s->PeakBytesInUse) s->PeakBytesInUse = s->BytesInUse;
            s->BlocksInUse++;
            s->Allocations++;
        }

        private void CountFree(ulong bytes)
        {
            HeapStatistics* s = &_state->Stats;
            s->BytesInUse -= bytes;
            s->BlocksInUse--;
            s->Frees++;
        }

        private HeapResult Reject(HeapResult result, void* pointer)
        {
            RecordError(result == HeapResult.DoubleFree ? HeapError.DoubleFree : HeapError.InvalidFree, pointer);
            return result;
        }

        private void RecordError(HeapError error, void* address)
        {
            HeapStatistics* s = &_state->Stats;
            if (error == HeapError.DoubleFree) s->DoubleFrees++;
            else if (error == HeapError.InvalidFree) s->InvalidFrees++;
            else s->UseAfterFrees++;
            s->Errors++;
            s->LastError = error;
            s->LastErrorAddress = (ulong)address;
        }

        // ---- memory helpers (the core library has no memset) ----

        private static bool IsPoisoned(byte* block, int size)
        {
            var words = (ulong*)block;
            for (int i = 0; i < size / 8; i++) if (words[i] != PoisonWord) return false;
            return true;
        }

        private static void Fill(byte* p, byte value, nuint size)
        {
            ulong word = value * 0x0101010101010101UL;
            nuint i = 0;
            if (((ulong)p & 7) == 0) for (; i + 8 <= size; i += 8) *(ulong*)(p + i) = word;
            for (; i < size; i++) p[i] = value;
        }

        private static void Fill(byte* p, byte value, int size) => Fill(p, value, (nuint)size);

        private static void Zero(byte* p, nuint size) => Fill(p, 0, size);
    }
}
