using FsCheck;
using FsCheck.Xunit;
using Tessera.Core.Memory;
using Xunit;

namespace Tessera.Tests.Host;

/// <summary>
/// The page-table builder and walker (kernel/Core/Memory/PageTable.cs), compiled from the
/// kernel's sources, over tables held in arrays. The raw tables are inspected directly, so
/// these tests check the x86-64 format (Intel SDM Vol. 3A §4.5), not only round trips.
/// </summary>
public sealed class PageTableTests
{
    private const ulong KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;
    private const ulong UserRw = PageFlags.User | PageFlags.Writable | PageFlags.NoExecute;

    /// <summary>Tables in arrays at made-up physical addresses; records frees and invalidations.</summary>
    private sealed class ArrayMemory : PageTableMemory
    {
        public readonly Dictionary<ulong, ulong[]> Tables = [];
        public readonly List<(ulong Root, ulong Va)> Invalidations = [];
        public readonly List<ulong> Freed = [];
        public int Allocated;
        public int Limit = int.MaxValue;
        private ulong _next = 0x10_0000;

        public override ulong ReadEntry(ulong table, int index) => Tables[table][index];
        public override void WriteEntry(ulong table, int index, ulong entry) => Tables[table][index] = entry;

        public override bool TryAllocateTable(out ulong physical)
        {
            physical = 0;
            if (Tables.Count >= Limit) return false;
            physical = _next;
            _next += 4096;
            Tables.Add(physical, new ulong[512]);
            Allocated++;
            return true;
        }

        public override void FreeTable(ulong physical)
        {
            Assert.True(Tables.Remove(physical), $"table {physical:x} freed twice or never allocated");
            Freed.Add(physical);
        }

        public override void Invalidate(ulong root, ulong va) => Invalidations.Add((root, va));

        public ulong Entry(ulong table, int index) => Tables[table][index];
    }

    private static (ArrayMemory Memory, PageTable Table) NewTable(bool nx = true)
    {
        var memory = new ArrayMemory();
        var table = PageTable.Create(memory, nx);
        Assert.NotNull(table);
        return (memory, table!);
    }

    [Fact]
    public void MapBuildsTheFourLevelsOfTheSdm()
    {
        var (m, t) = NewTable();
        // 0x0000_7F80_4060_3000: PML4 255, PDPT 2, PD 3, PT 3 (bits 47-39, 38-30, 29-21, 20-12).
        ulong va = (255UL << 39) | (2UL << 30) | (3UL << 21) | (3UL << 12);
        Assert.Equal(MapResult.Mapped, t.Map(va, 0x1234_5000, UserRw));
        Assert.Equal(4, m.Tables.Count);

        ulong pml4e = m.Entry(t.Root, 255);
        Assert.Equal(PageFlags.Present | PageFlags.Writable | PageFlags.User, pml4e & ~PageFlags.AddressMask);
        ulong pdpte = m.Entry(pml4e & PageFlags.AddressMask, 2);
        ulong pde = m.Entry(pdpte & PageFlags.AddressMask, 3);
        ulong pte = m.Entry(pde & PageFlags.AddressMask, 3);
        Assert.Equal(0x1234_5000UL | PageFlags.Present | UserRw, pte);
        Assert.Equal(0, m.Tables.Values.Sum(tab => tab.Count(e => e != 0)) - 4); // exactly one entry per level

        Assert.True(t.Query(va + 0x123, out PageMapping map));
        Assert.Equal(PageSize.Small4K, map.Size);
        Assert.Equal(4096UL, map.PageBytes);
        Assert.Equal(0x1234_5123UL, map.Physical);
        Assert.Equal(0x1234_5000UL, map.PagePhysical);
        Assert.Equal(pte, map.Entry);
        Assert.False(t.Query(va + 4096, out _));
        Assert.False(t.Query(va - 4096, out _));
    }

