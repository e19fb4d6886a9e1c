// The ExCache over ranges of one address space: munmap, mprotect, exit, and the write-backs
// without eviction that fork and mremap need.
//
// Decisions (issue 5 item 3 asks for them):
//   - munmap / brk shrinking: the range's memory is being freed, so its lines are dropped,
//     dirty ones included, with no write-back (Linux discards the pages of an anonymous
//     private mapping at munmap the same way). The caller first clears the range's PTEs and
//     flushes the TLB - otherwise a CPU could still write into a line after it was reused -
//     then calls InvalidateRange, then forwards MUNMAP once InFlightIn(range) is 0 (a write-back
//     still travelling must not reach the memory component after the range was freed and maybe
//     handed out again).
//   - exit: the same for the whole address space (InvalidateAddressSpace); the caller drops
//     the page tables and switches CR3 instead of unmapping page by page.
//   - mprotect: no write-back. Protection changes neither the data nor who holds the latest
//     copy: a dirty line stays dirty and is written back when it is evicted (the memory
//     component accepts write-backs to a page in any VMA whatever its current protection).
//     The caller rewrites the PTE permissions of the range's resident lines (Walk/Next gives
//     them). OnProtect only makes the range's pages no longer fresh (FreshPages.cs, rule 4).
//   - mremap (moving): the memory component moves the frames, so the processor first writes
//     back the dirty lines of the old range (NextDirty, BeginWriteBack), waits for them, invalidates the old
//     range, then forwards MREMAP; fresh pages of the new range are announced by the reply.
//   - fork (later): the memory component copies the parent's pages, so the processor writes
//     back every dirty line of the parent first (WalkAddressSpace, NextDirty, BeginWriteBack)
//     and keeps them, Clean.
//
// Walks: a RangeWalk enumerates the lines that hold a page of the range or are busy with one
// (an eviction's incoming page, a write-back in flight). A short range (fewer pages than sets)
// is walked page by page, probing each page's set; a long one scans every line once.
// Pure logic: compiled into the processor image and the host tests.
namespace Tessera.Processor.Cache
{
    /// <summary>An enumeration of the lines touching a page range of one address space (ExCache.Next).</summary>
    public struct RangeWalk
    {
        internal int Asid;
        internal ulong Start, End;
        internal bool ByPage;
        internal ulong Page;
        internal int Way;
        internal int Line;
    }

    public sealed partial class ExCache
    {
        public RangeWalk WalkRange(int asid, ulong startPage, ulong pageCount)
        {
            RangeWalk w = default;
            w.Asid = asid;
            w.Start = startPage;
            w.End = pageCount > ulong.MaxValue - startPage ? ulong.MaxValue : startPage + pageCount;
            // Probing page by page costs pageCount x ways; a scan costs lines = sets x ways.
            w.ByPage = pageCount < (ulong)Geometry.Sets;
            w.Page = startPage;
            return w;
        }

        public RangeWalk WalkAddressSpace(int asid) => WalkRange(asid, 0, ulong.MaxValue);

        /// <summary>
        /// The next line that holds a page of the walk's range, or is busy with one, in any state
        /// but Invalid; each line once. False at the end. Lines may be changed between calls.
        /// </summary>
        public bool Next(ref RangeWalk w, out int line)
        {
            int ways = Geometry.Ways;
            if (w.ByPage)
            {
                while (w.Page < w.End)
                {
                    int first = SetOf(w.Asid, w.Page) * ways;
                    while (w.Way < ways)
                    {
                        int l = first + w.Way++;
                        // A line may touch the range with two pages: report it at the lower one only.
                        if (LowestTouchingPage(l, w.Asid, w.Start, w.End, out ulong page) && page == w.Page) { line = l; return true; }
                    }
                    w.Way = 0;
                    w.Page++;
                }
            }
            else
            {
                while (w.Line < _lines.Length)
                {
                    int l = w.Line++;
                    if (LowestTouchingPage(l, w.Asid, w.Start, w.End, out _)) { line = l; return true; }
                }
            }
            line = -1;
            return false;
        }

        /// <summary>The next Dirty line whose own page is in the walk's range (write-backs without eviction: BeginWriteBack).</summary>
        public bool NextDirty(ref RangeWalk w, out int line)
        {
            while (Next(ref w, out line))
            {
                ref Line l = ref _lines[line];
                if (l.State == LineState.Dirty && (l.Flags & Doomed) == 0 && l.Asid == w.Asid && l.Page >= w.Start && l.Page < w.End)
                    return true;
            }
            return false;
        }

        /// <summary>The lowest page of [start, end) of asid that the line holds or is busy with.</summary>
        private bool LowestTouchingPage(int line, int asid, ulong start, ulong end, out ulong page)
        {
            ref Line l = ref _lines[line];
            page = ulong.MaxValue;
            if (l.State == LineState.Invalid) return false;
            bool found = false;
            if (l.Asid == asid && l.Page >= start && l.Page < end) { page = l.Page; found = true; }
            bool hasOther = l.State == LineState.Evicting || (l.State == LineState.Filling && (l.Flags & WriteBackPending) != 0);
            if (hasOther && l.OtherAsid == asid && l.OtherPage >= start && l.OtherPage < end && l.OtherPage < page)
            {
                page = l.OtherPage;
                found = true;
            }
            return found;
        }

