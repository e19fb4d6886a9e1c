// Kernel stacks beyond the boot stack (threads, interrupt stacks): each in its
// own 128 KiB slot of the kernel's dynamic area (KernelAddressSpace.DynamicBase),
// mapped at the top of the slot, with at least the page below it unmapped, so an
// overflow page-faults instead of running into a neighbour.
namespace Tessera.Core.Memory
{
    public static unsafe class KernelStacks
    {
        public const ulong SlotBytes = 128UL << 10;
        /// <summary>The largest stack: the slot minus its guard page.</summary>
        public const ulong MaxStackBytes = SlotBytes - 4096;
        public const int MaxStacks = 4096;      // 512 MiB of address space
        private static readonly ulong[] s_slotUsed = new ulong[MaxStacks / 64];

        /// <summary>
        /// Maps a zeroed stack of bytes (rounded up to pages) and returns its top, the initial
        /// stack pointer; 0 when out of frames or slots.
        /// </summary>
        public static ulong Allocate(ulong bytes)
        {
            if (bytes == 0 || bytes > MaxStackBytes) return 0;
            int slot = TakeSlot();
            if (slot < 0) return 0;
            ulong top = KernelAddressSpace.DynamicBase + (ulong)(slot + 1) * SlotBytes;
            ulong bottom = top - ((bytes + 4095) & ~4095UL);
            for (ulong va = bottom; va < top; va += 4096)
            {
                if (!PhysicalFrames.TryAllocate(out ulong frame)) { Release(va, top, slot); return 0; }
                ulong* page = (ulong*)DirectMap.ToVirtual(frame);
                for (int i = 0; i < 512; i++) page[i] = 0;
                ulong global = PagingFeatures.GlobalPages ? PageFlags.Global : 0;
                if (AddressSpace.Kernel.Map(va, frame, PageFlags.Writable | PageFlags.NoExecute | global) != MapResult.Mapped)
                {
                    PhysicalFrames.Free(frame);
                    Release(va + 4096, top, slot);
                    return 0;
                }
            }
            return top;
        }

        /// <summary>Unmaps a stack from Allocate (given its top) and returns its frames.</summary>
        public static void Free(ulong top)
        {
            ulong offset = top - KernelAddressSpace.DynamicBase;
            if (top <= KernelAddressSpace.DynamicBase || offset % SlotBytes != 0 || offset / SlotBytes > MaxStacks)
                Panic.Halt("freeing a kernel stack that was not allocated");
            int slot = (int)(offset / SlotBytes) - 1;
            if ((s_slotUsed[slot >> 6] & (1UL << (slot & 63))) == 0) Panic.Halt("freeing a kernel stack that was not allocated");
            ulong bottom = top;
            while (bottom > top - SlotBytes && AddressSpace.Kernel.Query(bottom - 4096, out _)) bottom -= 4096;
            Release(bottom, top, slot);
        }

        /// <summary>Unmaps [from, top), frees those frames and the slot.</summary>
        private static void Release(ulong from, ulong top, int slot)
        {
            for (ulong va = from; va < top; va += 4096)
            {
                ulong old = AddressSpace.Kernel.Unmap(va);
                if (PageFlags.IsPresent(old)) PhysicalFrames.Free(old & PageFlags.AddressMask);
            }
            s_slotUsed[slot >> 6] &= ~(1UL << (slot & 63));
        }

        private static int TakeSlot()
        {
            for (int w = 0; w < s_slotUsed.Length; w++)
            {
                if (s_slotUsed[w] == ulong.MaxValue) continue;
                int bit = FrameAllocator.LowestSetBit(~s_slotUsed[w]);
                s_slotUsed[w] |= 1UL << bit;
                return w * 64 + bit;
            }
            return -1;
        }
    }
}
