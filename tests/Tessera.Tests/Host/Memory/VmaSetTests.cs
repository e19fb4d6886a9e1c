using Tessera.Memory;
using Xunit;
using static Tessera.Memory.Errno;

namespace Tessera.Tests.Host.Memory;

/// <summary>
/// The VMA set against expectations written from the man pages mmap(2), munmap(2),
/// mprotect(2), mremap(2), brk(2), and the x86-64 address layout a Linux host shows with
/// randomisation off.
/// </summary>
public sealed class VmaSetTests
{
    private const ulong P = 4096;
    private static readonly AddressSpaceLayout Linux = AddressSpaceLayout.LinuxX8664;
    private const int Anon = MapFlags.Private | MapFlags.Anonymous;
    private const int RW = Prot.Read | Prot.Write;

    private static (ulong Start, ulong End, int Prot, VmaKind Kind)[] Areas(VmaSet s) =>
        Enumerable.Range(0, s.Count).Select(i => (s[i].Start, s[i].End, (int)s[i].Protection, s[i].Kind)).ToArray();

    /// <summary>A tiny address space: 0x10000 .. 0x100000, mmap_base 32 pages below the top.</summary>
    public static AddressSpaceLayout Small => new()
    {
        MmapMinAddr = 0x10000, TaskSize = 0x100000, StackTop = 0x100000, MmapBase = 0x100000 - 32 * P,
        LegacyBase = 0x60000, DynamicBase = 0x50000, StackGuardGap = 2 * P, StackLimit = 24 * P, MaxMapCount = 100_000,
    };

    // ---- layout ------------------------------------------------------------------------

    [Fact]
    public void LayoutMatchesLinuxX8664WithoutRandomisation()
    {
        Assert.Equal(0x7ffffffff000ul, Linux.TaskSize);
        Assert.Equal(0x7ffff7fff000ul, Linux.MmapBase);     // below the vDSO on a `setarch -R` host
        Assert.Equal(0x2aaaaaaab000ul, Linux.LegacyBase);
        Assert.Equal(0x555555555000ul, AddressSpaceLayout.PageAlign(Linux.DynamicBase)); // static-PIE [heap]
        Assert.Equal(0x10000ul, Linux.MmapMinAddr);
    }

    // ---- mmap ---------------------------------------------------------------------------

    [Fact]
    public void AnonymousMappingsGoTopDownBelowMmapBaseAndMerge()
    {
        var s = new VmaSet(Linux);
        Assert.Equal(0x7ffff7ffe000L, s.Mmap(0, 4096, Prot.Read, Anon, 0, 0));
        Assert.Equal(0x7ffff7ffb000L, s.Mmap(0, 3 * 4096, Prot.Read, Anon, 0, 0));
        // Same attributes, adjacent: one area.
        Assert.Equal([(0x7ffff7ffb000ul, 0x7ffff7fff000ul, Prot.Read, VmaKind.Anonymous)], Areas(s));
        // Different protection: a separate area below.
        Assert.Equal(0x7ffff7ffa000L, s.Mmap(0, 1, RW, Anon, 0, 0));
        Assert.Equal(2, s.Count);
    }

    [Fact]
    public void LengthZeroIsInvalid() => Assert.Equal(-EINVAL, new VmaSet(Linux).Mmap(0, 0, RW, Anon, 0, 0));

    [Fact]
    public void MappingTypeMustBePrivateOrShared()
    {
        var s = new VmaSet(Linux);
        Assert.Equal(-EINVAL, s.Mmap(0, P, RW, MapFlags.Anonymous, 0, 0));                     // neither
        Assert.Equal(-EINVAL, s.Mmap(0, P, RW, MapFlags.SharedValidate | MapFlags.Anonymous, 0, 0));
        Assert.Equal(-EOPNOTSUPP, s.Mmap(0, P, Prot.Read, MapFlags.SharedValidate | 0x200000, 5, 0)); // unknown flag, file
        Assert.True(s.Mmap(0, P, Prot.Read, MapFlags.SharedValidate, 5, 0) > 0);
        Assert.True(s.Mmap(0, P, RW, MapFlags.Shared | MapFlags.Anonymous, 0, 0) > 0);
        Assert.True(s[s.Count - 1].IsShared);
    }

