// Memory that devices read and write by physical address (virtqueues, packet buffers).
// Today the kernel runs identity-mapped (boot/entry.asm), so an address in the kernel heap
// is its own physical address; when the kernel moves to its own page tables this is the
// one place that turns a kernel pointer into a physical address.
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
            byte* raw = (byte*)KernelHeap.AllocateZeroed((nuint)(rounded + PageSize));
            byte* aligned = (byte*)(((ulong)raw + PageSize - 1) & ~(ulong)(PageSize - 1));
            return new DmaRegion { Virtual = aligned, Physical = VirtualToPhysical(aligned), Bytes = rounded };
        }

        public static ulong VirtualToPhysical(void* address) => (ulong)address;

        /// <summary>A pointer to device memory (an MMIO BAR) at a physical address.</summary>
        public static byte* MapDevice(ulong physical, ulong bytes) => (byte*)physical;
    }
}
