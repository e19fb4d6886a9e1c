// Self-tests of physical and virtual memory against the real machine: the frame
// allocator over the boot memory map, the kernel's page tables as built, and
// map/unmap/protect read back from the tables and through the MMU.
using Tessera.Core.Boot;
using Tessera.Core.Memory;

namespace Tessera.Core
{
    internal static class MemoryChecks
    {
        public static bool InsideUsableRegion(ulong start, ulong length)
        {
            BootInfo b = KernelMain.Boot;
            for (int i = 0; i < b.RegionCount; i++)
                if (b.Regions[i].IsUsable && b.Regions[i].Base <= start && start + length <= b.Regions[i].End) return true;
            return false;
        }

        public static bool TouchesExcluded(ulong start, ulong length)
        {
            for (int i = 0; i < PhysicalFrames.ExcludedCount; i++)
                if (PhysicalFrames.Excluded(i).Overlaps(start, start + length)) return true;
            return false;
        }

        /// <summary>Null when the frame range is a plausible allocation, else why not.</summary>
        public static string? CheckAllocated(ulong physical, ulong length, ulong alignment)
        {
            if ((physical & (alignment - 1)) != 0) return "allocation misaligned";
            if (!InsideUsableRegion(physical, length)) return "allocation outside usable RAM";
            if (TouchesExcluded(physical, length)) return "allocation overlaps the kernel, boot data, bitmaps or the first 1 MiB";
            if (physical < FrameAllocatorSetup.LowMemoryEnd) return "allocation below 1 MiB";
            return null;
        }
    }

    internal sealed unsafe class FrameAllocatorSelfTest : SelfTestCase
    {
        public override string Name => "memory.frames";

        public override string? Run()
        {
            FrameAllocator a = PhysicalFrames.Allocator;
            BootInfo b = KernelMain.Boot;
            if (a.TotalFrames != FrameAllocatorSetup.UsableFrames(b.Regions, b.RegionCount)) return "total is not the usable RAM of the map";
            if (a.FreeFrames + a.UsedFrames + a.ReservedFrames != a.TotalFrames) return "free + used + reserved != total";
            if (a.ReservedFrames * FrameAllocator.FrameSize < KernelLayout.PhysicalEnd() - KernelLayout.PhysicalStart()) return "kernel image not reserved";
            if (a.IsManaged(KernelLayout.PhysicalStart()) || a.IsManaged(KernelLayout.ToPhysical(KernelLayout.TextStart()))) return "kernel image is allocatable";
            if (a.IsManaged(0x1000) || a.IsManaged(0x9F000)) return "low memory is allocatable";
            if (a.IsManaged(PhysicalFrames.StoragePhysical)) return "the allocator's own bitmaps are allocatable";

            ulong freeBefore = a.FreeFrames;
            const int count = 64;
            ulong* frames = stackalloc ulong[count];
            for (int i = 0; i < count; i++)
            {
                if (!PhysicalFrames.TryAllocate(out frames[i])) return "4 KiB allocation failed";
                string? bad = MemoryChecks.CheckAllocated(frames[i], FrameAllocator.FrameSize, FrameAllocator.FrameSize);
                if (bad != null) return bad;
                for (int j = 0; j < i; j++) if (frames[j] == frames[i]) return "a frame was handed out twice";
                // Usable as memory: write a pattern through the direct map.
                ulong* p = (ulong*)DirectMap.ToVirtual(frames[i]);
                for (int k = 0; k < 512; k++) p[k] = frames[i] ^ (ulong)k;
            }
            if (a.FreeFrames != freeBefore - count) return "free count did not drop by the frames taken";
            for (int i = 0; i < count; i++)
            {
                ulong* p = (ulong*)DirectMap.ToVirtual(frames[i]);
                for (int k = 0; k < 512; k++) if (p[k] != (frames[i] ^ (ulong)k)) return "frame contents overlap another frame";
            }
            for (int i = 0; i < count; i++) PhysicalFrames.Free(frames[i]);
            if (a.FreeFrames != freeBefore) return "freeing did not restore the free count";
            if (a.Free(frames[0])) return "a double free was accepted";
            if (a.Free(KernelLayout.PhysicalStart())) return "freeing a kernel-image frame was accepted";

            if (!PhysicalFrames.TryAllocateLarge(out ulong large)) return "2 MiB allocation failed";
            string? badLarge = MemoryChecks.CheckAllocated(large, FrameAllocator.LargeFrameSize, FrameAllocator.LargeFrameSize);
            if (badLarge != null) return badLarge;
            if (a.FreeFrames != freeBefore - 512) return "a 2 MiB run did not take 512 frames";
            PhysicalFrames.FreeLarge(large);

            if (!PhysicalFrames.TryAllocateContiguous(3, 4, out ulong run)) return "contiguous allocation failed";
            string? badRun = MemoryChecks.CheckAllocated(run, 3 * FrameAllocator.FrameSize, 4 * FrameAllocator.FrameSize);
            if (badRun != null) return badRun;
            PhysicalFrames.FreeContiguous(run, 3);
            if (a.FreeFrames != freeBefore) return "runs did not give back their frames";
            return null;
        }
    }