    [Fact]
    public void UnalignedOffsetOrFixedAddressIsInvalid()
    {
        var s = new VmaSet(Linux);
        Assert.Equal(-EINVAL, s.Mmap(0, P, Prot.Read, MapFlags.Private, 3, 100));
        Assert.Equal(-EINVAL, s.Mmap(0x400100, P, RW, Anon | MapFlags.Fixed, 0, 0));
        Assert.Equal(0, s.Count);
    }

    [Fact]
    public void FixedMappingReplacesWhatIsThere()
    {
        var s = new VmaSet(Linux);
        Assert.Equal(0x400000L, s.Mmap(0x400000, 4 * P, RW, Anon | MapFlags.Fixed, 0, 0));
        Assert.Equal(0x401000L, s.Mmap(0x401000, P, Prot.Read, Anon | MapFlags.Fixed, 0, 0));
        Assert.Equal(
            [(0x400000ul, 0x401000ul, RW, VmaKind.Anonymous), (0x401000ul, 0x402000ul, Prot.Read, VmaKind.Anonymous), (0x402000ul, 0x404000ul, RW, VmaKind.Anonymous)],
            Areas(s));
        // Mapping RW over the hole again merges all three back into one.
        Assert.Equal(0x401000L, s.Mmap(0x401000, P, RW, Anon | MapFlags.Fixed, 0, 0));
        Assert.Equal([(0x400000ul, 0x404000ul, RW, VmaKind.Anonymous)], Areas(s));
    }

    [Fact]
    public void FixedNoReplaceRefusesAnOccupiedRangeWithEexist()
    {
        var s = new VmaSet(Linux);
        Assert.Equal(0x400000L, s.Mmap(0x400000, 2 * P, RW, Anon | MapFlags.FixedNoReplace, 0, 0));
        Assert.Equal(-EEXIST, s.Mmap(0x401000, 2 * P, Prot.Read, Anon | MapFlags.FixedNoReplace, 0, 0));
        Assert.Equal([(0x400000ul, 0x402000ul, RW, VmaKind.Anonymous)], Areas(s));
        Assert.Equal(0x402000L, s.Mmap(0x402000, P, Prot.Read, Anon | MapFlags.FixedNoReplace, 0, 0));
    }

    [Fact]
    public void HintIsTakenWhenFreeAndIgnoredOtherwise()
    {
        var s = new VmaSet(Linux);
        Assert.Equal(0x500000L, s.Mmap(0x500123, P, RW, Anon, 0, 0)); // rounded down to a page
        Assert.Equal(0x7ffff7ffe000L, s.Mmap(0x500000, P, Prot.Read, Anon, 0, 0)); // taken: top-down instead
        Assert.Equal(0x10000L, s.Mmap(0x1000, P, Prot.Read, Anon, 0, 0)); // below mmap_min_addr: raised to it
    }

    [Fact]
    public void FixedBelowMmapMinAddrIsEpermAndBeyondTheTaskIsEnomem()
    {
        var s = new VmaSet(Linux);
        Assert.Equal(-EPERM, s.Mmap(0x1000, P, RW, Anon | MapFlags.Fixed, 0, 0));
        Assert.Equal(-ENOMEM, s.Mmap(0x7ffffffff000, P, RW, Anon | MapFlags.Fixed, 0, 0));
        Assert.Equal(-ENOMEM, s.Mmap(0, ulong.MaxValue, RW, Anon, 0, 0)); // length rounds up to 0
        Assert.Equal(-ENOMEM, s.Mmap(0, 1ul << 50, RW, Anon, 0, 0));      // larger than the task
    }

