// The early kernel heap: a bump allocator over a fixed region reserved in the
// image (boot/entry.asm, 8 MiB). No free: the objects made at start-up live for
// the life of the kernel (DESIGN §4). The kernel-core issue replaces this with
// slabs and page runs over the frame allocator.
namespace Tessera.Core.Memory
{
    public static unsafe class KernelHeap
    {
        private static byte* s_next;
        private static byte* s_end;
        public static ulong BytesAllocated;
        public static ulong Allocations;

        public static ulong Capacity => (ulong)(KernelLayout.BootHeapEnd() - KernelLayout.BootHeapStart());

        /// <summary>Returns size bytes of zeroed memory, 16-byte aligned.</summary>
        public static void* AllocateZeroed(nuint size)
        {
            if (s_next == null)
            {
                s_next = KernelLayout.BootHeapStart();
                s_end = KernelLayout.BootHeapEnd();
            }
            nuint rounded = (size + 15) & ~(nuint)15;
            if (rounded > (nuint)(s_end - s_next)) Panic.Halt("kernel heap exhausted");
            byte* p = s_next;
            s_next += rounded;
            BytesAllocated += rounded;
            Allocations++;
            // The region is .bss, zeroed by the loader and never reused: already zero.
            return p;
        }
    }
}
