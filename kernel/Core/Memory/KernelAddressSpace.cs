// The kernel's page tables, built once at boot to replace boot/entry.asm's
// identity map (Intel SDM Vol. 3A §4.5). Virtual layout (docs/kernel-memory.md):
//
//   0x0000000000000000-0x00007fffffffffff  lower half: empty, for user programs
//   0xffff800000000000-...                 direct map of physical memory (PML4 256+),
//                                          read/write, no-execute, 1 GiB pages when
//                                          the CPU has them, else 2 MiB; RAM write-back,
//                                          the rest of the first 4 GiB uncached (MMIO)
//   0xffffff0000000000-0xffffff7fffffffff  kernel dynamic mappings (PML4 510): stacks
//   0xffffffff80000000 + physical          the kernel image (PML4 511), 4 KiB pages:
//                                          .text read-only + executable, .rodata
//                                          read-only, .data/.bss read/write, both
//                                          no-execute; the page under the boot stack
//                                          left unmapped as a guard
//
// All upper-half entries are global (CR4.PGE): they survive CR3 switches. The
// upper half's top-level entries are created here and frozen, so every address
// space made later shares the very same kernel tables.
using Tessera.Core.Boot;

namespace Tessera.Core.Memory
{
    public static unsafe class KernelAddressSpace
    {
        public const ulong DynamicBase = 0xFFFFFF0000000000UL;   // PML4[510]
        private const int DynamicSlot = 510;
        private const ulong Gigabyte = 1UL << 30, TwoMegabytes = 2UL << 20;
        private const ulong Cr4GlobalPages = 1UL << 7;
        // Device memory (64-bit BARs) may sit anywhere below 1 TiB on QEMU's PC: the direct
        // map's top-level slots for it exist from the start (2 PDPTs), mapped on demand.
        private const ulong DirectMapSlotsCover = 1UL << 40;

        /// <summary>Physical bytes the direct map covers once the kernel tables are live.</summary>
        public static ulong DirectMapBytes;
        public static bool DirectMapUsesHugePages;

        public static void Initialize(BootInfo boot)
        {
            PagingFeatures.Detect();
            var memory = new DirectMapPageTableMemory();
            PageTable? table = PageTable.Create(memory, PagingFeatures.NoExecute);
            if (table is null) Panic.Halt("no memory for the kernel's page tables");
            ulong global = PagingFeatures.GlobalPages ? PageFlags.Global : 0;

            MapDirectMap(table, boot, global);
            MapImage(table, global);

            ulong slotsEnd = DirectMapSlotsCover > DirectMapBytes ? DirectMapSlotsCover : DirectMapBytes;
            for (int slot = PageTable.FirstKernelSlot; (ulong)(slot - PageTable.FirstKernelSlot) * PageTable.SpanAt(4) < slotsEnd; slot++)
                if (!table.PrepareKernelSlot(slot)) Panic.Halt("no memory for the direct map's top-level tables");
            if (!table.PrepareKernelSlot(DynamicSlot)) Panic.Halt("no memory for the kernel's dynamic-mapping table");
            table.FreezeKernelSlots();

            // Switch. The code, stack, data and the direct map (hence the frame allocator's
            // bitmaps) are at the same virtual addresses in both hierarchies.
            AddressSpace.InstallKernel(table);
            Cpu.WriteCr3(table.Root);
            if (PagingFeatures.GlobalPages) Cpu.WriteCr4(Cpu.ReadCr4() | Cr4GlobalPages);
            DirectMap.SetMappedEnd(DirectMapBytes);
        }

