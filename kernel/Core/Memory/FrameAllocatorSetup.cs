// From the boot memory map to a FrameAllocator: which frames are free RAM.
//
// A frame is handed to the allocator when it lies wholly inside a usable region
// of the map (BootInfo.Regions: sorted, non-overlapping; reserved, ACPI and
// defective regions are simply not usable) and touches none of the excluded
// ranges: the first 1 MiB (real-mode IVT, BIOS data, EBDA, option ROMs: never
// trusted as RAM), the kernel image, the boot modules, the boot loader's
// information structures, and the allocator's own storage. Excluded ranges are
// widened to whole frames; usable regions are narrowed to whole frames.
//
// Pure logic: compiled into the kernels and into the host tests.
using Tessera.Core.Boot;

namespace Tessera.Core.Memory
{
    public struct PhysicalRange
    {
        public ulong Start;
        public ulong End;   // exclusive

        public PhysicalRange(ulong start, ulong end) { Start = start; End = end; }
        public ulong Length => End > Start ? End - Start : 0;
        public bool Overlaps(ulong start, ulong end) => start < End && Start < end;
    }

    public static class FrameAllocatorSetup
    {
        public const ulong LowMemoryEnd = 1UL << 20;
        private const ulong FrameMask = FrameAllocator.FrameSize - 1;

        /// <summary>The end of the highest usable region: the allocator's PhysicalTop.</summary>
        public static ulong UsableTop(MemoryRegion[] regions, int count)
        {
            ulong top = 0;
            for (int i = 0; i < count; i++)
                if (regions[i].IsUsable && regions[i].End > top) top = regions[i].End;
            return top;
        }

        /// <summary>Whole frames inside usable regions (the accounting's total).</summary>
        public static ulong UsableFrames(MemoryRegion[] regions, int count)
        {
            ulong frames = 0;
            for (int i = 0; i < count; i++)
            {
                if (!regions[i].IsUsable) continue;
                ulong s = RoundUp(regions[i].Base), e = regions[i].End & ~FrameMask;
                if (e > s) frames += (e - s) >> FrameAllocator.FrameShift;
            }
            return frames;
        }

        /// <summary>
        /// Writes the free pieces (usable minus excluded, in whole frames, ascending) to output;
        /// returns how many. output needs at most (usable regions + excluded ranges) entries.
        /// </summary>
        public static int FreePieces(MemoryRegion[] regions, int count, PhysicalRange[] excluded, int excludedCount, PhysicalRange[] output)
        {
            int n = 0;
            for (int i = 0; i < count; i++)
            {
                if (!regions[i].IsUsable) continue;
                ulong cursor = RoundUp(regions[i].Base), end = regions[i].End & ~FrameMask;
                while (cursor < end)
                {
                    // Inside an exclusion: skip to its (frame-rounded) end.
                    ulong skipTo = 0;
                    for (int x = 0; x < excludedCount; x++)
                    {
                        ulong xs = excluded[x].Start & ~FrameMask, xe = RoundUp(excluded[x].End);
                        if (excluded[x].End > excluded[x].Start && xs <= cursor && cursor < xe && xe > skipTo) skipTo = xe;
                    }
                    if (skipTo != 0) { cursor = skipTo; continue; }
                    // Free up to the next exclusion's start (or the region's end).
                    ulong next = end;
                    for (int x = 0; x < excludedCount; x++)
                    {
                        ulong xs = excluded[x].Start & ~FrameMask;
                        if (excluded[x].End > excluded[x].Start && xs > cursor && xs < next) next = xs;
                    }
                    if (n == output.Length) return n;
                    output[n++] = new PhysicalRange(cursor, next);
                    cursor = next;
                }
            }
            return n;
        }

        /// <summary>
        /// Finds the lowest frame-aligned place for bytes of allocator storage in free RAM that
        /// ends at or below limit (the part of physical memory the caller can reach yet).
        /// </summary>
        public static bool FindStorage(MemoryRegion[] regions, int count, PhysicalRange[] excluded, int excludedCount,
                                       ulong bytes, ulong limit, out ulong physical)
        {
            physical = 0;
            var pieces = new PhysicalRange[count + excludedCount + 1];
            int n = FreePieces(regions, count, excluded, excludedCount, pieces);
            ulong size = RoundUp(bytes);
            for (int i = 0; i < n; i++)
            {
                ulong end = pieces[i].End < limit ? pieces[i].End : limit;
                if (end > pieces[i].Start && end - pieces[i].Start >= size) { physical = pieces[i].Start; return true; }
            }
            return false;
        }

        /// <summary>
        /// Gives every free piece to the allocator and counts the rest of usable RAM as reserved.
        /// Returns the number of free frames added.
        /// </summary>
        public static ulong Populate(FrameAllocator allocator, MemoryRegion[] regions, int count, PhysicalRange[] excluded, int excludedCount)
        {
            var pieces = new PhysicalRange[count + excludedCount + 1];
            int n = FreePieces(regions, count, excluded, excludedCount, pieces);
            ulong added = 0;
            for (int i = 0; i < n; i++) added += allocator.AddFreeRange(pieces[i].Start, pieces[i].End);
            allocator.AddReservedFrames(UsableFrames(regions, count) - added);
            return added;
        }

        /// <summary>Up to a frame boundary, saturating at the last frame of the address space.</summary>
        private static ulong RoundUp(ulong address) =>
            address > ulong.MaxValue - FrameMask ? ulong.MaxValue & ~FrameMask : (address + FrameMask) & ~FrameMask;
    }
}
