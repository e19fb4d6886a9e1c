// Where the memory component's page store gets its 4 KiB frames: the pages it keeps for
// user processes and the tables that index them. The memory kernel hands out physical
// frames and reaches them through the direct map (PhysicalPageFrames); the host tests hand
// out blocks of native memory and check that every frame comes back exactly once.
// Pure logic: compiled into the memory kernel and the host tests.
namespace Tessera.Memory
{
    public abstract unsafe class PageFrames
    {
        public const int FrameSize = 4096;

        /// <summary>
        /// A frame: a 4096-aligned number that is never 0 (a physical address in the kernel).
        /// Its contents are undefined. False when memory is exhausted.
        /// </summary>
        public abstract bool TryAllocate(out ulong frame);

        /// <summary>Gives a frame back; freeing one that is not allocated is a bug the source reports.</summary>
        public abstract void Free(ulong frame);

        /// <summary>Where the frame's 4096 bytes can be read and written.</summary>
        public abstract byte* Address(ulong frame);
    }
}
