// The physical frame allocator: 4 KiB frames, 2 MiB-aligned 2 MiB runs and
// small contiguous runs, over the RAM the boot memory map reports.
//
// Design: two bitmaps and a per-block counter, all in one caller-supplied
// block of memory (the kernel carves it out of RAM itself, so the allocator
// needs no heap; the host tests pass native memory).
//   - free bitmap:    bit i = 1 when frame i (physical i * 4 KiB) is free;
//   - managed bitmap: bit i = 1 when frame i is RAM this allocator hands out.
//     Frames outside it (holes, firmware areas, the kernel image, ...) can
//     never be allocated, and freeing one is refused, as is a double free.
//   - block counters: free frames in each 2 MiB block (512 frames), so a
//     whole free block (a 2 MiB run) is found by looking for the count 512
//     without touching the bitmaps, and single frames are taken from blocks
//     that are already partly used before a whole block is broken up. That
//     keeps 2 MiB runs available for as long as possible (the same goal as a
//     buddy allocator's, at a fraction of its bookkeeping).
// Memory cost: 130 bytes per 2 MiB of physical address space up to the
// highest usable byte (about 130 KiB for 2 GiB, 8.1 MiB for 128 GiB).
// Allocation of one frame is O(blocks) in the worst case and O(1) in the
// common case (a hint remembers the last partly used block).
//
// Accounting: total = managed + reserved, where reserved counts the usable
// frames withheld at boot (AddReservedFrames); used = managed - free.
//
// Pure logic: compiled into the kernels and into the host tests
// (tests/Tessera.Tests/Host/FrameAllocatorTests.cs). Not thread-safe: the
// caller holds a lock once there is more than one CPU.
namespace Tessera.Core.Memory
{
    public sealed unsafe class FrameAllocator
    {
        public const ulong FrameSize = 4096;
        public const int FrameShift = 12;
        public const ulong LargeFrameSize = 2UL << 20;
        public const int FramesPerLargeFrame = 512;
        private const int WordsPerBlock = FramesPerLargeFrame / 64;
        private const ulong NoBlock = ulong.MaxValue;

        private readonly ulong* _free;
        private readonly ulong* _managed;
        private readonly ushort* _blockFree;
        private readonly ulong _blockCount;
        private readonly ulong _frameCount;
        private ulong _managedFrames, _freeFrames, _reservedFrames;
        private ulong _partialHint, _wholeHint;

        /// <summary>Bytes of storage needed to manage physical addresses [0, physicalTop).</summary>
        public static ulong StorageBytes(ulong physicalTop)
        {
            ulong blocks = BlocksFor(physicalTop);
            return blocks * (WordsPerBlock * 8 * 2 + 2);
        }

        private static ulong BlocksFor(ulong physicalTop) => (physicalTop + LargeFrameSize - 1) / LargeFrameSize;

        /// <summary>
        /// An allocator for physical addresses [0, physicalTop) with nothing free yet; storage
        /// must hold StorageBytes(physicalTop) bytes and is zeroed here.
        /// </summary>
        public FrameAllocator(void* storage, ulong storageBytes, ulong physicalTop)
        {
            _blockCount = BlocksFor(physicalTop);
            _frameCount = _blockCount * FramesPerLargeFrame;
            ulong words = _blockCount * WordsPerBlock;
            ulong needed = StorageBytes(physicalTop);
            if (storageBytes < needed) { _blockCount = 0; _frameCount = 0; return; }
            byte* bytes = (byte*)storage;
            for (ulong i = 0; i < needed; i++) bytes[i] = 0;
            _free = (ulong*)storage;
            _managed = _free + words;
            _blockFree = (ushort*)(_managed + words);
        }

        /// <summary>End of the physical range this allocator can manage (a multiple of 2 MiB).</summary>
        public ulong PhysicalTop => _frameCount * FrameSize;

        public ulong ManagedFrames => _managedFrames;
        public ulong FreeFrames => _freeFrames;
        public ulong UsedFrames => _managedFrames - _freeFrames;
        public ulong ReservedFrames => _reservedFrames;
        public ulong TotalFrames => _managedFrames + _reservedFrames;