        // ---------------- invalidation ----------------

        /// <summary>
        /// munmap (or brk shrinking) of [startPage, startPage + pageCount) of asid, after the caller
        /// cleared those PTEs and flushed the TLB: resident lines are freed (pinned ones when
        /// unpinned), lines in flight for those pages are dropped when their operation ends, and
        /// the pages stop being fresh. Returns the number of lines affected.
        /// </summary>
        public int InvalidateRange(int asid, ulong startPage, ulong pageCount)
        {
            RangeWalk w = WalkRange(asid, startPage, pageCount);
            int n = 0;
            while (Next(ref w, out int line)) if (Invalidate(line, asid, w.Start, w.End)) n++;
            FreshOf(asid)?.Remove(startPage, pageCount);
            return n;
        }

        /// <summary>exit: every line of asid, as InvalidateRange; the address space's fresh record is emptied.</summary>
        public int InvalidateAddressSpace(int asid)
        {
            RangeWalk w = WalkAddressSpace(asid);
            int n = 0;
            while (Next(ref w, out int line)) if (Invalidate(line, asid, w.Start, w.End)) n++;
            FreshOf(asid)?.Clear();
            return n;
        }

        /// <summary>mprotect of the range: no write-back, no line changes; the pages stop being fresh.</summary>
        public void OnProtect(int asid, ulong startPage, ulong pageCount) => FreshOf(asid)?.Remove(startPage, pageCount);

        /// <summary>Lines touching the range that are still in flight (filling, evicting, writing back, or carrying a write-back of it).</summary>
        public int InFlightIn(int asid, ulong startPage, ulong pageCount)
        {
            RangeWalk w = WalkRange(asid, startPage, pageCount);
            int n = 0;
            while (Next(ref w, out int line))
            {
                LineState s = _lines[line].State;
                if (s == LineState.Filling || s == LineState.Evicting || s == LineState.WritingBack) n++;
            }
            return n;
        }

        /// <summary>Applies an invalidation of [start, end) of asid to one line; true when it changed the line.</summary>
        private bool Invalidate(int line, int asid, ulong start, ulong end)
        {
            ref Line l = ref _lines[line];
            bool changed = false;
            if (l.State == LineState.Evicting && (l.Flags & IncomingDoomed) == 0 &&
                l.OtherAsid == asid && l.OtherPage >= start && l.OtherPage < end)
            {
                l.Flags |= IncomingDoomed;
                changed = true;
            }
            if (l.State == LineState.Invalid || (l.Flags & Doomed) != 0 || l.Asid != asid || l.Page < start || l.Page >= end)
                return changed;
            Counters.Invalidations++;
            bool dirty = l.State == LineState.Dirty || (l.State == LineState.Evicting && (l.Flags & VictimDirty) != 0);
            if (dirty) Counters.DiscardedDirty++;
            if ((l.State == LineState.Clean || l.State == LineState.Dirty) && l.Pins == 0) Free(ref l);
            else l.Flags |= Doomed;
            return true;
        }

        // ---------------- write-back without eviction ----------------

        /// <summary>
        /// Starts writing back a Dirty line that stays resident. The caller has write-protected
        /// the line's PTE and flushed its TLB entry (so no write can slip past the copy), and
        /// reported the PTE's dirty bit (MarkDirty); it then copies the line into a PCACHE_FLUSH
        /// and calls OnWriteBackComplete when the memory component acknowledges it.
        /// </summary>
        public bool BeginWriteBack(int line)
        {
            if (!IsLine(line) || _lines[line].State != LineState.Dirty || (_lines[line].Flags & Doomed) != 0)
            {
                Counters.ProtocolErrors++;
                return false;
            }
            ref Line l = ref _lines[line];
            l.State = LineState.WritingBack;
            l.Flags = 0;
            FreshOf(l.Asid)?.Remove(l.Page, 1);
            return true;
        }

        /// <summary>
        /// The write-back of the line was acknowledged. True: the line stays resident (Clean, or
        /// Dirty again if written meanwhile) - its PTE may be made writable again only on the next
        /// write fault. False: its page was invalidated meanwhile and the line is free.
        /// </summary>
        public bool OnWriteBackComplete(int line)
        {
            if (!IsLine(line) || _lines[line].State != LineState.WritingBack) { Counters.ProtocolErrors++; return false; }
            ref Line l = ref _lines[line];
            Counters.FlushWriteBacks++;
            Counters.WriteBacks++;
            if ((l.Flags & Doomed) != 0 && l.Pins == 0) { Free(ref l); return false; }
            if ((l.Flags & Doomed) != 0) { l.State = LineState.Clean; return false; }
            l.State = (l.Flags & Redirtied) != 0 ? LineState.Dirty : LineState.Clean;
            l.Flags = 0;
            return true;
        }
    }
}
