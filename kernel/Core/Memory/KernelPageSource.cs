// The kernel heap's pages: first the boot heap region reserved in the image (the heap is
// needed before the frame allocator exists: static bases, boot-information parsing), then,
// once PhysicalFrames is up, runs of physical frames seen through the direct map.
// A struct with no reference fields, so the heap can live in .bss (see IPageSource.cs).
namespace Tessera.Core.Memory
{
    public unsafe struct KernelPageSource : IPageSource
    {
        private RegionPageSource _region;

        public KernelPageSource(RegionPageSource region) { _region = region; }

        public byte* AllocatePages(int count)
        {
            byte* pages = _region.AllocatePages(count);
            if (pages != null || !PhysicalFrames.IsReady || count <= 0) return pages;
            if (!PhysicalFrames.TryAllocateContiguous((ulong)count, 1, out ulong physical)) return null;
            return DirectMap.ToVirtual(physical);
        }

        public void FreePages(byte* address, int count)
        {
            if (address >= KernelLayout.BootHeapStart() && address < KernelLayout.BootHeapEnd()) _region.FreePages(address, count);
            else PhysicalFrames.FreeContiguous(DirectMap.ToPhysical(address), (ulong)count);
        }
    }
}
