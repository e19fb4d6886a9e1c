// The direct map: all of physical memory at DirectMap.Base + physical address,
// in the upper half (PML4 slots 256 and up), data only (no execute).
// boot/entry.asm maps the first 4 GiB there so the kernel can read the boot
// information and build its page tables; KernelAddressSpace then maps all RAM
// (and the first 4 GiB, device memory uncached). Physical addresses are NOT
// pointers any more: convert with ToVirtual.
using System;
using Tessera.Core.Boot;

namespace Tessera.Core.Memory
{
    public static unsafe class DirectMap
    {
        public const ulong Base = 0xFFFF800000000000UL;
        /// <summary>The part boot/entry.asm maps before the kernel's own tables exist.</summary>
        public const ulong BootMappedEnd = 4UL << 30;

        private static ulong s_mappedEnd = BootMappedEnd;

        /// <summary>Physical addresses below this are mapped (beyond it: MapDevice).</summary>
        public static ulong MappedEnd => s_mappedEnd;

        internal static void SetMappedEnd(ulong end) => s_mappedEnd = end;

        public static byte* ToVirtual(ulong physical) => (byte*)(Base + physical);

        public static ulong ToPhysical(void* directMapped) => (ulong)directMapped - Base;

        public static bool Contains(ulong physical, ulong length) =>
            physical < s_mappedEnd && length <= s_mappedEnd - physical;

        /// <summary>
        /// Makes sure [physical, physical + length) is reachable through the direct map, mapping
        /// what is missing as uncached device memory (2 MiB pages). Returns the virtual address,
        /// or null when the range cannot be mapped.
        /// </summary>
        public static byte* MapDevice(ulong physical, ulong length)
        {
            if (length == 0 || physical + length < physical) return null;
            if (physical + length > 1UL << PagingFeatures.PhysicalAddressBits) return null;
            if (Contains(physical, length)) return ToVirtual(physical);
            AddressSpace kernel = AddressSpace.Kernel;
            const ulong large = 2UL << 20;
            for (ulong chunk = physical & ~(large - 1); chunk < physical + length; chunk += large)
            {
                if (kernel.Query(Base + chunk, out _)) continue;
                MapResult r = kernel.Map(Base + chunk, chunk, PageFlags.Writable | PageFlags.NoExecute | PageFlags.Global | PageFlags.Device, PageSize.Large2M);
                if (r != MapResult.Mapped) return null;
            }
            return ToVirtual(physical);
        }
    }

    /// <summary>PhysicalMemory (for the boot-information parser) read through the direct map.</summary>
    public sealed unsafe class DirectMapMemory : PhysicalMemory
    {
        public override bool Read(ulong address, Span<byte> destination)
        {
            ulong length = (ulong)destination.Length;
            if (address == 0 || !DirectMap.Contains(address, length)) return false;
            byte* source = DirectMap.ToVirtual(address);
            for (int i = 0; i < destination.Length; i++) destination[i] = source[i];
            return true;
        }
    }

    /// <summary>Page tables in real memory: entries through the direct map, tables from PhysicalFrames, INVLPG.</summary>
    public sealed unsafe class DirectMapPageTableMemory : PageTableMemory
    {
        public override ulong ReadEntry(ulong tablePhysical, int index) => ((ulong*)DirectMap.ToVirtual(tablePhysical))[index];

        public override void WriteEntry(ulong tablePhysical, int index, ulong entry) =>
            ((ulong*)DirectMap.ToVirtual(tablePhysical))[index] = entry;

        public override bool TryAllocateTable(out ulong physical)
        {
            if (!PhysicalFrames.TryAllocate(out physical)) return false;
            // Before the kernel's tables are live only the boot direct map (4 GiB) reaches it.
            if (!DirectMap.Contains(physical, 4096)) Panic.Halt("page-table frame beyond the direct map");
            ulong* table = (ulong*)DirectMap.ToVirtual(physical);
            for (int i = 0; i < PageTable.EntriesPerTable; i++) table[i] = 0;
            return true;
        }

        public override void FreeTable(ulong physical) => PhysicalFrames.Free(physical);

        /// <summary>
        /// One CPU for now: INVLPG when the change can be cached here, i.e. the hierarchy is the
        /// active one or the address is in the shared upper half. (INVLPG also flushes the
        /// paging-structure caches, SDM Vol. 3A §4.10.4.1, which covers freed tables.)
        /// Several CPUs will need a shootdown IPI here.
        /// </summary>
        public override void Invalidate(ulong root, ulong virtualAddress)
        {
            if (PageTable.IsUpperHalf(virtualAddress) || root == AddressSpace.ActiveRoot) Cpu.InvalidatePage(virtualAddress);
        }
    }
}
