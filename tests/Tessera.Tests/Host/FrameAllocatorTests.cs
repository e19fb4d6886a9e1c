using System.Runtime.InteropServices;
using FsCheck;
using FsCheck.Xunit;
using Tessera.Core.Boot;
using Tessera.Core.Memory;
using Xunit;

namespace Tessera.Tests.Host;

/// <summary>
/// The frame allocator (kernel/Core/Memory/FrameAllocator.cs) and its set-up from a memory map
/// (FrameAllocatorSetup.cs), compiled from the kernel's sources, checked against an
/// independent model: which frames are allowed is computed here from the map directly.
/// </summary>
public sealed unsafe class FrameAllocatorTests
{
    private const ulong KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;
    private const ulong Frame = FrameAllocator.FrameSize;

    /// <summary>An allocator with its storage in native memory (as in the kernel: no managed heap).</summary>
    private sealed class Fixture : IDisposable
    {
        public readonly FrameAllocator Allocator;
        public readonly MemoryRegion[] Regions;
        public readonly PhysicalRange[] Excluded;
        private readonly void* _storage;

        public Fixture(MemoryRegion[] regions, PhysicalRange[] excluded)
        {
            Regions = regions;
            Excluded = excluded;
            ulong top = FrameAllocatorSetup.UsableTop(regions, regions.Length);
            ulong bytes = FrameAllocator.StorageBytes(top);
            _storage = NativeMemory.Alloc((nuint)Math.Max(bytes, 1));
            new Span<byte>(_storage, (int)bytes).Fill(0xA5); // the constructor must zero it
            Allocator = new FrameAllocator(_storage, bytes, top);
            FrameAllocatorSetup.Populate(Allocator, regions, regions.Length, excluded, excluded.Length);
        }

        public void Dispose() => NativeMemory.Free(_storage);

        /// <summary>The model: a frame is allowed when wholly inside a usable region and clear of every exclusion.</summary>
        public bool Allowed(ulong frame)
        {
            ulong start = frame * Frame, end = start + Frame;
            bool inside = Regions.Any(r => r.IsUsable && r.Base <= start && end <= r.End);
            return inside && !Excluded.Any(x => x.End > x.Start && x.Start < end && start < x.End);
        }
    }

    private static MemoryRegion Region(ulong start, ulong end, MemoryRegionType type = MemoryRegionType.Usable) =>
        new() { Base = start, Length = end - start, Type = type };

    // QEMU's map for -m 64M (as the kernel prints it), with a kernel image at 1 MiB.
    private static MemoryRegion[] Qemu64M() =>
    [
        Region(0, 0x9FC00), Region(0x9FC00, 0xA0000, MemoryRegionType.Reserved),
        Region(0xF0000, 0x100000, MemoryRegionType.Reserved), Region(0x100000, 0x3FE0000),
        Region(0x3FE0000, 0x4000000, MemoryRegionType.Reserved), Region(0xFFFC0000, 0x100000000, MemoryRegionType.Reserved),
        Region(0xFD00000000, 0x10000000000, MemoryRegionType.Reserved),
    ];

    private static PhysicalRange[] KernelExclusions() =>
        [new(0, FrameAllocatorSetup.LowMemoryEnd), new(0x100000, 0x928000), new(0x929000, 0x929074) /* boot info, unaligned */];

    [Fact]
    public void StorageIs130BytesPerTwoMebibytes()
    {
        Assert.Equal(1024UL * 130, FrameAllocator.StorageBytes(2 * GiB));
        Assert.Equal(130UL, FrameAllocator.StorageBytes(1));
        Assert.Equal(0UL, FrameAllocator.StorageBytes(0));
    }

    [Fact]
    public void QemuMapAccountsForEveryUsableFrame()
    {
        using var f = new Fixture(Qemu64M(), KernelExclusions());
        var a = f.Allocator;
        ulong usable = (0x9F000 / Frame) + (0x3FE0000 - 0x100000) / Frame;
        Assert.Equal(usable, a.TotalFrames);
        Assert.Equal(usable, FrameAllocatorSetup.UsableFrames(f.Regions, f.Regions.Length));
        // Free: the frame between kernel and boot info, then 0x92A000..0x3FE0000
        // (the boot info's frame 0x929000 is excluded whole although it uses 0x74 bytes).
        Assert.Equal(1 + (0x3FE0000 - 0x92A000) / Frame, a.FreeFrames);
        Assert.Equal(0UL, a.UsedFrames);
        Assert.Equal(a.TotalFrames, a.FreeFrames + a.UsedFrames + a.ReservedFrames);
        Assert.Equal(64 * MiB, a.PhysicalTop);
        Assert.True(a.IsManaged(0x928000));
        Assert.False(a.IsManaged(0x929000));
        Assert.True(a.IsManaged(0x92A000));
        Assert.False(a.IsManaged(0x3FE0000));
        Assert.False(a.IsManaged(0x9E000)); // below 1 MiB
    }