    [Fact]
    public void UpperHalfIntermediateEntriesAreSupervisorOnly()
    {
        var (m, t) = NewTable();
        Assert.Equal(MapResult.Mapped, t.Map(0xFFFF_FFFF_8010_1000, 0x101000, PageFlags.Global));
        ulong pml4e = m.Entry(t.Root, 511);
        Assert.Equal(PageFlags.Present | PageFlags.Writable, pml4e & ~PageFlags.AddressMask);
        Assert.True(t.Query(0xFFFF_FFFF_8010_1000, out PageMapping map));
        // Read-only, executable, global, supervisor: exactly what was asked.
        Assert.Equal(0x101000UL | PageFlags.Present | PageFlags.Global, map.Entry);
    }

    [Fact]
    public void BadAddressesAreRefused()
    {
        var (m, t) = NewTable();
        Assert.Equal(MapResult.NonCanonical, t.Map(0x0000_8000_0000_0000, 0x1000, UserRw));
        Assert.Equal(MapResult.NonCanonical, t.Map(0xFFFF_7FFF_FFFF_F000, 0x1000, UserRw));
        Assert.Equal(MapResult.Misaligned, t.Map(0x400001, 0x1000, UserRw));
        Assert.Equal(MapResult.Misaligned, t.Map(0x400000, 0x1800, UserRw));
        Assert.Equal(MapResult.Misaligned, t.Map(0x200000, 0x1000, UserRw, PageSize.Large2M));
        Assert.Equal(MapResult.Misaligned, t.Map(0x4000_0000, 0x20_0000, UserRw, PageSize.Huge1G));
        Assert.Equal(MapResult.BadPhysicalAddress, t.Map(0x400000, 1UL << 52, UserRw));
        Assert.Single(m.Tables); // nothing built for refused requests
        Assert.False(t.Query(0x0000_8000_0000_0000, out _));
    }

    [Fact]
    public void PresentEntriesAndLargePagesAreNotOverwritten()
    {
        var (_, t) = NewTable();
        Assert.Equal(MapResult.Mapped, t.Map(0x400000, 0x1000, UserRw));
        Assert.Equal(MapResult.AlreadyMapped, t.Map(0x400000, 0x2000, UserRw));
        Assert.Equal(MapResult.AlreadyMapped, t.Map(0x400000, 0x200000, UserRw, PageSize.Large2M)); // a PT is there
        Assert.Equal(MapResult.Mapped, t.Map(0x600000, 0x200000, UserRw, PageSize.Large2M));
        Assert.Equal(MapResult.LargePageInTheWay, t.Map(0x601000, 0x1000, UserRw));
        Assert.Equal(MapResult.Mapped, t.Map(0x4000_0000, 0x4000_0000, UserRw, PageSize.Huge1G));
        Assert.Equal(MapResult.LargePageInTheWay, t.Map(0x4020_0000, 0x1000, UserRw));
        Assert.Equal(MapResult.LargePageInTheWay, t.Map(0x4020_0000, 0x20_0000, UserRw, PageSize.Large2M));
        Assert.Equal(0x1000UL, t.EntryOf(0x400000) & PageFlags.AddressMask);
    }

    [Fact]
    public void LargeAndHugePagesTranslateTheirWholeSpan()
    {
        var (m, t) = NewTable();
        Assert.Equal(MapResult.Mapped, t.Map(0x20_0000, 0x80_0000, UserRw, PageSize.Large2M));
        Assert.Equal(MapResult.Mapped, t.Map(0x80_0000_0000, 0x1_4000_0000, PageFlags.Writable, PageSize.Huge1G));
        Assert.True(t.Query(0x3F_FFFF, out PageMapping l));
        Assert.Equal((PageSize.Large2M, 2 * MiB, 0x9F_FFFFUL, 0x80_0000UL), (l.Size, l.PageBytes, l.Physical, l.PagePhysical));
        Assert.Equal(PageFlags.LargePage, l.Entry & PageFlags.LargePage);
        Assert.True(t.Query(0x80_3FFF_FFF8, out PageMapping h));
        Assert.Equal((PageSize.Huge1G, GiB, 0x1_7FFF_FFF8UL), (h.Size, h.PageBytes, h.Physical));
        Assert.False(t.Query(0x40_0000, out _));
        // 2 MiB: PML4 -> PDPT -> PD; 1 GiB: PML4 -> PDPT. Plus the root.
        Assert.Equal(4, m.Tables.Count);
    }