    internal sealed unsafe class KernelLayoutSelfTest : SelfTestCase
    {
        public override string Name => "memory.kernel-layout";

        public override string? Run()
        {
            AddressSpace k = AddressSpace.Kernel;
            if (Cpu.ReadCr3() != k.Root || AddressSpace.ActiveRoot != k.Root) return "CR3 is not the kernel's PML4";
            bool nx = PagingFeatures.NoExecute;

            string? bad = Expect(k, (ulong)KernelLayout.TextStart(), write: false, execute: true, "text");
            bad ??= Expect(k, (ulong)KernelLayout.TextEnd() - 1, write: false, execute: true, "end of text");
            bad ??= Expect(k, (ulong)KernelLayout.RodataStart(), write: false, execute: !nx, "rodata");
            bad ??= Expect(k, (ulong)KernelLayout.DataStart(), write: true, execute: !nx, "data");
            bad ??= Expect(k, (ulong)KernelLayout.StackBottom(), write: true, execute: !nx, "stack");
            bad ??= Expect(k, (ulong)KernelLayout.BootHeapStart(), write: true, execute: !nx, "boot heap");
            if (bad != null) return bad;
            // The fault-test=ro target: W=0 in the leaf, so a write faults (CR0.WP is set).
            if ((Cpu.ReadCr0() & (1UL << 16)) == 0) return "CR0.WP is off: read-only pages are writable by the kernel";
            if (k.Query((ulong)KernelLayout.StackGuard(), out _)) return "the stack guard page is mapped";
            if (k.Query(KernelLayout.PhysicalStart(), out _) || k.Query(0x400000, out _)) return "the boot identity map is still there";
            // The whole lower half is empty: PML4[0..255] are all zero.
            ulong* pml4 = (ulong*)DirectMap.ToVirtual(k.Root);
            for (int i = 0; i < PageTable.FirstKernelSlot; i++) if (pml4[i] != 0) return "the kernel maps something in the lower half";
            // The stack we run on, through its own virtual address, is where the tables say.
            ulong local = 0x5EED;
            if (!k.Query((ulong)&local, out PageMapping m)) return "the current stack is not mapped";
            if (*(ulong*)DirectMap.ToVirtual(m.Physical) != 0x5EED) return "stack translation disagrees with the direct map";
            return null;
        }

        private static string? Expect(AddressSpace k, ulong va, bool write, bool execute, string what)
        {
            if (!k.Query(va, out PageMapping m)) return what + " not mapped";
            if (m.Size != PageSize.Small4K) return what + " not in 4 KiB pages";
            if (m.Physical != va - KernelLayout.VirtualBase) return what + " maps the wrong frame";
            if (PageFlags.IsWritable(m.Entry) != write) return write ? what + " is read-only" : what + " is writable";
            if (PageFlags.IsExecutable(m.Entry) != execute) return execute ? what + " is not executable" : what + " is executable";
            if (PageFlags.IsUser(m.Entry)) return what + " is user-accessible";
            if (PagingFeatures.GlobalPages && (m.Entry & PageFlags.Global) == 0) return what + " is not global";
            return null;
        }
    }

