// Where the kernel heap gets its memory: runs of whole 4 KiB pages.
//
// This is the seam between the heap (SlabHeap.cs, pure logic) and whatever owns physical
// memory. Today the kernel backs it with the boot heap region reserved in the image
// (RegionPageSource.cs over boot/entry.asm's boot_heap_start..boot_heap_end); the host tests
// back it with native memory; once the frame allocator and the direct map exist, a page
// source over them replaces the region (one line in KernelHeap.cs).
//
// Why an interface used as a generic constraint (SlabHeap<TPages> where TPages : struct,
// IPageSource) and not an abstract class: the heap is what `new` calls, so it must exist
// before any object can be made, and before the runtime has allocated the static bases that
// reference-type statics live in (StartupCodeHelpers allocates them through the heap). A
// struct page source inside a struct heap needs neither: both sit in a plain static of the
// image's .bss. ILC compiles the constrained calls as direct calls on the concrete struct,
// so the seam costs nothing and needs no interface-dispatch resolver.
//
// A page source is a handle: it may be copied, so whatever it mutates lives behind a
// pointer (or, on the host, a reference), never in the struct's own fields.
namespace Tessera.Core.Memory
{
    public unsafe interface IPageSource
    {
        /// <summary>
        /// Returns count contiguous pages, aligned to 4 KiB, contents undefined; null when
        /// the source cannot supply them.
        /// </summary>
        byte* AllocatePages(int count);

        /// <summary>Takes back a run returned by AllocatePages, with the same count.</summary>
        void FreePages(byte* address, int count);
    }
}
