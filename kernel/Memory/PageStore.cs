// The pages of one user address space that the memory component holds: user page → frame.
// A page is here only once a processor wrote it back (or exec put it there: the initial
// stack); a page that is not here reads as its area says (zero for anonymous memory, the
// executable's bytes for a file page), so untouched memory costs nothing.
//
// Data structure: a 4-level radix tree that mirrors x86-64 4-level paging (Intel SDM Vol. 3A
// §4.5): bits 47..39, 38..30, 29..21 and 20..12 of the user address index tables of 512
// 8-byte entries, each table one 4 KiB frame from the same PageFrames as the pages. An entry
// is 0 (nothing below) or a frame number with bit 0 set. Why this and not a hash table:
//  - every operation the service needs besides lookup is a range (munmap, brk shrink, the
//    tail of an mremap, exit, the move of an mremap), and a radix tree walks a range in
//    address order while skipping empty subtrees whole: dropping a 1 GiB hole that holds
//    three pages visits a handful of tables, not 262144 slots;
//  - it never rehashes and never moves an entry, so a lookup costs four dependent loads;
//  - its memory comes in frames and goes back in frames, counted with the pages, with no
//    kernel heap (which is an explicit-free heap: a growing hash array would leave its old
//    arrays behind) — exit returns every byte the process used;
//  - its overhead for sparse spaces is small: a typical static program (text and heap low,
//    mmap area and stack near the top) needs about ten tables.
// Tables that become empty are freed on the way back up a range walk.
// Pure logic: compiled into the memory kernel and the host tests.
using System;

namespace Tessera.Memory
{
    public sealed unsafe class PageStore
    {
        /// <summary>Addresses below this can be stored (48-bit virtual addresses, 4-level paging).</summary>
        public const ulong AddressLimit = 1UL << 48;
        /// <summary>NextStored's answer when no page is stored in the range.</summary>
        public const ulong NotFound = ulong.MaxValue;

        private const int PageSize = PageFrames.FrameSize;
        private const int Entries = 512;
        private const int TopLevel = 3;
        private const ulong Present = 1;
        private const ulong FrameMask = ~(ulong)0xFFF;

        private readonly PageFrames _frames;
        private ulong _root;
        private long _pages;
        private long _tables;

        public PageStore(PageFrames frames) { _frames = frames; }

        /// <summary>Pages held.</summary>
        public long StoredPages => _pages;
        /// <summary>Frames used by the tree's own tables.</summary>
        public long TableFrames => _tables;
        public long FramesInUse => _pages + _tables;

        /// <summary>The bytes of the page holding address, or null when it is not stored.</summary>
        public byte* Find(ulong address)
        {
            ulong* slot = Slot(address, false);
            if (slot == null || *slot == 0) return null;
            return _frames.Address(*slot & FrameMask);
        }

        /// <summary>
        /// Stores the first 4096 bytes of data as the page holding address, taking a frame if
        /// the page was not stored yet. Returns 0, -ENOMEM, or -EINVAL (short data, address
        /// beyond the 48-bit space).
        /// </summary>
        public int Store(ulong address, ReadOnlySpan<byte> data)
        {
            if (data.Length < PageSize || address >= AddressLimit) return -Errno.EINVAL;
            byte* page = GetOrAdd(address);
            if (page == null) return -Errno.ENOMEM;
            fixed (byte* source = data) CopyPage(page, source);
            return 0;
        }

        /// <summary>
        /// The bytes of the page holding address, taking a frame (contents undefined) if it
        /// was not stored; null when no frame is left or the address is beyond the space.
        /// </summary>
        public byte* GetOrAdd(ulong address)
        {
            ulong* slot = Slot(address, true);
            if (slot == null) return null;
            if (*slot == 0)
            {
                if (!_frames.TryAllocate(out ulong frame)) return null;
                *slot = frame | Present;
                _pages++;
            }
            return _frames.Address(*slot & FrameMask);
        }

        /// <summary>The first stored page in [page of address, end), or NotFound.</summary>
        public ulong NextStored(ulong address, ulong end)
        {
            if (_root == 0) return NotFound;
            if (end > AddressLimit) end = AddressLimit;
            ulong from = address & FrameMask;
            if (from >= end) return NotFound;
            return Next(_root, TopLevel, 0, from, end);
        }

        /// <summary>Frees the pages stored in [start, end) (rounded out to pages) and the tables left empty.</summary>
        public void Drop(ulong start, ulong end)
        {
            if (_root == 0) return;
            if (end > AddressLimit) end = AddressLimit;
            start &= FrameMask;
            if (start >= end) return;
            if (DropIn(_root, TopLevel, 0, start, end))
            {
                _frames.Free(_root);
                _tables--;
                _root = 0;
            }
        }

        /// <summary>
        /// Moves the stored pages of [from, from + length) by (to - from), replacing pages
        /// stored at their destinations (mremap). All three are page-aligned. Returns how
        /// many pages were lost because no frame was left for a table at the destination.
        /// </summary>
        public long Move(ulong from, ulong length, ulong to)
        {
            if (length == 0 || from == to || _root == 0) return 0;
            if (from >= AddressLimit || length > AddressLimit - from || to >= AddressLimit || length > AddressLimit - to) return 0;
            long lost = 0;
            ulong end = from + length;
            bool overlapping = to < end && from < to + length;
            if (overlapping && to > from)
            {
                // Moving up over itself: highest page first, so nothing is moved onto a page
                // not yet moved. mremap never asks for this (old and new ranges are disjoint);
                // it is here so Move is right for any input.
                for (ulong p = end; p > from;)
                {
                    p -= (ulong)PageSize;
                    ulong entry = Detach(p);
                    if (entry != 0 && !Attach(p - from + to, entry)) lost++;
                }
                Drop(from, to);
                return lost;
            }
            // Disjoint, or moving down: in address order, a moved page lands below the cursor.
            ulong cursor = from;
            while (true)
            {
                ulong p = NextStored(cursor, end);
                if (p == NotFound) break;
                ulong entry = Detach(p);
                if (!Attach(p - from + to, entry)) lost++;
                cursor = p + (ulong)PageSize;
            }
            // The old range keeps no pages now (except where the new one overlaps it); this
            // frees the tables the move left empty.
            if (overlapping) Drop(to + length, end); else Drop(from, end);
            return lost;
        }