    [Fact]
    public void UnmapReturnsTheOldEntryAndInvalidates()
    {
        var (m, t) = NewTable();
        t.Map(0x400000, 0x7000, UserRw);
        m.Invalidations.Clear();
        ulong old = t.Unmap(0x400FFF);
        Assert.Equal(0x7000UL | PageFlags.Present | UserRw, old);
        Assert.Equal([(t.Root, 0x400FFFUL)], m.Invalidations);
        Assert.False(t.Query(0x400000, out _));
        Assert.Equal(0UL, t.Unmap(0x400000));
        Assert.Single(m.Invalidations); // nothing changed, nothing invalidated
        Assert.Equal(4, m.Tables.Count); // the emptied tables stay until asked
        // Large pages unmap whole.
        t.Map(0x4000_0000, 0, UserRw, PageSize.Huge1G);
        Assert.True(PageFlags.IsPresent(t.Unmap(0x7FFF_0000)));
        Assert.False(t.Query(0x4000_0000, out _));
    }

    [Fact]
    public void ProtectChangesOnlyThePermissions()
    {
        var (m, t) = NewTable();
        t.Map(0x400000, 0x7000, UserRw);
        // The CPU set accessed and dirty meanwhile.
        ulong pt = m.Tables.Keys.Max();
        m.WriteEntry(pt, 0, m.Entry(pt, 0) | PageFlags.Accessed | PageFlags.Dirty);
        m.Invalidations.Clear();
        Assert.True(t.Protect(0x400000, PageFlags.User, out ulong old));
        Assert.True(PageFlags.IsWritable(old));
        ulong now = t.EntryOf(0x400000);
        Assert.Equal(0x7000UL | PageFlags.Present | PageFlags.User | PageFlags.Accessed | PageFlags.Dirty, now);
        Assert.True(PageFlags.IsExecutable(now));
        Assert.Equal([(t.Root, 0x400000UL)], m.Invalidations);
        Assert.False(t.Protect(0x401000, PageFlags.User, out _));
        // Protect cannot smuggle in an address, Present, PS or accessed/dirty state.
        Assert.True(t.Protect(0x400000, 0xFFFF_F000 | PageFlags.LargePage | PageFlags.Writable, out _));
        Assert.Equal(0x7000UL, t.EntryOf(0x400000) & PageFlags.AddressMask);
        Assert.Equal(0UL, t.EntryOf(0x400000) & PageFlags.LargePage);
    }

    [Fact]
    public void AccessedAndDirtyCanBeReadAndCleared()
    {
        var (m, t) = NewTable();
        t.Map(0x400000, 0x7000, UserRw);
        ulong pt = m.Tables.Keys.Max();
        m.WriteEntry(pt, 0, m.Entry(pt, 0) | PageFlags.Accessed | PageFlags.Dirty);
        Assert.True(PageFlags.IsDirty(t.EntryOf(0x400000)));
        ulong before = t.ClearAccessedDirty(0x400000, PageFlags.Dirty | PageFlags.Writable);
        Assert.True(PageFlags.IsDirty(before));
        ulong after = t.EntryOf(0x400000);
        Assert.False(PageFlags.IsDirty(after));
        Assert.True(PageFlags.IsAccessed(after));
        Assert.True(PageFlags.IsWritable(after)); // only A and D can be cleared this way
        Assert.Equal(0UL, t.ClearAccessedDirty(0x500000, PageFlags.Dirty));
    }

    [Fact]
    public void NoExecuteIsDroppedWhenTheCpuLacksIt()
    {
        var (_, t) = NewTable(nx: false);
        Assert.False(t.NoExecuteSupported);
        t.Map(0x400000, 0x7000, UserRw);
        Assert.Equal(0UL, t.EntryOf(0x400000) & PageFlags.NoExecute);
        t.Protect(0x400000, PageFlags.NoExecute, out _);
        Assert.Equal(0UL, t.EntryOf(0x400000) & PageFlags.NoExecute);
    }