    [Fact]
    public void SingleFramesComeFromAllowedRamInOrderAndFreeRestores()
    {
        using var f = new Fixture(Qemu64M(), KernelExclusions());
        var a = f.Allocator;
        ulong free = a.FreeFrames;
        var taken = new List<ulong>();
        for (int i = 0; i < 1000; i++)
        {
            Assert.True(a.TryAllocate(out ulong p));
            Assert.Equal(0UL, p % Frame);
            Assert.True(f.Allowed(p / Frame));
            taken.Add(p);
        }
        Assert.Equal(taken.Count, taken.Distinct().Count());
        Assert.Equal(0x928000UL, taken[0]); // the partly used block first: the kernel's 2 MiB block
        Assert.Equal(free - 1000, a.FreeFrames);
        foreach (var p in taken) Assert.True(a.Free(p));
        Assert.Equal(free, a.FreeFrames);
    }

    [Fact]
    public void SingleFramesPreferPartlyUsedBlocksSoLargeRunsSurvive()
    {
        // 8 MiB of RAM from 2 MiB: four whole blocks.
        using var f = new Fixture([Region(2 * MiB, 10 * MiB)], []);
        var a = f.Allocator;
        Assert.True(a.TryAllocate(out ulong first));
        for (int i = 0; i < 511; i++) Assert.True(a.TryAllocate(out _));
        // One block used up by 512 single frames; three whole blocks remain.
        for (int i = 0; i < 3; i++) Assert.True(a.TryAllocateLarge(out _));
        Assert.False(a.TryAllocateLarge(out _));
        Assert.Equal(0UL, a.FreeFrames);
        Assert.False(a.TryAllocate(out _));
        Assert.True(a.Free(first));
        Assert.True(a.TryAllocate(out ulong again));
        Assert.Equal(first, again);
    }

    [Fact]
    public void LargeRunsAreAlignedWholeBlocksOfUsableRam()
    {
        // Usable 1 MiB..7 MiB + 0x1000: blocks 0 (partial, below 1 MiB excluded) and 3 (partial) are not whole.
        using var f = new Fixture([Region(0, 7 * MiB + 0x1000)], [new(0, MiB)]);
        var a = f.Allocator;
        Assert.True(a.TryAllocateLarge(out ulong p1));
        Assert.True(a.TryAllocateLarge(out ulong p2));
        Assert.False(a.TryAllocateLarge(out _));
        Assert.Equal(new[] { 2 * MiB, 4 * MiB }, new[] { p1, p2 }.Order().ToArray());
        Assert.True(a.FreeLarge(p1));
        Assert.False(a.FreeLarge(p1));           // double free
        Assert.False(a.FreeLarge(p2 + Frame));   // misaligned
        Assert.True(a.TryAllocateLarge(out ulong p3));
        Assert.Equal(p1, p3);
    }

    [Fact]
    public void LargeFreeOfPartlyFreeBlockChangesNothing()
    {
        using var f = new Fixture([Region(2 * MiB, 4 * MiB)], []);
        var a = f.Allocator;
        Assert.True(a.TryAllocateLarge(out ulong p));
        Assert.True(a.Free(p + 5 * Frame));
        ulong free = a.FreeFrames;
        Assert.False(a.FreeLarge(p));
        Assert.Equal(free, a.FreeFrames);
        Assert.True(a.IsFree(p + 5 * Frame));
        Assert.False(a.IsFree(p));
    }

    [Fact]
    public void ContiguousRunsHonourAlignmentAndSkipHoles()
    {
        using var f = new Fixture([Region(MiB, MiB + 64 * Frame)], []);
        var a = f.Allocator;
        Assert.True(a.TryAllocate(out ulong hole));           // frame 256
        Assert.Equal(MiB, hole);
        Assert.True(a.TryAllocateContiguous(5, 8, out ulong run));
        Assert.Equal(MiB + 8 * Frame, run);                    // first 8-aligned start past the hole
        Assert.True(a.TryAllocateContiguous(3, 1, out ulong small));
        Assert.Equal(MiB + Frame, small);                      // first fit, unaligned
        Assert.False(a.TryAllocateContiguous(65, 1, out _));
        Assert.False(a.TryAllocateContiguous(2, 3, out _));   // alignment not a power of two
        Assert.True(a.FreeContiguous(run, 5));
        Assert.False(a.FreeContiguous(run, 5));
        Assert.False(a.FreeContiguous(small, 4));              // the 4th frame is free: nothing changes
        Assert.False(a.IsFree(small));
        Assert.True(a.FreeContiguous(small, 3));
    }

