// The memory kernel's frames for the page store: physical frames from the kernel's frame
// allocator (kernel/Core/Memory/PhysicalFrames.cs), reached through the direct map since
// the kernel runs in the higher half and a physical address is not a pointer.
using Tessera.Core.Memory;

namespace Tessera.Memory
{
    public sealed unsafe class PhysicalPageFrames : PageFrames
    {
        public override bool TryAllocate(out ulong frame) => PhysicalFrames.TryAllocate(out frame);

        public override void Free(ulong frame) => PhysicalFrames.Free(frame);

        public override byte* Address(ulong frame) => DirectMap.ToVirtual(frame);
    }
}