    [Fact]
    public void LowerHalfPagesAreNeverGlobal()
    {
        var (_, t) = NewTable();
        t.Map(0x400000, 0x7000, UserRw | PageFlags.Global);
        Assert.Equal(0UL, t.EntryOf(0x400000) & PageFlags.Global);
        t.Protect(0x400000, PageFlags.Global | PageFlags.User, out _);
        Assert.Equal(0UL, t.EntryOf(0x400000) & PageFlags.Global);
        t.Map(0xFFFF_8000_0000_0000, 0x7000, PageFlags.Global);
        Assert.Equal(PageFlags.Global, t.EntryOf(0xFFFF_8000_0000_0000) & PageFlags.Global);
    }

    [Fact]
    public void EveryChangeIsInvalidated()
    {
        var (m, t) = NewTable();
        t.Map(0x400000, 0x7000, UserRw);
        // Three new tables (each a change to an entry on the path) and the leaf.
        Assert.Equal(4, m.Invalidations.Count);
        Assert.All(m.Invalidations, i => Assert.Equal((t.Root, 0x400000UL), i));
        m.Invalidations.Clear();
        t.Map(0x401000, 0x8000, UserRw);
        Assert.Equal([(t.Root, 0x401000UL)], m.Invalidations);
    }

    [Fact]
    public void FreeEmptyTablesFreesExactlyTheEmptyOnes()
    {
        var (m, t) = NewTable();
        t.Map(0x400000, 0x7000, UserRw);          // PDPT0 PD0 PT(2 MiB..)
        t.Map(0x401000, 0x8000, UserRw);
        t.Map(0x4000_0000, 0x9000, UserRw);       // PD1 PT
        Assert.Equal(6, m.Tables.Count);
        t.Unmap(0x400000);
        Assert.Equal(0, t.FreeEmptyTables(0, PageTable.LowerHalfEnd)); // 0x401000 keeps its PT
        t.Unmap(0x401000);
        m.Invalidations.Clear();
        // That PT, and then PD0 which it leaves empty; PDPT0 still holds PD1.
        Assert.Equal(2, t.FreeEmptyTables(0x40_0000, 0x60_0000));
        Assert.Equal(4, m.Tables.Count);
        Assert.Equal(2, m.Invalidations.Count);                        // one per removed entry
        t.Unmap(0x4000_0000);
        Assert.Equal(0, t.FreeEmptyTables(0x8000_0000, 0x1_0000_0000)); // range elsewhere: nothing
        Assert.Equal(3, t.FreeEmptyTables(0, PageTable.LowerHalfEnd));  // PD1's PT, PD1, PDPT0
        Assert.Single(m.Tables);
        Assert.Equal(1, t.CountTables(includeUpperHalf: true));
    }

    [Fact]
    public void TheSharedUpperHalfIsNeverFreedAndFrozenSlotsAreNotCreated()
    {
        var (m, kernel) = NewTable();
        Assert.True(kernel.PrepareKernelSlot(256));
        Assert.True(kernel.PrepareKernelSlot(511));
        Assert.False(kernel.PrepareKernelSlot(12));
        kernel.Map(0xFFFF_FFFF_8000_0000, 0, PageFlags.Global);
        kernel.FreezeKernelSlots();
        Assert.Equal(MapResult.KernelSlotLocked, kernel.Map(0xFFFF_FF00_0000_0000, 0, PageFlags.Global)); // slot 510
        Assert.False(kernel.PrepareKernelSlot(300));
        Assert.Equal(MapResult.Mapped, kernel.Map(0xFFFF_8000_0020_0000, 0x20_0000, PageFlags.Writable, PageSize.Large2M)); // slot 256 exists

        var user = PageTable.Create(m, true)!;
        user.ShareKernelHalf(kernel);
        for (int i = 256; i < 512; i++) Assert.Equal(m.Entry(kernel.Root, i), m.Entry(user.Root, i));
        Assert.True(user.Query(0xFFFF_FFFF_8000_0000, out _));
        Assert.Equal(MapResult.KernelSlotLocked, user.Map(0xFFFF_C000_0000_0000, 0, PageFlags.Writable));
        user.Map(0x400000, 0x7000, UserRw);
        int kernelTables = m.Tables.Count - 4; // user: root, PDPT, PD, PT
        user.Unmap(0x400000);
        Assert.Equal(0, user.FreeEmptyTables(0xFFFF_8000_0000_0000, ulong.MaxValue));
        Assert.Equal(3, user.FreeEmptyTables(0, ulong.MaxValue));
        Assert.Equal(1, user.Destroy());
        Assert.Equal(kernelTables, m.Tables.Count);
        Assert.True(kernel.Query(0xFFFF_FFFF_8000_0000, out _)); // the kernel's tables survive
        Assert.True(kernel.Query(0xFFFF_8000_0030_0000, out _));
    }