    [Fact]
    public void FileMappingsRecordFileAndOffsetAndMergeOnlyWhenContiguous()
    {
        var s = new VmaSet(Linux);
        Assert.Equal(0x400000L, s.Mmap(0x400000, 2 * P, Prot.Read, MapFlags.Private | MapFlags.Fixed, 9, 0x3000));
        Assert.Equal(0x402000L, s.Mmap(0x402000, P, Prot.Read, MapFlags.Private | MapFlags.Fixed, 9, 0x5000));
        Assert.Equal(1, s.Count); // offsets 0x3000.. then 0x5000: contiguous
        Assert.Equal(0x403000L, s.Mmap(0x403000, P, Prot.Read, MapFlags.Private | MapFlags.Fixed, 9, 0x9000));
        Assert.Equal(2, s.Count); // not contiguous
        Vma a = s[0];
        Assert.Equal(VmaKind.File, a.Kind);
        Assert.Equal(9ul, a.FileId);
        Assert.True(a.FileSource(0x401800, out ulong off, out uint bytes));
        Assert.Equal(0x4000ul, off);
        Assert.Equal(4096u, bytes);
    }

    [Fact]
    public void Map32BitPlacesTheMappingInTheFirstTwoGigabytes()
    {
        var s = new VmaSet(Linux);
        Assert.Equal(0x40000000L, s.Mmap(0, P, RW, Anon | MapFlags.Below2G, 0, 0));
        Assert.Equal(0x40001000L, s.Mmap(0, P, Prot.Read, Anon | MapFlags.Below2G, 0, 0));
    }

    [Fact]
    public void WhenTopDownIsFullPlacementFallsBackBottomUpFromTheLegacyBase()
    {
        var s = new VmaSet(Small);
        // Fill everything from mmap_min_addr to mmap_base.
        Assert.Equal(0x10000L, s.Mmap(0x10000, Small.MmapBase - 0x10000, RW, Anon | MapFlags.Fixed, 0, 0));
        Assert.Equal((long)Small.MmapBase, s.Mmap(0, P, Prot.Read, Anon, 0, 0));
    }

    [Fact]
    public void TopDownPlacementKeepsTheStackGuardGapFree()
    {
        var s = new VmaSet(Small);
        // A grows-down area just under mmap_base: the guard gap below it stays free.
        ulong stack = Small.MmapBase - 4 * P;
        Assert.Equal((long)stack, s.Mmap(stack, 4 * P, RW, Anon | MapFlags.Fixed | MapFlags.GrowsDown, 0, 0));
        Assert.Equal(VmaKind.Stack, s[0].Kind);
        Assert.Equal((long)(stack - 2 * P - P), s.Mmap(0, P, RW, Anon, 0, 0));
    }

    // ---- munmap -------------------------------------------------------------------------

    [Fact]
    public void MunmapSplitsAreasAndAdjustsFileOffsets()
    {
        var s = new VmaSet(Linux);
        s.Mmap(0x400000, 8 * P, Prot.Read, MapFlags.Private | MapFlags.Fixed, 4, 0x10000);
        Assert.Equal(0, s.Munmap(0x402000, 2 * P));
        Assert.Equal([(0x400000ul, 0x402000ul, Prot.Read, VmaKind.File), (0x404000ul, 0x408000ul, Prot.Read, VmaKind.File)], Areas(s));
        Assert.Equal(0x14000ul, s[1].FileOffset);
        // A range with holes, over parts of both areas.
        Assert.Equal(0, s.Munmap(0x401000, 4 * P));
        Assert.Equal([(0x400000ul, 0x401000ul, Prot.Read, VmaKind.File), (0x405000ul, 0x408000ul, Prot.Read, VmaKind.File)], Areas(s));
        // Nothing mapped there: still success.
        Assert.Equal(0, s.Munmap(0x900000, P));
    }