    internal sealed unsafe class DirectMapSelfTest : SelfTestCase
    {
        public override string Name => "memory.direct-map";

        public override string? Run()
        {
            AddressSpace k = AddressSpace.Kernel;
            // The same bytes through the kernel image and through the direct map.
            byte* text = KernelLayout.TextStart();
            byte* alias = DirectMap.ToVirtual(KernelLayout.ToPhysical(text));
            for (int i = 0; i < 4096; i++) if (text[i] != alias[i]) return "kernel text differs through the direct map";
            if (!k.Query((ulong)alias, out PageMapping m)) return "direct map of the kernel not mapped";
            if (m.Size == PageSize.Small4K) return "direct map not in large pages";
            if (m.Physical != KernelLayout.ToPhysical(text)) return "direct map translates to the wrong address";
            if (!PageFlags.IsWritable(m.Entry) || (PagingFeatures.NoExecute && PageFlags.IsExecutable(m.Entry))) return "direct map not rw, no-execute";
            if ((m.Entry & PageFlags.Device) != 0) return "RAM is mapped uncached";

            // All usable RAM is reachable; the highest usable byte is mapped.
            ulong top = FrameAllocatorSetup.UsableTop(KernelMain.Boot.Regions, KernelMain.Boot.RegionCount);
            if (top > DirectMap.MappedEnd) return "RAM beyond the direct map";
            if (!k.Query(DirectMap.Base + top - 1, out PageMapping last) || last.Physical != top - 1) return "end of RAM not direct-mapped";
            if (KernelAddressSpace.DirectMapUsesHugePages != PagingFeatures.HugePages) return "1 GiB pages used without CPU support (or not used)";

            // Device memory (the local APIC's page) is in the direct map, uncached.
            if (!k.Query(DirectMap.Base + 0xFEE00000, out PageMapping apic)) return "local APIC page not direct-mapped";
            if ((apic.Entry & PageFlags.Device) != PageFlags.Device) return "device memory not mapped uncached";
            if (DirectMap.MapDevice(0xFEE00000, 4096) != DirectMap.ToVirtual(0xFEE00000)) return "MapDevice of mapped memory moved it";

            // Beyond the direct map: MapDevice maps 2 MiB pages on demand (nothing is read there).
            ulong far = 0x80_0000_0000UL + 0x123000;   // 512 GiB: another top-level slot
            byte* farVirtual = DirectMap.MapDevice(far, 8192);
            if (farVirtual != DirectMap.ToVirtual(far)) return "MapDevice beyond the direct map failed";
            if (!k.Query((ulong)farVirtual, out PageMapping dev) || dev.Physical != far || dev.Size != PageSize.Large2M) return "device mapping reads back wrongly";
            if ((dev.Entry & PageFlags.Device) != PageFlags.Device) return "MapDevice mapping is cacheable";
            if (!PageFlags.IsPresent(k.Unmap((ulong)farVirtual))) return "device mapping could not be unmapped";
            if (k.Query((ulong)farVirtual, out _)) return "device mapping still there after unmap";
            return null;
        }
    }

    internal sealed unsafe class AddressSpaceSelfTest : SelfTestCase
    {
        public override string Name => "memory.address-space";

        private const ulong UserPage = 0x400000;           // where static Linux binaries load
        private const ulong UserLargePage = 0x40000000;    // 1 GiB: a 2 MiB page