    [Fact]
    public void FreeRefusesWhatWasNeverAllocated()
    {
        using var f = new Fixture(Qemu64M(), KernelExclusions());
        var a = f.Allocator;
        Assert.False(a.Free(0x100000));          // kernel image
        Assert.False(a.Free(0x1000));            // first 1 MiB
        Assert.False(a.Free(0x3FE0000));         // reserved
        Assert.False(a.Free(0xFFFFF000));        // hole, beyond the top
        Assert.False(a.Free(0x92A000));          // free already
        Assert.False(a.Free(0x92A001));          // misaligned
        Assert.True(a.TryAllocate(out ulong p));
        Assert.False(a.Free(p + 1));
        Assert.True(a.Free(p));
    }

    [Fact]
    public void RamAboveFourGibibytesIsManaged()
    {
        // QEMU -m 6G: 3 GiB below the PCI hole, 3 GiB from 4 GiB.
        MemoryRegion[] map = [Region(0, 0x9FC00), Region(MiB, 3 * GiB - 128 * KiB), Region(3 * GiB, 4 * GiB, MemoryRegionType.Reserved), Region(4 * GiB, 7 * GiB)];
        using var f = new Fixture(map, KernelExclusions());
        var a = f.Allocator;
        Assert.Equal(7 * GiB, a.PhysicalTop);
        Assert.True(a.IsManaged(7 * GiB - Frame));
        Assert.False(a.IsManaged(3 * GiB));
        var large = new List<ulong>();
        while (a.TryAllocateLarge(out ulong p)) large.Add(p);
        Assert.Contains(6 * GiB + 1022 * MiB, large);
        Assert.All(large, p => Assert.True(f.Allowed(p / Frame) && f.Allowed(p / Frame + 511)));
        // Whole blocks: 10 MiB .. 3 GiB - 2 MiB (the kernel reaches into 8-10 MiB; the last block is cut), and 4-7 GiB.
        Assert.Equal((3 * GiB - 12 * MiB) / (2 * MiB) + 3 * GiB / (2 * MiB), (ulong)large.Count);
    }

    [Fact]
    public void StorageIsFoundBelowTheLimitAndOutsideExclusions()
    {
        MemoryRegion[] map = [Region(MiB, 2 * MiB), Region(4 * GiB, 8 * GiB)];
        PhysicalRange[] excluded = [new(MiB, MiB + 0x800)];
        Assert.True(FrameAllocatorSetup.FindStorage(map, map.Length, excluded, 1, 0x10000, 4 * GiB, out ulong at));
        Assert.Equal(MiB + Frame, at);
        Assert.False(FrameAllocatorSetup.FindStorage(map, map.Length, excluded, 1, MiB, 4 * GiB, out _));
        Assert.True(FrameAllocatorSetup.FindStorage(map, map.Length, excluded, 1, MiB, ulong.MaxValue, out ulong high));
        Assert.Equal(4 * GiB, high);
    }

    [Fact]
    public void LowestSetBitFindsEveryPosition()
    {
        for (int i = 0; i < 64; i++)
        {
            Assert.Equal(i, FrameAllocator.LowestSetBit(1UL << i));
            Assert.Equal(i, FrameAllocator.LowestSetBit(ulong.MaxValue << i));
        }
    }

    [Fact]
    public void TooSmallStorageManagesNothing()
    {
        void* storage = NativeMemory.Alloc(64);
        try
        {
            var a = new FrameAllocator(storage, 64, 64 * MiB);
            Assert.Equal(0UL, a.AddFreeRange(MiB, 2 * MiB));
            Assert.False(a.TryAllocate(out _));
        }
        finally { NativeMemory.Free(storage); }
    }

    // ---- properties ----

    /// <summary>A random map below 24 MiB: boundaries cut it into alternating usable and reserved regions.</summary>
    private static MemoryRegion[] RandomMap(int[] cuts)
    {
        var bounds = cuts.Select(c => (ulong)(uint)c % (24 * MiB) & ~0x3FFUL).Append(0UL).Append(24 * MiB).Distinct().Order().ToList();
        var regions = new List<MemoryRegion>();
        for (int i = 0; i + 1 < bounds.Count; i++)
            regions.Add(Region(bounds[i], bounds[i + 1], i % 2 == 0 ? MemoryRegionType.Usable : MemoryRegionType.AcpiNvs));
        return [.. regions];
    }