    [Fact]
    public void MunmapRejectsUnalignedZeroAndOutOfRangeArguments()
    {
        var s = new VmaSet(Linux);
        Assert.Equal(-EINVAL, s.Munmap(0x400001, P));
        Assert.Equal(-EINVAL, s.Munmap(0x400000, 0));
        Assert.Equal(-EINVAL, s.Munmap(0x7ffffffff000, 2 * P));
        Assert.Equal(0, s.Munmap(0x400000, 1)); // length rounds up to a page
    }

    // ---- mprotect -----------------------------------------------------------------------

    [Fact]
    public void MprotectSplitsAndMergesBack()
    {
        var s = new VmaSet(Linux);
        s.Mmap(0x400000, 4 * P, RW, Anon | MapFlags.Fixed, 0, 0);
        Assert.Equal(0, s.Mprotect(0x401000, 2 * P, Prot.Read));
        Assert.Equal(
            [(0x400000ul, 0x401000ul, RW, VmaKind.Anonymous), (0x401000ul, 0x403000ul, Prot.Read, VmaKind.Anonymous), (0x403000ul, 0x404000ul, RW, VmaKind.Anonymous)],
            Areas(s));
        Assert.Equal(0, s.Mprotect(0x401000, 2 * P, RW));
        Assert.Equal([(0x400000ul, 0x404000ul, RW, VmaKind.Anonymous)], Areas(s));
    }

    [Fact]
    public void MprotectOverAHoleChangesWhatComesBeforeItThenFailsWithEnomem()
    {
        var s = new VmaSet(Linux);
        s.Mmap(0x400000, 2 * P, RW, Anon | MapFlags.Fixed, 0, 0);
        s.Mmap(0x403000, 2 * P, RW, Anon | MapFlags.Fixed, 0, 0);
        Assert.Equal(-ENOMEM, s.Mprotect(0x400000, 5 * P, Prot.Read));
        Assert.Equal(Prot.Read, s[0].Protection); // Linux changes the areas before the hole
        Assert.Equal(RW, s[1].Protection);
        Assert.Equal(-ENOMEM, s.Mprotect(0x410000, P, Prot.Read)); // nothing mapped at all
        Assert.Equal(-ENOMEM, s.Mprotect(0x402000, 2 * P, Prot.Read)); // starts in the hole
        Assert.Equal(RW, s[1].Protection);
    }

    [Fact]
    public void MprotectArgumentChecks()
    {
        var s = new VmaSet(Linux);
        s.Mmap(0x400000, P, RW, Anon | MapFlags.Fixed, 0, 0);
        Assert.Equal(-EINVAL, s.Mprotect(0x400010, P, Prot.Read));
        Assert.Equal(0, s.Mprotect(0x400000, 0, Prot.Read)); // nothing to do
        Assert.Equal(-EINVAL, s.Mprotect(0x400000, P, 0x10));
        Assert.Equal(-EINVAL, s.Mprotect(0x400000, P, Prot.GrowsDown | Prot.GrowsUp));
        Assert.Equal(-EINVAL, s.Mprotect(0x400000, P, Prot.Read | Prot.GrowsDown)); // not a stack
        Assert.Equal(-ENOMEM, s.Mprotect(0x400000, ulong.MaxValue - 0x400000, Prot.Read));
        Assert.Equal(0, s.Mprotect(0x400000, P, Prot.Read | Prot.Sem));
    }

    [Fact]
    public void MprotectGrowsDownExtendsToTheStartOfTheStack()
    {
        var s = new VmaSet(Linux);
        s.Mmap(0x700000, 4 * P, RW, Anon | MapFlags.Fixed | MapFlags.GrowsDown, 0, 0);
        Assert.Equal(0, s.Mprotect(0x702000, P, Prot.Read | Prot.Write | Prot.Exec | Prot.GrowsDown));
        Assert.Equal([(0x700000ul, 0x703000ul, Prot.Read | Prot.Write | Prot.Exec, VmaKind.Stack), (0x703000ul, 0x704000ul, RW, VmaKind.Stack)], Areas(s));
    }