    [Fact]
    public void DestroyFreesEveryLowerHalfTable()
    {
        var (m, t) = NewTable();
        for (ulong i = 0; i < 40; i++) t.Map(0x400000 + i * 0x20_3000, 0x1000 * i, UserRw);
        t.Map(0x7F00_0000_0000, 0, UserRw, PageSize.Huge1G);
        int count = m.Tables.Count;
        Assert.Equal(count, t.CountTables(includeUpperHalf: false));
        Assert.Equal(count, t.Destroy());
        Assert.Empty(m.Tables);
        Assert.Equal(count, m.Freed.Count);
    }

    [Fact]
    public void OutOfMemoryIsReportedAndLeavesAConsistentTree()
    {
        var (m, t) = NewTable();
        m.Limit = 3; // root + two more: the PT cannot be made
        Assert.Equal(MapResult.OutOfMemory, t.Map(0x400000, 0x7000, UserRw));
        Assert.False(t.Query(0x400000, out _));
        m.Limit = int.MaxValue;
        Assert.Equal(MapResult.Mapped, t.Map(0x400000, 0x7000, UserRw));
        Assert.Equal(4, m.Tables.Count); // the half-built path was reused
    }

    [Fact]
    public void MapRangeUsesTheLargestPagesAlignmentAllows()
    {
        var (_, t) = NewTable();
        // 4 KiB up to 2 MiB, 2 MiB pages up to 1 GiB, a 1 GiB page, then 2 MiB and 4 KiB again.
        ulong start = 2 * MiB - 8 * KiB, length = 8 * KiB + (GiB - 2 * MiB) + GiB + 2 * MiB + 4 * KiB;
        Assert.Equal(MapResult.Mapped, t.MapRange(0x8000_0000 + start, start, length, PageFlags.Writable, allowLarge: true, allowHuge: true));
        PageSize SizeAt(ulong offset) { Assert.True(t.Query(0x8000_0000 + offset, out PageMapping m)); Assert.Equal(offset, m.Physical - 0); return m.Size; }
        Assert.Equal(PageSize.Small4K, SizeAt(start));
        Assert.Equal(PageSize.Large2M, SizeAt(2 * MiB));
        Assert.Equal(PageSize.Huge1G, SizeAt(GiB + 12345));
        Assert.Equal(PageSize.Large2M, SizeAt(2 * GiB + 5));
        Assert.Equal(PageSize.Small4K, SizeAt(2 * GiB + 2 * MiB));
        Assert.False(t.Query(0x8000_0000 + start + length, out _));
        Assert.False(t.Query(0x8000_0000 + start - 1, out _));

        var (_, small) = NewTable();
        Assert.Equal(MapResult.Mapped, small.MapRange(0, 0, 4 * MiB, PageFlags.Writable, allowLarge: false, allowHuge: false));
        Assert.True(small.Query(2 * MiB, out PageMapping s));
        Assert.Equal(PageSize.Small4K, s.Size);
        Assert.Equal(MapResult.Misaligned, small.MapRange(0x1000_0000, 0, 100, PageFlags.Writable, true, true));
    }