        /// <summary>
        /// Hands the whole frames inside [start, end) to the allocator as free. Frames beyond
        /// PhysicalTop or already managed are skipped. Returns the number of frames added.
        /// </summary>
        public ulong AddFreeRange(ulong start, ulong end)
        {
            ulong first = (start + FrameSize - 1) >> FrameShift;
            ulong last = end >> FrameShift;   // exclusive
            if (last > _frameCount) last = _frameCount;
            ulong added = 0;
            for (ulong f = first; f < last; f++)
            {
                // Whole words at a time where nothing of the word is managed yet.
                if ((f & 63) == 0 && last - f >= 64 && _managed[f >> 6] == 0)
                {
                    _managed[f >> 6] = ulong.MaxValue;
                    _free[f >> 6] = ulong.MaxValue;
                    _blockFree[f / FramesPerLargeFrame] += 64;
                    added += 64;
                    f += 63;
                    continue;
                }
                if (TestBit(_managed, f)) continue;
                SetBit(_managed, f);
                SetBit(_free, f);
                _blockFree[f / FramesPerLargeFrame]++;
                added++;
            }
            _managedFrames += added;
            _freeFrames += added;
            return added;
        }

        /// <summary>Counts frames of usable RAM that were withheld from allocation (for the accounting only).</summary>
        public void AddReservedFrames(ulong count) => _reservedFrames += count;

        // ---- single frames ----

        /// <summary>Takes one free 4 KiB frame, preferring blocks already partly in use.</summary>
        public bool TryAllocate(out ulong physical)
        {
            physical = 0;
            if (_freeFrames == 0) return false;
            ulong firstWhole = NoBlock;
            for (ulong i = 0; i < _blockCount; i++)
            {
                ulong b = _partialHint + i;
                if (b >= _blockCount) b -= _blockCount;
                int count = _blockFree[b];
                if (count == 0) continue;
                if (count < FramesPerLargeFrame) { physical = TakeFrom(b); return true; }
                if (firstWhole == NoBlock) firstWhole = b;
            }
            physical = TakeFrom(firstWhole);
            return true;
        }

        private ulong TakeFrom(ulong block)
        {
            ulong baseWord = block * WordsPerBlock;
            for (ulong w = 0; w < WordsPerBlock; w++)
            {
                ulong word = _free[baseWord + w];
                if (word == 0) continue;
                int bit = LowestSetBit(word);
                _free[baseWord + w] = word & ~(1UL << bit);
                _blockFree[block]--;
                _freeFrames--;
                _partialHint = block;
                return ((baseWord + w) * 64 + (ulong)bit) << FrameShift;
            }
            return 0; // unreachable while the counters agree with the bitmap
        }

        /// <summary>Returns a frame from TryAllocate (or a frame of a run). False when it is not an allocated managed frame.</summary>
        public bool Free(ulong physical)
        {
            if ((physical & (FrameSize - 1)) != 0) return false;
            ulong f = physical >> FrameShift;
            if (f >= _frameCount || !TestBit(_managed, f) || TestBit(_free, f)) return false;
            SetBit(_free, f);
            _blockFree[f / FramesPerLargeFrame]++;
            _freeFrames++;
            return true;
        }

        // ---- 2 MiB runs ----

        /// <summary>Takes 512 free frames forming one 2 MiB-aligned 2 MiB run.</summary>
        public bool TryAllocateLarge(out ulong physical)
        {
            physical = 0;
            for (ulong i = 0; i < _blockCount; i++)
            {
                ulong b = _wholeHint + i;
                if (b >= _blockCount) b -= _blockCount;
                if (_blockFree[b] != FramesPerLargeFrame) continue;
                for (ulong w = 0; w < WordsPerBlock; w++) _free[b * WordsPerBlock + w] = 0;
                _blockFree[b] = 0;
                _freeFrames -= FramesPerLargeFrame;
                _wholeHint = b;
                physical = b * LargeFrameSize;
                return true;
            }
            return false;
        }