    // ---- mremap -------------------------------------------------------------------------

    [Fact]
    public void MremapShrinksInPlace()
    {
        var s = new VmaSet(Linux);
        s.Mmap(0x400000, 4 * P, RW, Anon | MapFlags.Fixed, 0, 0);
        Assert.Equal(0x400000L, s.Mremap(0x400000, 4 * P, P, 0, 0, out var r));
        Assert.False(r.Moved);
        Assert.Equal([(0x400000ul, 0x401000ul, RW, VmaKind.Anonymous)], Areas(s));
    }

    [Fact]
    public void MremapGrowsInPlaceWhenTheNextPagesAreFree()
    {
        var s = new VmaSet(Linux);
        s.Mmap(0x400000, P, RW, Anon | MapFlags.Fixed, 0, 0);
        s.Mmap(0x403000, P, RW, Anon | MapFlags.Fixed, 0, 0);
        Assert.Equal(0x400000L, s.Mremap(0x400000, P, 3 * P, 0, 0, out var r));
        Assert.False(r.Moved);
        Assert.Equal([(0x400000ul, 0x404000ul, RW, VmaKind.Anonymous)], Areas(s)); // and merged with the next
    }

    [Fact]
    public void MremapThatCannotGrowInPlaceMovesOnlyWithMayMove()
    {
        var s = new VmaSet(Linux);
        s.Mmap(0x400000, 2 * P, Prot.Read, MapFlags.Private | MapFlags.Fixed, 3, 0x8000);
        s.Mmap(0x402000, P, RW, Anon | MapFlags.Fixed, 0, 0);
        Assert.Equal(-ENOMEM, s.Mremap(0x400000, 2 * P, 4 * P, 0, 0, out _));
        long moved = s.Mremap(0x401000, P, 4 * P, MremapFlags.MayMove, 0, out var r);
        Assert.Equal(0x7ffff7ffb000L, moved); // top-down, like mmap(NULL)
        Assert.True(r.Moved);
        Assert.Equal(0x401000ul, r.OldAddress);
        Assert.Equal(P, r.OldLength);
        Assert.Equal(4 * P, r.NewLength);
        Assert.Equal(-1, s.IndexOf(0x401000)); // the old pages are gone
        Vma a = s[s.IndexOf((ulong)moved)];
        Assert.Equal(0x9000ul, a.FileOffset);  // the moved page's own offset
        Assert.Equal(0x7ffff7fff000ul, a.End);
    }

    [Fact]
    public void MremapFixedMovesExactlyThereReplacingWhatWasThere()
    {
        var s = new VmaSet(Linux);
        s.Mmap(0x400000, 2 * P, RW, Anon | MapFlags.Fixed, 0, 0);
        s.Mmap(0x600000, 4 * P, Prot.Read, Anon | MapFlags.Fixed, 0, 0);
        Assert.Equal(0x600000L, s.Mremap(0x400000, 2 * P, 2 * P, MremapFlags.MayMove | MremapFlags.Fixed, 0x600000, out var r));
        Assert.True(r.Moved);
        Assert.Equal([(0x600000ul, 0x602000ul, RW, VmaKind.Anonymous), (0x602000ul, 0x604000ul, Prot.Read, VmaKind.Anonymous)], Areas(s));
    }