        /// <summary>Frees every page and table (exit, or a new exec).</summary>
        public void Clear()
        {
            if (_root == 0) return;
            FreeTable(_root, TopLevel);
            _root = 0;
        }

        /// <summary>Copies a 4 KiB page, eight bytes at a time.</summary>
        public static void CopyPage(byte* destination, byte* source)
        {
            ulong* d = (ulong*)destination;
            ulong* s = (ulong*)source;
            for (int i = 0; i < PageSize / 8; i++) d[i] = s[i];
        }

        // ---- the tree ------------------------------------------------------------------

        private static int Index(ulong address, int level) => (int)((address >> (12 + 9 * level)) & (Entries - 1));

        private ulong* Table(ulong frame) => (ulong*)_frames.Address(frame);

        private bool NewTable(out ulong frame)
        {
            if (!_frames.TryAllocate(out frame)) return false;
            ulong* t = Table(frame);
            for (int i = 0; i < Entries; i++) t[i] = 0;
            _tables++;
            return true;
        }

        // The leaf entry for address; with create, the tables on the way are made.
        private ulong* Slot(ulong address, bool create)
        {
            if (address >= AddressLimit) return null;
            if (_root == 0)
            {
                if (!create || !NewTable(out ulong root)) return null;
                _root = root;
            }
            ulong table = _root;
            for (int level = TopLevel; level > 0; level--)
            {
                ulong* entry = Table(table) + Index(address, level);
                if (*entry == 0)
                {
                    if (!create || !NewTable(out ulong child)) return null;
                    *entry = child | Present;
                }
                table = *entry & FrameMask;
            }
            return Table(table) + Index(address, 0);
        }

        // Takes the page at address out of the tree without freeing its frame; 0 if none.
        private ulong Detach(ulong address)
        {
            ulong* slot = Slot(address, false);
            if (slot == null || *slot == 0) return 0;
            ulong entry = *slot;
            *slot = 0;
            _pages--;
            return entry;
        }

        // Puts a detached page at address, freeing any page already there. On failure (no
        // frame for a table) the page is freed and false returned.
        private bool Attach(ulong address, ulong entry)
        {
            ulong* slot = Slot(address, true);
            if (slot == null)
            {
                _frames.Free(entry & FrameMask);
                return false;
            }
            if (*slot != 0) _frames.Free(*slot & FrameMask);
            else _pages++;
            *slot = entry;
            return true;
        }

        private ulong Next(ulong table, int level, ulong tableBase, ulong from, ulong end)
        {
            ulong* t = Table(table);
            int shift = 12 + 9 * level;
            ulong span = 1UL << shift;
            int i = from <= tableBase ? 0 : (int)((from - tableBase) >> shift);
            for (; i < Entries; i++)
            {
                ulong entryBase = tableBase + (ulong)i * span;
                if (entryBase >= end) return NotFound;
                ulong e = t[i];
                if (e == 0) continue;
                if (level == 0) return entryBase;
                ulong found = Next(e & FrameMask, level - 1, entryBase, from, end);
                if (found != NotFound) return found;
            }
            return NotFound;
        }

        // Drops [start, end) within the table covering [tableBase, tableBase + 512 spans);
        // returns whether the table is empty afterwards.
        private bool DropIn(ulong table, int level, ulong tableBase, ulong start, ulong end)
        {
            ulong* t = Table(table);
            int shift = 12 + 9 * level;
            ulong span = 1UL << shift;
            int first = start <= tableBase ? 0 : (int)((start - tableBase) >> shift);
            ulong lastIndex = (end - 1 - tableBase) >> shift;
            int last = lastIndex >= Entries ? Entries - 1 : (int)lastIndex;
            for (int i = first; i <= last; i++)
            {
                ulong e = t[i];
                if (e == 0) continue;
                if (level == 0)
                {
                    _frames.Free(e & FrameMask);
                    _pages--;
                    t[i] = 0;
                    continue;
                }
                ulong entryBase = tableBase + (ulong)i * span;
                ulong child = e & FrameMask;
                if (start <= entryBase && end >= entryBase + span)
                {
                    FreeTable(child, level - 1);
                    t[i] = 0;
                }
                else if (DropIn(child, level - 1, entryBase, start, end))
                {
                    _frames.Free(child);
                    _tables--;
                    t[i] = 0;
                }
            }
            for (int i = 0; i < Entries; i++) if (t[i] != 0) return false;
            return true;
        }

        // Frees a table, everything below it, and (level 0) its pages.
        private void FreeTable(ulong table, int level)
        {
            ulong* t = Table(table);
            for (int i = 0; i < Entries; i++)
            {
                ulong e = t[i];
                if (e == 0) continue;
                if (level == 0)
                {
                    _frames.Free(e & FrameMask);
                    _pages--;
                }
                else FreeTable(e & FrameMask, level - 1);
            }
            _frames.Free(table);
            _tables--;
        }
    }
}