        public override string? Run()
        {
            ulong freeBefore = PhysicalFrames.Allocator.FreeFrames;
            AddressSpace? space = AddressSpace.Create();
            if (space is null) return "cannot create an address space";
            if (!PhysicalFrames.TryAllocate(out ulong f1) || !PhysicalFrames.TryAllocate(out ulong f2)) return "no frames";
            Fill(f1, 0x1111);
            Fill(f2, 0x2222);

            string? failure = Exercise(space, f1, f2);
            // Whatever happened, go back to the kernel's tables before cleaning up.
            if (AddressSpace.ActiveRoot != AddressSpace.Kernel.Root) AddressSpace.Kernel.Activate();
            if (failure != null) return failure;

            if (space.FreeEmptyTables(0, PageTable.LowerHalfEnd) != 3) return "emptied PDPT, PD and PT were not freed";
            if (space.Table.CountTables(includeUpperHalf: false) != 1) return "tables left after freeing the empty ones";
            if (space.Destroy() != 1) return "destroy freed the wrong number of tables";
            PhysicalFrames.Free(f1);
            PhysicalFrames.Free(f2);
            if (PhysicalFrames.Allocator.FreeFrames != freeBefore) return "frames leaked";
            return null;
        }

        private static string? Exercise(AddressSpace space, ulong f1, ulong f2)
        {
            AddressSpace k = AddressSpace.Kernel;
            const ulong userData = PageFlags.User | PageFlags.Writable | PageFlags.NoExecute;
            if (space.Map(UserPage, f1, userData) != MapResult.Mapped) return "map failed";
            if (space.Map(UserPage, f2, userData) != MapResult.AlreadyMapped) return "mapping over a mapped page was allowed";
            if (space.Map(0xFFFF900000000000, f2, PageFlags.Writable) != MapResult.WrongHalf) return "a user space mapped in the kernel half";
            if (space.Map(UserPage + 1, f2, userData) != MapResult.Misaligned) return "misaligned map accepted";
            if (k.Query(UserPage, out _)) return "a user mapping showed up in the kernel's space";

            // Read back from the tables.
            if (!space.Query(UserPage + 0x123, out PageMapping m)) return "mapped page not found by the walk";
            if (m.PagePhysical != f1 || m.Physical != f1 + 0x123 || m.Size != PageSize.Small4K) return "walk translates wrongly";
            if (!PageFlags.IsUser(m.Entry) || !PageFlags.IsWritable(m.Entry)) return "flags lost";
            if (PagingFeatures.NoExecute && PageFlags.IsExecutable(m.Entry)) return "NX lost";
            if (PageFlags.IsDirty(m.Entry) || PageFlags.IsAccessed(m.Entry)) return "fresh entry already accessed or dirty";
            // The kernel half is shared: the kernel's code and stack are there.
            if (!space.Query((ulong)KernelLayout.TextStart(), out _) || !space.Query((ulong)&m, out _)) return "kernel half not shared";

            // Through the MMU: switch to the space and use the page.
            space.Activate();
            if (Cpu.ReadCr3() != space.Root) return "CR3 not switched";
            ulong* page = (ulong*)UserPage;
            if (page[0] != 0x1111 || page[511] != 0x1111 + 511) return "page reads differently through its new address";
            page[7] = 0xC0FFEE;
            if (*(ulong*)(DirectMap.ToVirtual(f1) + 7 * 8) != 0xC0FFEE) return "write through the new address not seen in the direct map";
            if (!space.IsDirty(UserPage)) return "dirty bit not set by a write";
            if (!PageFlags.IsAccessed(space.Table.EntryOf(UserPage))) return "accessed bit not set";
            if (!PageFlags.IsDirty(space.ClearAccessedDirty(UserPage, PageFlags.Dirty)) || space.IsDirty(UserPage)) return "dirty bit not cleared";

            // Protect: read-only now, same frame, accessed kept.
            if (!space.Protect(UserPage, PageFlags.User | PageFlags.NoExecute)) return "protect failed";
            ulong ro = space.Table.EntryOf(UserPage);
            if (PageFlags.IsWritable(ro) || (ro & PageFlags.AddressMask) != f1 || !PageFlags.IsAccessed(ro)) return "protect did not change just the permissions";
            if (page[7] != 0xC0FFEE) return "read-only page not readable";

            // Unmap returns the old entry; remap to another frame: the TLB must not keep the old one.
            ulong old = space.Unmap(UserPage);
            if ((old & PageFlags.AddressMask) != f1 || !PageFlags.IsPresent(old)) return "unmap returned the wrong entry";
            if (space.Query(UserPage, out _) || space.Unmap(UserPage) != 0) return "page still mapped after unmap";
            if (space.Map(UserPage, f2, userData) != MapResult.Mapped) return "remap failed";
            if (page[0] != 0x2222) return "stale translation after remap (TLB not invalidated)";
            space.Unmap(UserPage);

            // A 2 MiB page.
            if (!PhysicalFrames.TryAllocateLarge(out ulong large)) return "no 2 MiB run";
            *(ulong*)(DirectMap.ToVirtual(large) + 0x1FFFF8) = 0xB16;
            MapResult lr = space.Map(UserLargePage, large, userData, PageSize.Large2M);
            string? largeFailure = null;
            if (lr != MapResult.Mapped) largeFailure = "2 MiB map failed";
            else if (!space.Query(UserLargePage + 0x1FFFF8, out PageMapping lm) || lm.Size != PageSize.Large2M || lm.Physical != large + 0x1FFFF8) largeFailure = "2 MiB page walks wrongly";
            else if (*(ulong*)(UserLargePage + 0x1FFFF8) != 0xB16) largeFailure = "2 MiB page reads wrongly";
            else if (space.Map(UserLargePage + 0x1000, f2, userData) != MapResult.LargePageInTheWay) largeFailure = "4 KiB map inside a 2 MiB page allowed";
            space.Unmap(UserLargePage);
            k.Activate();
            PhysicalFrames.FreeLarge(large);
            if (largeFailure != null) return largeFailure;
            // Two PDs (0x400000 and 0x40000000 are in different GiBs): emptying one leaves 4 tables.
            if (space.FreeEmptyTables(UserLargePage, UserLargePage + (1UL << 30)) != 1) return "the emptied PD was not freed";
            return null;
        }