    [Fact]
    public void MremapArgumentChecks()
    {
        var s = new VmaSet(Linux);
        s.Mmap(0x400000, 2 * P, RW, Anon | MapFlags.Fixed, 0, 0);
        Assert.Equal(-EINVAL, s.Mremap(0x400000, P, P, 8, 0, out _));                                  // unknown flag
        Assert.Equal(-EINVAL, s.Mremap(0x400000, P, P, MremapFlags.Fixed, 0x800000, out _));           // FIXED without MAYMOVE
        Assert.Equal(-EINVAL, s.Mremap(0x400000, P, 2 * P, MremapFlags.MayMove | MremapFlags.DontUnmap, 0, out _)); // size change
        Assert.Equal(-EINVAL, s.Mremap(0x400010, P, P, 0, 0, out _));                                  // unaligned
        Assert.Equal(-EINVAL, s.Mremap(0x400000, P, 0, 0, 0, out _));                                  // new size 0
        Assert.Equal(-EFAULT, s.Mremap(0x500000, P, 2 * P, MremapFlags.MayMove, 0, out _));            // not mapped
        Assert.Equal(-EFAULT, s.Mremap(0x400000, 3 * P, 4 * P, MremapFlags.MayMove, 0, out _));        // crosses the area's end
        Assert.Equal(-EINVAL, s.Mremap(0x400000, 2 * P, 2 * P, MremapFlags.MayMove | MremapFlags.Fixed, 0x401000, out _)); // overlap
        Assert.Equal(-EINVAL, s.Mremap(0x400000, 0, P, MremapFlags.MayMove, 0, out _));                // old size 0
        Assert.Equal([(0x400000ul, 0x402000ul, RW, VmaKind.Anonymous)], Areas(s));
    }

    [Fact]
    public void MremapDontUnmapLeavesTheOldRangeMapped()
    {
        var s = new VmaSet(Linux);
        s.Mmap(0x400000, 2 * P, RW, Anon | MapFlags.Fixed, 0, 0);
        long moved = s.Mremap(0x400000, 2 * P, 2 * P, MremapFlags.MayMove | MremapFlags.DontUnmap, 0, out var r);
        Assert.True(moved > 0x400000);
        Assert.True(r.Moved && r.KeptOld);
        Assert.Equal(2, s.Count);
        Assert.Equal(0, s.IndexOf(0x400000));
    }

    // ---- brk ----------------------------------------------------------------------------

    [Fact]
    public void BrkGrowsShrinksAndReportsTheCurrentBreak()
    {
        var s = new VmaSet(Linux);
        s.InitBrk(0x412000);
        Assert.Equal(0x412000ul, s.Brk(0));          // brk(0): the current break
        Assert.Equal(0x412000ul, s.Brk(0x411000));   // below the start: refused, old value back
        Assert.Equal(0x413234ul, s.Brk(0x413234));   // grows; the break is kept unaligned
        Assert.Equal([(0x412000ul, 0x414000ul, RW, VmaKind.Heap)], Areas(s));
        Assert.Equal(0x413000ul, s.Brk(0x413000));   // shrinks to one page
        Assert.Equal([(0x412000ul, 0x413000ul, RW, VmaKind.Heap)], Areas(s));
        Assert.Equal(0x412000ul, s.Brk(0x412000));
        Assert.Equal(0, s.Count);
    }

    [Fact]
    public void BrkRefusesToComeWithinAPageOfTheNextMapping()
    {
        var s = new VmaSet(Linux);
        s.InitBrk(0x412000);
        s.Mmap(0x41c000, P, Prot.Read, Anon | MapFlags.Fixed, 0, 0);
        Assert.Equal(0x412000ul, s.Brk(0x41b001)); // would end at 0x41c000, touching the mapping
        Assert.Equal(0x41b000ul, s.Brk(0x41b000)); // leaves exactly one free page: allowed
        Assert.Equal(0x41b000ul, s.CurrentBrk);
        Assert.Equal(0x41b000ul, s.Brk(0x41c000)); // no growth into the mapping itself
    }