    [Fact]
    public void IndexMathMatchesTheSdm()
    {
        ulong va = 0xFFFF_FFFF_8010_1000;
        Assert.Equal(511, PageTable.IndexAt(va, 4));
        Assert.Equal(510, PageTable.IndexAt(va, 3));
        Assert.Equal(0, PageTable.IndexAt(va, 2));
        Assert.Equal(0x101, PageTable.IndexAt(va, 1));
        Assert.Equal(512 * GiB, PageTable.SpanAt(4));
        Assert.True(PageTable.IsCanonical(0x0000_7FFF_FFFF_FFFF));
        Assert.True(PageTable.IsCanonical(0xFFFF_8000_0000_0000));
        Assert.False(PageTable.IsCanonical(0x0000_8000_0000_0000));
    }

    // ---- properties ----

    /// <summary>
    /// Random map, unmap, protect and query over a small window of the lower half, against a
    /// dictionary model; then everything is unmapped, the empty tables freed (only the root
    /// remains), and destroy frees that: no table is leaked or freed twice.
    /// </summary>
    [Property(MaxTest = 200)]
    public void RandomOperationsAgreeWithAModel(int[] operations)
    {
        var (m, t) = NewTable();
        var model = new Dictionary<ulong, (ulong Pa, ulong Flags)>();
        // 64 pages spread over several PTs, PDs and PDPTs.
        static ulong PageVa(uint k) => 0x1000UL * (k % 4) + 0x20_0000UL * ((k >> 2) % 4) + 0x4000_0000UL * ((k >> 4) % 2) + 0x80_0000_0000UL * ((k >> 5) % 2);
        ulong[] flagChoices = [UserRw, PageFlags.User, PageFlags.Writable, PageFlags.User | PageFlags.Software0, 0];

        foreach (int op in operations.Take(400))
        {
            uint u = (uint)op;
            ulong va = PageVa(u >> 3);
            ulong flags = flagChoices[(u >> 9) % (uint)flagChoices.Length];
            switch (u % 4)
            {
                case 0:
                {
                    ulong pa = 0x1000UL * ((u >> 12) % 100000);
                    var r = t.Map(va, pa, flags);
                    Assert.Equal(model.ContainsKey(va) ? MapResult.AlreadyMapped : MapResult.Mapped, r);
                    if (r == MapResult.Mapped) model[va] = (pa, flags);
                    break;
                }
                case 1:
                {
                    int before = m.Invalidations.Count;
                    ulong old = t.Unmap(va + (u >> 20) % 4096);
                    if (model.Remove(va, out var was))
                    {
                        Assert.Equal(was.Pa | was.Flags | PageFlags.Present, old);
                        Assert.Equal(before + 1, m.Invalidations.Count);
                    }
                    else Assert.Equal(0UL, old);
                    break;
                }
                case 2:
                {
                    bool ok = t.Protect(va, flags, out _);
                    Assert.Equal(model.ContainsKey(va), ok);
                    if (ok) model[va] = (model[va].Pa, flags);
                    break;
                }
                case 3:
                    t.FreeEmptyTables(va, va + 0x20_0000);
                    break;
            }
            foreach (var (v, e) in model)
            {
                Assert.True(t.Query(v + 8, out PageMapping pm));
                Assert.Equal(e.Pa + 8, pm.Physical);
                Assert.Equal(e.Pa | e.Flags | PageFlags.Present, pm.Entry);
            }
        }
        for (uint k = 0; k < 64; k++) if (!model.ContainsKey(PageVa(k))) Assert.False(t.Query(PageVa(k), out _));

        foreach (var v in model.Keys) Assert.True(PageFlags.IsPresent(t.Unmap(v)));
        t.FreeEmptyTables(0, PageTable.LowerHalfEnd);
        Assert.Single(m.Tables);
        Assert.Equal(1, t.Destroy());
        Assert.Empty(m.Tables);
        Assert.Equal(m.Allocated, m.Freed.Count);
    }
}