    private static PhysicalRange[] RandomExclusions(int[] spans) =>
        spans.Take(16).Select(s =>
        {
            ulong start = (ulong)(uint)s % (24 * MiB), length = (ulong)((uint)s >> 8) % (3 * MiB);
            return new PhysicalRange(start, start + length);
        }).ToArray();

    [Property(MaxTest = 150)]
    public void RandomSequencesNeverHandOutAFrameTwiceNorAReservedOne(int[] cuts, int[] spans, int[] operations)
    {
        using var f = new Fixture(RandomMap(cuts), RandomExclusions(spans));
        var a = f.Allocator;
        ulong topFrames = a.PhysicalTop / Frame;
        var allowed = new HashSet<ulong>();
        for (ulong fr = 0; fr < topFrames; fr++) if (f.Allowed(fr)) allowed.Add(fr);
        Assert.Equal((ulong)allowed.Count, a.ManagedFrames);
        ulong total = a.TotalFrames;
        var held = new HashSet<ulong>();     // frames the model says are allocated
        var heldList = new List<ulong>();

        void Take(ulong physical, ulong frames)
        {
            for (ulong k = 0; k < frames; k++)
            {
                ulong fr = physical / Frame + k;
                Assert.True(allowed.Contains(fr), $"frame {fr:x} is not allowed RAM");
                Assert.True(held.Add(fr), $"frame {fr:x} handed out twice");
                heldList.Add(fr);
            }
        }

        void Give(ulong fr)
        {
            held.Remove(fr);
            heldList.Remove(fr);
        }

        foreach (int op in operations.Take(300))
        {
            uint u = (uint)op;
            switch (u % 7)
            {
                case 0:
                case 1:
                    if (a.TryAllocate(out ulong p)) Take(p, 1);
                    else Assert.Equal(held.Count, allowed.Count);
                    break;
                case 2:
                    if (a.TryAllocateLarge(out ulong l)) { Assert.Equal(0UL, l % (2 * MiB)); Take(l, 512); }
                    else Assert.DoesNotContain(allowed, fr => fr % 512 == 0 && Enumerable.Range(0, 512).All(k => allowed.Contains(fr + (ulong)k) && !held.Contains(fr + (ulong)k)));
                    break;
                case 3:
                {
                    ulong count = 1 + (u >> 3) % 12, align = 1UL << (int)((u >> 8) % 4);
                    if (a.TryAllocateContiguous(count, align, out ulong c)) { Assert.Equal(0UL, c / Frame % align); Take(c, count); }
                    else Assert.DoesNotContain(allowed, fr => fr % align == 0 && Enumerable.Range(0, (int)count).All(k => allowed.Contains(fr + (ulong)k) && !held.Contains(fr + (ulong)k)));
                    break;
                }
                case 4:
                case 5:
                    if (heldList.Count > 0)
                    {
                        ulong fr = heldList[(int)((u >> 3) % (uint)heldList.Count)];
                        Assert.True(a.Free(fr * Frame));
                        Give(fr);
                    }
                    break;
                case 6:
                {
                    // Freeing anything not held must be refused and change nothing.
                    ulong fr = (u >> 3) % (topFrames + 16);
                    if (!held.Contains(fr)) Assert.False(a.Free(fr * Frame));
                    break;
                }
            }
            Assert.Equal((ulong)held.Count, a.UsedFrames);
            Assert.Equal((ulong)(allowed.Count - held.Count), a.FreeFrames);
            Assert.Equal(total, a.TotalFrames);
            Assert.Equal(a.TotalFrames, a.FreeFrames + a.UsedFrames + a.ReservedFrames);
        }

        // Free restores: after giving everything back, all allowed frames are free again.
        foreach (ulong fr in held.ToList()) Assert.True(a.Free(fr * Frame));
        Assert.Equal((ulong)allowed.Count, a.FreeFrames);
        Assert.All(allowed, fr => Assert.True(a.IsFree(fr * Frame)));
    }

    [Property(MaxTest = 200)]
    public void SetupCountsUsableFramesAsFreePlusReserved(int[] cuts, int[] spans)
    {
        using var f = new Fixture(RandomMap(cuts), RandomExclusions(spans));
        var a = f.Allocator;
        Assert.Equal(FrameAllocatorSetup.UsableFrames(f.Regions, f.Regions.Length), a.TotalFrames);
        Assert.Equal(a.FreeFrames, a.ManagedFrames);
        for (ulong fr = 0; fr < a.PhysicalTop / Frame; fr++)
            Assert.Equal(f.Allowed(fr), a.IsManaged(fr * Frame));
    }
}