    [Fact]
    public void BrkKeepsTheStackGuardGap()
    {
        var s = new VmaSet(Small);
        s.InitBrk(0x20000);
        ulong stack = 0x40000;
        s.Mmap(stack, 4 * P, RW, Anon | MapFlags.Fixed | MapFlags.GrowsDown, 0, 0);
        // The guard gap (2 pages) plus one page must stay free below the stack.
        Assert.Equal(0x20000ul, s.Brk(stack - 2 * P));
        Assert.Equal(stack - 3 * P, s.Brk(stack - 3 * P));
    }

    // ---- page misses -------------------------------------------------------------------

    [Fact]
    public void FaultChecksFollowX86PermissionRules()
    {
        var s = new VmaSet(Linux);
        s.Mmap(0x400000, P, Prot.Read, Anon | MapFlags.Fixed, 0, 0);
        s.Mmap(0x401000, P, Prot.Write, Anon | MapFlags.Fixed, 0, 0);
        s.Mmap(0x402000, P, Prot.Read | Prot.Exec, Anon | MapFlags.Fixed, 0, 0);
        s.Mmap(0x403000, P, Prot.None, Anon | MapFlags.Fixed, 0, 0);
        FaultVerdict V(ulong a, FaultAccess k) => s.CheckFault(a, k, out _);
        Assert.Equal(FaultVerdict.Allowed, V(0x400fff, FaultAccess.Read));
        Assert.Equal(FaultVerdict.Forbidden, V(0x400000, FaultAccess.Write));
        Assert.Equal(FaultVerdict.Forbidden, V(0x400000, FaultAccess.Execute));
        Assert.Equal(FaultVerdict.Allowed, V(0x401000, FaultAccess.Read));   // write-only reads on x86
        Assert.Equal(FaultVerdict.Allowed, V(0x401000, FaultAccess.Write));
        Assert.Equal(FaultVerdict.Allowed, V(0x402000, FaultAccess.Execute));
        Assert.Equal(FaultVerdict.Forbidden, V(0x403000, FaultAccess.Read));  // PROT_NONE
        Assert.Equal(FaultVerdict.Unmapped, V(0x404000, FaultAccess.Read));
        Assert.Equal(FaultVerdict.Unmapped, V(0x3ff000, FaultAccess.Read));
        Assert.Equal(FaultVerdict.Unmapped, V(0xffff800000000000, FaultAccess.Read));
        Assert.Equal(FaultVerdict.Allowed, s.CheckFault(0x402123, FaultAccess.Read, out Vma area));
        Assert.Equal(0x402000ul, area.Start);
    }

    [Fact]
    public void AFaultJustBelowTheStackGrowsItWithinTheLimit()
    {
        var s = new VmaSet(Linux);
        ulong top = Linux.StackTop;
        s.MapArea(new Vma { Start = top - 33 * P, End = top, Kind = VmaKind.Stack, Protection = RW });
        Assert.Equal(FaultVerdict.Allowed, s.CheckFault(top - 40 * P + 8, FaultAccess.Write, out Vma grown));
        Assert.Equal(top - 40 * P, grown.Start);
        Assert.Equal(1, s.Count);
        // Beyond RLIMIT_STACK (8 MiB) from the top: a segfault, and no growth.
        Assert.Equal(FaultVerdict.Unmapped, s.CheckFault(top - Linux.StackLimit - P, FaultAccess.Write, out _));
        Assert.Equal(top - 40 * P, s[0].Start);
    }

    [Fact]
    public void StackGrowthStopsAtTheGuardGapOfAnAccessibleMapping()
    {
        var s = new VmaSet(Small);
        ulong top = Small.StackTop;
        s.MapArea(new Vma { Start = top - 4 * P, End = top, Kind = VmaKind.Stack, Protection = RW });
        s.Mmap(top - 12 * P, P, Prot.Read, Anon | MapFlags.Fixed, 0, 0); // ends at top - 11 pages
        Assert.Equal(FaultVerdict.Unmapped, s.CheckFault(top - 10 * P, FaultAccess.Write, out _)); // 1 page gap < 2
        Assert.Equal(FaultVerdict.Allowed, s.CheckFault(top - 9 * P, FaultAccess.Write, out _));   // 2 pages: ok
        // A PROT_NONE neighbour is itself a guard and does not block.
        s.Mprotect(top - 12 * P, P, Prot.None);
        Assert.Equal(FaultVerdict.Allowed, s.CheckFault(top - 11 * P, FaultAccess.Write, out _));
    }