        private static void Fill(ulong frame, ulong seed)
        {
            ulong* p = (ulong*)DirectMap.ToVirtual(frame);
            for (int i = 0; i < 512; i++) p[i] = seed + (ulong)i;
        }
    }

    internal sealed unsafe class KernelStacksSelfTest : SelfTestCase
    {
        public override string Name => "memory.kernel-stacks";

        public override string? Run()
        {
            AddressSpace k = AddressSpace.Kernel;
            // The first stacks may create the dynamic area's PD and PT, which stay.
            int tablesBefore = k.Table.CountTables(includeUpperHalf: true);
            ulong freeBefore = PhysicalFrames.Allocator.FreeFrames;
            ulong top = KernelStacks.Allocate(16 * 1024);
            if (top == 0) return "allocation failed";
            ulong top2 = KernelStacks.Allocate(KernelStacks.MaxStackBytes);
            if (top2 == 0) return "second allocation failed";
            ulong newTables = (ulong)(k.Table.CountTables(includeUpperHalf: true) - tablesBefore);
            ulong bottom = top - 16 * 1024;
            if (!k.Query(bottom, out PageMapping m) || !k.Query(top - 8, out _)) return "stack not mapped";
            if (!PageFlags.IsWritable(m.Entry) || (PagingFeatures.NoExecute && PageFlags.IsExecutable(m.Entry))) return "stack not rw, no-execute";
            if (k.Query(bottom - 4096, out _)) return "no guard page under the stack";
            if (k.Query(top2 - KernelStacks.MaxStackBytes - 4096, out _)) return "no guard page under the largest stack";
            if (top2 - top < KernelStacks.SlotBytes) return "stacks overlap";
            *(ulong*)bottom = 1;
            *(ulong*)(top - 8) = 2;
            if (*(ulong*)bottom + *(ulong*)(top - 8) != 3) return "stack memory not usable";
            if (PhysicalFrames.Allocator.FreeFrames + 4 + 31 + newTables != freeBefore) return "stack frames miscounted";
            KernelStacks.Free(top);
            KernelStacks.Free(top2);
            if (k.Query(bottom, out _) || k.Query(top - 8, out _)) return "stack still mapped after free";
            if (PhysicalFrames.Allocator.FreeFrames + newTables != freeBefore) return "stack frames leaked";
            return null;
        }
    }
}
