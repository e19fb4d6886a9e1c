// Memory that devices read and write by physical address (virtqueues, packet buffers):
// whole frames from PhysicalFrames, reached by the kernel through the direct map.
namespace Tessera.Core.Memory
{
    public unsafe struct DmaRegion
    {
        public byte* Virtual;
        public ulong Physical;
        public int Bytes;
    }

    public static unsafe class DmaMemory
    {
        public const int PageSize = 4096;

        /// <summary>Physically contiguous, page-aligned, zeroed memory for a device.</summary>
        public static DmaRegion Allocate(int bytes)
        {
            int rounded = (bytes + PageSize - 1) & ~(PageSize - 1);
            if (!PhysicalFrames.TryAllocateContiguous((ulong)(rounded / PageSize), 1, out ulong physical))
                Panic.Halt("DMA memory: no contiguous frames left");
            byte* virt = DirectMap.ToVirtual(physical);
            for (int i = 0; i < rounded; i += 8) *(ulong*)(virt + i) = 0;
            return new DmaRegion { Virtual = virt, Physical = physical, Bytes = rounded };
        }

        /// <summary>A pointer to device memory (an MMIO BAR) at a physical address, uncached.</summary>
        public static byte* MapDevice(ulong physical, ulong bytes) => DirectMap.MapDevice(physical, bytes);
    }
}