    // ---- scale and limits --------------------------------------------------------------

    [Fact]
    public void ThousandsOfAreasStaySortedAndFindable()
    {
        var s = new VmaSet(Linux);
        const int n = 5_000;
        for (int i = 0; i < n; i++)
            Assert.True(s.Mmap(0, P, (i & 1) == 0 ? Prot.Read : RW, Anon, 0, 0) > 0); // alternating: no merges
        Assert.Equal(n, s.Count);
        for (int i = 1; i < n; i++) Assert.Equal(s[i - 1].End, s[i].Start);
        for (int i = 0; i < n; i += 97) Assert.Equal(i, s.IndexOf(s[i].Start + 5));
        // Punch out every other area, then the rest.
        ulong low = s[0].Start;
        for (int i = 0; i < n; i += 2) Assert.Equal(0, s.Munmap(low + (ulong)i * P, P));
        Assert.Equal(n / 2, s.Count);
        Assert.Equal(0, s.Munmap(low, (ulong)n * P));
        Assert.Equal(0, s.Count);
    }

    [Fact]
    public void TheMapCountLimitIsEnforced()
    {
        var layout = Linux;
        layout.MaxMapCount = 3;
        var s = new VmaSet(layout);
        for (int i = 0; i < 4; i++) Assert.True(s.Mmap(0x400000 + (ulong)i * 2 * P, P, RW, Anon | MapFlags.Fixed, 0, 0) > 0);
        // Linux lets the count reach the limit plus one before refusing new areas.
        Assert.Equal(-ENOMEM, s.Mmap(0x500000, P, RW, Anon | MapFlags.Fixed, 0, 0));
        Assert.Equal(4, s.Count);
        // Splitting an area in three at the limit is refused too.
        var t = new VmaSet(layout);
        t.Mmap(0x400000, 3 * P, RW, Anon | MapFlags.Fixed, 0, 0);
        t.Mmap(0x500000, P, RW, Anon | MapFlags.Fixed, 0, 0);
        t.Mmap(0x600000, P, RW, Anon | MapFlags.Fixed, 0, 0);
        Assert.Equal(-ENOMEM, t.Munmap(0x401000, P));
        Assert.Equal(-ENOMEM, t.Mprotect(0x401000, P, Prot.Read));
        Assert.Equal(0, t.Munmap(0x400000, P)); // trimming an edge adds nothing
    }

    [Fact]
    public void MapAreaRefusesOverlapsAndBadRanges()
    {
        var s = new VmaSet(Linux);
        Assert.Equal(0, s.MapArea(new Vma { Start = 0x400000, End = 0x402000, Kind = VmaKind.Anonymous, Protection = RW }));
        Assert.Equal(-EEXIST, s.MapArea(new Vma { Start = 0x401000, End = 0x403000, Kind = VmaKind.Anonymous, Protection = RW }));
        Assert.Equal(-EINVAL, s.MapArea(new Vma { Start = 0x500000, End = 0x500000, Kind = VmaKind.Anonymous }));
        Assert.Equal(-EINVAL, s.MapArea(new Vma { Start = 0x500010, End = 0x501000, Kind = VmaKind.Anonymous }));
        Assert.Equal(-EPERM, s.MapArea(new Vma { Start = 0x1000, End = 0x2000, Kind = VmaKind.Anonymous }));
        Assert.Equal(-ENOMEM, s.MapArea(new Vma { Start = 0x7ffffffff000, End = 0x800000000000, Kind = VmaKind.Anonymous }));
    }
}
