// Zero-fill bookkeeping for one address space: the pages the memory component has declared
// fresh anonymous memory - no frame behind them, no data ever written back - so that a first
// touch is satisfied locally with a zeroed line and no RPC at all.
//
// Protocol contract with the memory component (how it is kept, and why this way):
//   1. Announcement at mmap/brk time. The reply to MMAP, BRK and MREMAP (growing) carries the
//      page range of the new anonymous, private, read+write memory for which the memory
//      component holds no frame; the processor records it here (ExCache.AnnounceFresh).
//      Pages the memory component has written itself (ELF segments, bss sharing a page with
//      data, the initial stack, the page holding the old break) are never announced. Only
//      read+write ranges are announced, so a zero-filled page is always mapped user, writable,
//      no-execute: the processor needs no other permission information to map it.
//   2. The processor zero-fills a fresh page on every miss while it stays fresh - also after a
//      clean eviction: a zero-filled line that was never written back is still all zeros at
//      the memory component (it has nothing there).
//   3. A page stops being fresh when its data first leaves the processor: when a dirty line
//      of it is written back (eviction, flush). From then on the memory component holds the
//      page, and misses fetch it. The memory component accepts a write-back to a page in a
//      VMA that has no frame yet by allocating the frame.
//   4. munmap, brk shrinking, mremap's old range, mprotect and exit remove their range here
//      (mprotect too, because fresh pages are mapped writable: after mprotect the memory
//      component answers the miss with the right permissions).
//   5. Fallback, always allowed: a miss on a page the processor does not know to be fresh
//      goes to the memory component, which may answer "zero page" (no 4 KiB payload) when it
//      has no frame. So forgetting a fresh page costs one small RPC, never correctness;
//      wrongly believing a page fresh would lose data. Every shortcut below therefore only
//      ever forgets (capacity overflow drops the smallest range).
// LegoOS keeps the same knowledge in its page tables instead (a zerofill bit in non-present
// PTEs set over the mmap'd range, managers/processor/pcache/zerofill), and optionally tells
// memory about each zero-fill; it never asks memory first. We keep it in a sorted, bounded
// list of page ranges so that it is plain host-testable data with no page-table coupling.
//
// Storage: `capacity` disjoint, non-adjacent ranges [start, end) in ascending order, allocated
// once; no allocation afterwards. Contains is a binary search; Add and Remove shift the arrays
// (O(capacity)), done on mmap/munmap and on dirty evictions, not on hits.
// Pure logic: compiled into the processor image and the host tests.
namespace Tessera.Processor.Cache
{
    public sealed class FreshPages
    {
        private readonly ulong[] _start;
        private readonly ulong[] _end;
        private int _count;
        private ulong _pages;
        private ulong _forgotten;

        public FreshPages(int capacity)
        {
            if (capacity < 1) capacity = 1;
            _start = new ulong[capacity];
            _end = new ulong[capacity];
        }

        public int Capacity => _start.Length;
        public int RangeCount => _count;
        /// <summary>Pages currently recorded fresh.</summary>
        public ulong PageCount => _pages;
        /// <summary>Fresh pages dropped because the range list was full (each costs one RPC later).</summary>
        public ulong ForgottenPages => _forgotten;

        public void Range(int i, out ulong start, out ulong end) { start = _start[i]; end = _end[i]; }

        public void Clear() { _count = 0; _pages = 0; }

        public bool Contains(ulong page)
        {
            int i = LastStartingAtOrBefore(page);
            return i >= 0 && page < _end[i];
        }

        /// <summary>Records [start, start + count) as fresh, merging with ranges it touches.</summary>
        public void Add(ulong start, ulong count)
        {
            ulong end = End(start, count);
            if (end <= start) return;
            // The ranges that overlap or touch [start, end) are consecutive: first..last.
            int first = LastStartingAtOrBefore(start);
            if (first < 0 || _end[first] < start) first++;
            int last = first - 1;
            while (last + 1 < _count && _start[last + 1] <= end) last++;
            if (last >= first)
            {
                if (_start[first] < start) start = _start[first];
                if (_end[last] > end) end = _end[last];
                for (int i = first; i <= last; i++) _pages -= _end[i] - _start[i];
                RemoveSlots(first, last - first + 1);
            }
            Insert(first, start, end);
        }

        /// <summary>Forgets [start, start + count): those pages are no longer fresh.</summary>
        public void Remove(ulong start, ulong count)
        {
            ulong end = End(start, count);
            if (end <= start) return;
            int i = LastStartingAtOrBefore(start);
            if (i < 0 || _end[i] <= start) i++;
            while (i < _count && _start[i] < end)
            {
                ulong s = _start[i], e = _end[i];
                if (start <= s && e <= end)
                {
                    _pages -= e - s;
                    RemoveSlots(i, 1);
                    continue;
                }
                if (s < start && end < e)
                {
                    // A hole in the middle: the right part needs a slot of its own.
                    _pages -= end - start;
                    _end[i] = start;
                    Insert(i + 1, end, e, countPages: false);
                    return;
                }
                if (s < start) { _pages -= e - start; _end[i] = start; i++; continue; }
                _pages -= end - s;
                _start[i] = end;
                i++;
            }
        }

        private static ulong End(ulong start, ulong count) => count > ulong.MaxValue - start ? ulong.MaxValue : start + count;

        /// <summary>Index of the last range whose start is at or before page, or -1.</summary>
        private int LastStartingAtOrBefore(ulong page)
        {
            int lo = 0, hi = _count - 1, found = -1;
            while (lo <= hi)
            {
                int mid = (lo + hi) >> 1;
                if (_start[mid] <= page) { found = mid; lo = mid + 1; }
                else hi = mid - 1;
            }
            return found;
        }

        private void RemoveSlots(int at, int n)
        {
            for (int i = at; i + n < _count; i++) { _start[i] = _start[i + n]; _end[i] = _end[i + n]; }
            _count -= n;
        }

        /// <summary>
        /// Inserts [start, end) at index at (it fits there in order, touching no neighbour). When
        /// the list is full the smallest range - the new one included - is forgotten.
        /// countPages false: the pages are already counted (the right part of a split).
        /// </summary>
        private void Insert(int at, ulong start, ulong end, bool countPages = true)
        {
            if (countPages) _pages += end - start;
            if (_count == _start.Length)
            {
                int smallest = -1;
                ulong smallestSize = end - start;
                for (int i = 0; i < _count; i++)
                    if (_end[i] - _start[i] < smallestSize) { smallest = i; smallestSize = _end[i] - _start[i]; }
                if (smallest < 0) { _pages -= end - start; _forgotten += end - start; return; }
                _pages -= smallestSize;
                _forgotten += smallestSize;
                RemoveSlots(smallest, 1);
                if (smallest < at) at--;
            }
            for (int i = _count; i > at; i--) { _start[i] = _start[i - 1]; _end[i] = _end[i - 1]; }
            _start[at] = start;
            _end[at] = end;
            _count++;
        }
    }
}