        /// <summary>Returns a 2 MiB run (every frame of it must be allocated).</summary>
        public bool FreeLarge(ulong physical)
        {
            if ((physical & (LargeFrameSize - 1)) != 0) return false;
            return FreeContiguous(physical, FramesPerLargeFrame);
        }

        // ---- small contiguous runs (DMA buffers, rings) ----

        /// <summary>
        /// Takes count contiguous free frames whose first frame is aligned to alignFrames
        /// (a power of two). First fit, linear in the size of the bitmap.
        /// </summary>
        public bool TryAllocateContiguous(ulong count, ulong alignFrames, out ulong physical)
        {
            physical = 0;
            if (count == 0 || count > _freeFrames || alignFrames == 0 || (alignFrames & (alignFrames - 1)) != 0) return false;
            ulong f = 0;
            while (f + count <= _frameCount)
            {
                ulong blocked = FirstNotFree(f, count);
                if (blocked == NoBlock)
                {
                    for (ulong k = f; k < f + count; k++)
                    {
                        ClearBit(_free, k);
                        _blockFree[k / FramesPerLargeFrame]--;
                    }
                    _freeFrames -= count;
                    physical = f << FrameShift;
                    return true;
                }
                f = (blocked + alignFrames) & ~(alignFrames - 1);
            }
            return false;
        }

        /// <summary>The first frame in [first, first + count) that is not free, or NoBlock.</summary>
        private ulong FirstNotFree(ulong first, ulong count)
        {
            ulong f = first, end = first + count;
            while (f < end)
            {
                // Whole free words at a time where possible.
                if ((f & 63) == 0 && end - f >= 64 && _free[f >> 6] == ulong.MaxValue) { f += 64; continue; }
                if (!TestBit(_free, f)) return f;
                f++;
            }
            return NoBlock;
        }

        /// <summary>Returns count frames from physical on (each must be an allocated managed frame; else nothing changes).</summary>
        public bool FreeContiguous(ulong physical, ulong count)
        {
            if ((physical & (FrameSize - 1)) != 0 || count == 0) return false;
            ulong first = physical >> FrameShift;
            if (first >= _frameCount || count > _frameCount - first) return false;
            for (ulong f = first; f < first + count; f++)
                if (!TestBit(_managed, f) || TestBit(_free, f)) return false;
            for (ulong f = first; f < first + count; f++)
            {
                SetBit(_free, f);
                _blockFree[f / FramesPerLargeFrame]++;
            }
            _freeFrames += count;
            return true;
        }

        // ---- queries ----

        public bool IsManaged(ulong physical)
        {
            ulong f = physical >> FrameShift;
            return f < _frameCount && TestBit(_managed, f);
        }

        public bool IsFree(ulong physical)
        {
            ulong f = physical >> FrameShift;
            return f < _frameCount && TestBit(_free, f);
        }

        // ---- bits ----

        private static bool TestBit(ulong* map, ulong i) => (map[i >> 6] & (1UL << (int)(i & 63))) != 0;
        private static void SetBit(ulong* map, ulong i) => map[i >> 6] |= 1UL << (int)(i & 63);
        private static void ClearBit(ulong* map, ulong i) => map[i >> 6] &= ~(1UL << (int)(i & 63));

        /// <summary>Index of the lowest set bit of a non-zero word (binary search: no table, no TZCNT on x86-64 v1).</summary>
        public static int LowestSetBit(ulong v)
        {
            int n = 0;
            if ((v & 0xFFFFFFFFUL) == 0) { n += 32; v >>= 32; }
            if ((v & 0xFFFFUL) == 0) { n += 16; v >>= 16; }
            if ((v & 0xFFUL) == 0) { n += 8; v >>= 8; }
            if ((v & 0xFUL) == 0) { n += 4; v >>= 4; }
            if ((v & 0x3UL) == 0) { n += 2; v >>= 2; }
            if ((v & 0x1UL) == 0) n += 1;
            return n;
        }
    }
}