        /// <summary>
        /// Maps [0, max(4 GiB, end of RAM)) at DirectMap.Base. A 2 MiB piece is RAM (write-back)
        /// when any usable or ACPI region touches it, else device memory (uncached); a 1 GiB page
        /// is used where the CPU has them and the whole gigabyte is of one kind.
        /// </summary>
        private static void MapDirectMap(PageTable table, BootInfo boot, ulong global)
        {
            ulong end = DirectMap.BootMappedEnd;
            for (int i = 0; i < boot.RegionCount; i++)
                if (IsRam(boot.Regions[i].Type) && boot.Regions[i].End > end) end = boot.Regions[i].End;
            end = (end + Gigabyte - 1) & ~(Gigabyte - 1);
            DirectMapBytes = end;
            DirectMapUsesHugePages = PagingFeatures.HugePages;

            const ulong data = PageFlags.Writable | PageFlags.NoExecute;
            for (ulong gig = 0; gig < end; gig += Gigabyte)
            {
                int ramPieces = 0;
                for (ulong piece = gig; piece < gig + Gigabyte; piece += TwoMegabytes)
                    if (TouchesRam(boot, piece, TwoMegabytes)) ramPieces++;
                if (PagingFeatures.HugePages && (ramPieces == 0 || ramPieces == 512))
                {
                    Check(table.Map(DirectMap.Base + gig, gig, data | global | (ramPieces == 0 ? PageFlags.Device : 0), PageSize.Huge1G), "cannot build the direct map (1 GiB pages)");
                    continue;
                }
                for (ulong piece = gig; piece < gig + Gigabyte; piece += TwoMegabytes)
                {
                    ulong caching = TouchesRam(boot, piece, TwoMegabytes) ? 0 : PageFlags.Device;
                    Check(table.Map(DirectMap.Base + piece, piece, data | global | caching, PageSize.Large2M), "cannot build the direct map (2 MiB pages)");
                }
            }
        }

        private static bool IsRam(MemoryRegionType t) =>
            t == MemoryRegionType.Usable || t == MemoryRegionType.AcpiReclaimable || t == MemoryRegionType.AcpiNvs;

        private static bool TouchesRam(BootInfo boot, ulong start, ulong length)
        {
            for (int i = 0; i < boot.RegionCount; i++)
            {
                MemoryRegion r = boot.Regions[i];
                if (IsRam(r.Type) && r.Base < start + length && start < r.End) return true;
            }
            return false;
        }

        /// <summary>The higher-half image with per-section permissions (W^X), 4 KiB pages.</summary>
        private static void MapImage(PageTable table, ulong global)
        {
            MapImageRange(table, KernelLayout.TextStart(), KernelLayout.RodataStart(), global);
            MapImageRange(table, KernelLayout.RodataStart(), KernelLayout.DataStart(), PageFlags.NoExecute | global);
            const ulong data = PageFlags.Writable | PageFlags.NoExecute;
            MapImageRange(table, KernelLayout.DataStart(), KernelLayout.StackGuard(), data | global);
            MapImageRange(table, KernelLayout.StackGuard() + 4096, KernelLayout.KernelEnd(), data | global);
        }

        private static void MapImageRange(PageTable table, byte* start, byte* end, ulong flags)
        {
            ulong va = (ulong)start & ~4095UL;
            ulong length = (((ulong)end + 4095) & ~4095UL) - va;
            Check(table.MapRange(va, va - KernelLayout.VirtualBase, length, flags, allowLarge: false, allowHuge: false), "cannot map the kernel image");
        }

        private static void Check(MapResult result, string failure)
        {
            if (result != MapResult.Mapped) Panic.Halt(failure);
        }

        /// <summary>The boot line: where the image's sections are and how the direct map is built.</summary>
        public static void PrintLayout()
        {
            if (!Log.Begin(LogLevel.Info)) return;
            Console.Write("paging: text ");
            WriteRange(KernelLayout.TextStart(), KernelLayout.RodataStart());
            Console.Write(" r-x, rodata ");
            WriteRange(KernelLayout.RodataStart(), KernelLayout.DataStart());
            Console.Write(" r--, data ");
            WriteRange(KernelLayout.DataStart(), KernelLayout.KernelEnd());
            Console.Write(" rw-, stack guard ");
            Console.WriteHex((ulong)KernelLayout.StackGuard());
            Console.Write(", direct map ");
            Console.WriteHex(DirectMap.Base);
            Console.Write("-");
            Console.WriteHex(DirectMap.Base + DirectMapBytes - 1);
            Console.Write(DirectMapUsesHugePages ? " (1 GiB pages, 2 MiB where RAM and device memory share a GiB)" : " (2 MiB pages)");
            Console.Write(PagingFeatures.NoExecute ? ", nx" : ", no nx");
            Console.WriteLine(PagingFeatures.GlobalPages ? ", global" : "");
        }

        private static void WriteRange(byte* start, byte* end)
        {
            Console.WriteHex((ulong)start);
            Console.Write("-");
            Console.WriteHex((ulong)end - 1);
        }
    }
}
