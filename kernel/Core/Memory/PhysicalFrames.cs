// The kernel's physical memory: one FrameAllocator over the boot memory map
// (FrameAllocator.cs explains the design, FrameAllocatorSetup.cs what is free).
// Its bitmaps live in RAM it takes for itself, reached through the direct map,
// so it needs no heap and works before the kernel's page tables exist.
using Tessera.Core.Boot;

namespace Tessera.Core.Memory
{
    public static unsafe class PhysicalFrames
    {
        public const int MaxExcluded = 8 + BootInfo.MaxModules + BootInfo.MaxLoaderData;

        private static FrameAllocator s_allocator = null!;
        private static readonly PhysicalRange[] s_excluded = new PhysicalRange[MaxExcluded];
        private static int s_excludedCount;

        public static FrameAllocator Allocator => s_allocator;
        /// <summary>True once Initialize ran (the kernel heap grows onto frames from then on).</summary>
        public static bool IsReady => s_allocator != null;
        public static ulong StoragePhysical;
        public static ulong StorageBytes;

        /// <summary>The ranges of usable RAM withheld from allocation (first 1 MiB, kernel, modules, boot information, bitmaps).</summary>
        public static PhysicalRange Excluded(int i) => s_excluded[i];
        public static int ExcludedCount => s_excludedCount;

        public static void Initialize(BootInfo boot)
        {
            Exclude(0, FrameAllocatorSetup.LowMemoryEnd);
            Exclude(KernelLayout.PhysicalStart(), KernelLayout.PhysicalEnd());
            for (int i = 0; i < boot.ModuleCount; i++) Exclude(boot.Modules[i].Start, boot.Modules[i].End);
            for (int i = 0; i < boot.LoaderDataCount; i++) Exclude(boot.LoaderData[i].Start, boot.LoaderData[i].End);

            ulong top = FrameAllocatorSetup.UsableTop(boot.Regions, boot.RegionCount);
            StorageBytes = FrameAllocator.StorageBytes(top);
            if (!FrameAllocatorSetup.FindStorage(boot.Regions, boot.RegionCount, s_excluded, s_excludedCount,
                                                 StorageBytes, DirectMap.BootMappedEnd, out StoragePhysical))
                Panic.Halt("no room below 4 GiB for the frame allocator's bitmaps");
            Exclude(StoragePhysical, StoragePhysical + StorageBytes);

            s_allocator = new FrameAllocator(DirectMap.ToVirtual(StoragePhysical), StorageBytes, top);
            FrameAllocatorSetup.Populate(s_allocator, boot.Regions, boot.RegionCount, s_excluded, s_excludedCount);
            if (s_allocator.FreeFrames == 0) Panic.Halt("no free physical memory");
        }

        private static void Exclude(ulong start, ulong end)
        {
            if (end <= start) return;
            if (s_excludedCount == MaxExcluded) Panic.Halt("too many excluded physical ranges");
            s_excluded[s_excludedCount++] = new PhysicalRange(start, end);
        }

        // The kernel's entry points. One CPU for now; a lock goes here with SMP.

        public static bool TryAllocate(out ulong physical) => s_allocator.TryAllocate(out physical);

        public static bool TryAllocateLarge(out ulong physical) => s_allocator.TryAllocateLarge(out physical);

        public static bool TryAllocateContiguous(ulong frames, ulong alignFrames, out ulong physical) =>
            s_allocator.TryAllocateContiguous(frames, alignFrames, out physical);

        /// <summary>Returns a frame; freeing one that is not allocated is a kernel bug and panics.</summary>
        public static void Free(ulong physical)
        {
            if (!s_allocator.Free(physical)) Panic.Halt("freeing a physical frame that is not allocated");
        }

        public static void FreeLarge(ulong physical)
        {
            if (!s_allocator.FreeLarge(physical)) Panic.Halt("freeing a 2 MiB run that is not allocated");
        }

        public static void FreeContiguous(ulong physical, ulong frames)
        {
            if (!s_allocator.FreeContiguous(physical, frames)) Panic.Halt("freeing physical frames that are not allocated");
        }

        /// <summary>The boot line: total = free + used + reserved, in frames and bytes.</summary>
        public static void PrintAccounting()
        {
            if (!Log.Begin(LogLevel.Info)) return;
            FrameAllocator a = s_allocator;
            Console.Write("frames: ");
            WriteCount(a.TotalFrames, " total");
            Console.Write(", ");
            WriteCount(a.FreeFrames, " free");
            Console.Write(", ");
            WriteCount(a.UsedFrames, " used");
            Console.Write(", ");
            WriteCount(a.ReservedFrames, " reserved");
            Console.Write(" (first 1 MiB, kernel image, boot modules and information, ");
            Console.WriteSize(StorageBytes);
            Console.WriteLine(" of bitmaps)");
        }

        private static void WriteCount(ulong frames, string what)
        {
            Console.WriteDecimal(frames);
            Console.Write(what);
            Console.Write(" (");
            Console.WriteSize(frames * FrameAllocator.FrameSize);
            Console.Write(")");
        }
    }
}
