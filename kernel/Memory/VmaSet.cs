// The virtual memory areas of one user address space, and the Linux system calls that
// change them: mmap, munmap, mprotect, mremap, brk, plus the check a page miss makes.
// Semantics follow Linux 6.x on x86-64 (mm/mmap.c, mm/vma.c, mm/mprotect.c, mm/mremap.c,
// arch/x86/kernel/sys_x86_64.c, arch/x86/mm/fault.c) and the man pages mmap(2),
// munmap(2), mprotect(2), mremap(2), brk(2); errors are negative errno values (Errno).
//
// Data structure: a sorted array of Vma structs, ordered by Start, never overlapping,
// searched by binary search. Why not a balanced tree:
//  - the hot path is the page miss, which only looks an address up: O(log n) in a
//    contiguous array is a handful of cache lines even for thousands of areas, and
//    allocates nothing;
//  - inserting or removing an area shifts the tail of the array (a memmove of 48-byte
//    entries). At Linux's limit of 65530 areas that is 3 MB in the very worst case, but
//    real programs have tens to a few thousand areas, where it costs microseconds, and
//    address-space calls are rare next to page misses;
//  - no per-node allocation: the kernel heap is a bump/explicit-free heap with no GC, so
//    one array that doubles when full (the old one is given back, or at worst wasted:
//    geometric growth bounds the waste by the final size) beats a node per area;
//  - Linux itself moved from a red-black tree to the maple tree, a B-tree whose nodes are
//    small sorted arrays, for the same cache reasons; a single sorted array is the
//    one-node case of that.
// Finding free space for mmap scans the gaps from mmap_base down (top-down) or from the
// legacy base up, which is O(number of areas passed over); Linux's maple tree keeps the
// largest gap per subtree to make this O(log n), which we do not need at these sizes.
//
// Canonical form: adjacent areas with equal attributes (Vma.CanMergeWith) are always
// merged, so the set is a function of the page-by-page state alone (the host tests check
// exactly that against a page-granular model). Linux merges in most of the same cases
// (vma_merge); where it would not (anonymous areas whose page offsets do not line up
// after mremap) we still merge, since we track no anonymous page offsets.
//
// Pages themselves are not kept here: the caller (the memory component's page store)
// drops the pages of unmapped ranges and moves them on mremap (see MremapResult).
// Pure logic: compiled into the memory kernel and the host tests.
namespace Tessera.Memory
{
    /// <summary>
    /// What a successful mremap did, for the page store: pages of
    /// [OldAddress, OldAddress + min(OldLength, NewLength)) move to NewAddress when Moved,
    /// any pages beyond NewLength in the old range are dropped, and a Moved area's old range
    /// is vacated (still mapped but empty when KeptOld, MREMAP_DONTUNMAP).
    /// </summary>
    public struct MremapResult
    {
        public ulong OldAddress;
        public ulong OldLength;
        public ulong NewAddress;
        public ulong NewLength;
        public bool Moved;
        public bool KeptOld;
    }

    public sealed class VmaSet
    {
        private const ulong Page = AddressSpaceLayout.PageSize;
        private const ulong Mask = AddressSpaceLayout.PageMask;
        // x86-64 MAP_32BIT window (arch/x86/kernel/sys_x86_64.c find_start_end).
        private const ulong Below2GStart = 0x40000000;
        private const ulong Below2GEnd = 0x80000000;

        private readonly AddressSpaceLayout _layout;
        private Vma[] _areas;
        private int _count;
        private ulong _startBrk;
        private ulong _brk;

        public VmaSet(AddressSpaceLayout layout) : this(layout, 16) { }

        public VmaSet(AddressSpaceLayout layout, int initialCapacity)
        {
            _layout = layout;
            _areas = new Vma[initialCapacity < 4 ? 4 : initialCapacity];
        }

        public AddressSpaceLayout Layout => _layout;
        public int Count => _count;
        public ulong StartBrk => _startBrk;
        public ulong CurrentBrk => _brk;

        public Vma this[int index]
        {
            get
            {
                // Past Count, read index -1: out of range here and in the kernel alike.
                if ((uint)index >= (uint)_count) index = -1;
                return _areas[index];
            }
        }

        /// <summary>Forgets every area (process exit, or the start of an exec).</summary>
        public void Clear()
        {
            _count = 0;
            _startBrk = 0;
            _brk = 0;
        }

        /// <summary>Sets where the brk heap starts (after the executable's bss); brk(2) never goes below it.</summary>
        public void InitBrk(ulong start)
        {
            _startBrk = start;
            _brk = start;
        }

        // ---- lookups ----------------------------------------------------------------

        /// <summary>Linux's find_vma: index of the first area ending above address, or Count.</summary>
        public int FindFirstEndingAfter(ulong address)
        {
            int lo = 0, hi = _count;
            while (lo < hi)
            {
                int mid = (int)((uint)(lo + hi) >> 1);
                if (_areas[mid].End > address) hi = mid; else lo = mid + 1;
            }
            return lo;
        }

        /// <summary>Index of the area containing address, or -1.</summary>
        public int IndexOf(ulong address)
        {
            int i = FindFirstEndingAfter(address);
            return i < _count && _areas[i].Start <= address ? i : -1;
        }

        /// <summary>Whether no area intersects [start, end).</summary>
        public bool IsFree(ulong start, ulong end)
        {
            int i = FindFirstEndingAfter(start);
            return i == _count || _areas[i].Start >= end;
        }

        /// <summary>
        /// The check a page miss makes (arch/x86/mm/fault.c): which area covers address, and
        /// whether it allows the access. A miss just below a stack area grows the stack
        /// (expand_downwards) when that stays within the stack limit and the guard gap.
        /// </summary>
        public FaultVerdict CheckFault(ulong address, FaultAccess access, out Vma area)
        {
            area = default;
            if (address >= _layout.TaskSize) return FaultVerdict.Unmapped;
            int i = FindFirstEndingAfter(address);
            if (i == _count) return FaultVerdict.Unmapped;
            if (_areas[i].Start > address)
            {
                if (_areas[i].Kind != VmaKind.Stack) return FaultVerdict.Unmapped;
                i = GrowStack(i, address);
                if (i < 0) return FaultVerdict.Unmapped;
            }
            area = _areas[i];
            return area.Allows(access) ? FaultVerdict.Allowed : FaultVerdict.Forbidden;
        }

        // ---- mmap ----------------------------------------------------------------------

        /// <summary>
        /// mmap(2). fileId and offset describe the file for a mapping without MAP_ANONYMOUS
        /// (the processor turns the descriptor into a file id; a bad descriptor is its -EBADF).
        /// Returns the address, or a negative errno.
        /// </summary>
        public long Mmap(ulong address, ulong length, int prot, int flags, ulong fileId, ulong offset)
        {
            // arch/x86/kernel/sys_x86_64.c: the byte offset must be page-aligned.
            if ((offset & Mask) != 0) return -Errno.EINVAL;
            if (length == 0) return -Errno.EINVAL;
            if ((flags & MapFlags.FixedNoReplace) != 0) flags |= MapFlags.Fixed;
            bool isFixed = (flags & MapFlags.Fixed) != 0;
            if (!isFixed) address = RoundHintToMin(address);
            ulong len = AddressSpaceLayout.PageAlign(length);
            if (len == 0) return -Errno.ENOMEM;
            ulong pgoff = offset >> 12;
            if (pgoff + (len >> 12) < pgoff) return -Errno.EOVERFLOW;
            if (_count > _layout.MaxMapCount) return -Errno.ENOMEM;

            bool anonymous = (flags & MapFlags.Anonymous) != 0;
            int type = flags & MapFlags.TypeMask;
            bool shared = type == MapFlags.Shared || (type == MapFlags.SharedValidate && !anonymous);

            long placed = GetUnmappedArea(address, len, flags);
            if (placed < 0) return placed;
            ulong start = (ulong)placed;
            if ((flags & MapFlags.FixedNoReplace) != 0 && !IsFree(start, start + len)) return -Errno.EEXIST;

            // do_mmap validates the mapping type only after placing it.
            if (anonymous)
            {
                if (type == MapFlags.Shared) { if ((flags & MapFlags.GrowsDown) != 0) return -Errno.EINVAL; }
                else if (type != MapFlags.Private) return -Errno.EINVAL;
            }
            else
            {
                if (type == MapFlags.SharedValidate) { if ((flags & ~MapFlags.LegacyMask) != 0) return -Errno.EOPNOTSUPP; }
                else if (type != MapFlags.Shared && type != MapFlags.Private) return -Errno.EINVAL;
            }

            Vma area = default;
            area.Start = start;
            area.End = start + len;
            area.Protection = (byte)(prot & Prot.Access);
            area.Flags = shared ? VmaFlags.Shared : (byte)0;
            if (anonymous)
            {
                area.Kind = (flags & MapFlags.GrowsDown) != 0 ? VmaKind.Stack : VmaKind.Anonymous;
            }
            else
            {
                area.Kind = VmaKind.File;
                area.FileId = fileId;
                area.FileOffset = offset;
                area.FileEnd = ulong.MaxValue;
            }

            if (isFixed)
            {
                int r = Unmap(start, start + len);
                if (r < 0) return r;
            }
            Insert(area);
            return (long)start;
        }

        /// <summary>
        /// Maps an area built by the caller (the ELF loader's segments, the initial stack) at
        /// its own addresses, as MAP_FIXED_NOREPLACE would: -EEXIST if anything is there.
        /// </summary>
        public int MapArea(in Vma area)
        {
            if ((area.Start & Mask) != 0 || (area.End & Mask) != 0 || area.End <= area.Start) return -Errno.EINVAL;
            if (area.End > _layout.TaskSize) return -Errno.ENOMEM;
            if (area.Start < _layout.MmapMinAddr) return -Errno.EPERM;
            if (_count > _layout.MaxMapCount) return -Errno.ENOMEM;
            if (!IsFree(area.Start, area.End)) return -Errno.EEXIST;
            Insert(area);
            return 0;
        }

        /// <summary>
        /// Where mmap(NULL, length) would go, aligned to alignment (a power of two, at least a
        /// page): for loading a static PIE like a shared library. Returns it or -ENOMEM.
        /// </summary>
        public long FindUnmappedArea(ulong length, ulong alignment)
        {
            if (alignment < Page || (alignment & (alignment - 1)) != 0) return -Errno.EINVAL;
            ulong len = AddressSpaceLayout.PageAlign(length);
            if (len == 0 || len > _layout.TaskSize) return -Errno.ENOMEM;
            long r = TopDown(len, LowLimit(Page), _layout.MmapBase, alignment - 1);
            if (r >= 0) return r;
            return BottomUp(len, LowLimit(_layout.LegacyBase), _layout.TaskSize, alignment - 1);
        }

        // round_hint_to_min (mm/mmap.c): a hint is rounded down to a page and raised to
        // mmap_min_addr, so a non-fixed mapping never lands below it.
        private ulong RoundHintToMin(ulong hint)
        {
            hint &= ~Mask;
            if (hint != 0 && hint < _layout.MmapMinAddr) return AddressSpaceLayout.PageAlign(_layout.MmapMinAddr);
            return hint;
        }

        // __get_unmapped_area + arch_get_unmapped_area_topdown (x86-64): MAP_FIXED takes the
        // address as given; otherwise a free hint is taken as is, then the highest gap below
        // mmap_base, then (nothing there, or MAP_32BIT) the lowest gap above the legacy base.
        private long GetUnmappedArea(ulong address, ulong len, int flags)
        {
            if (len > _layout.TaskSize) return -Errno.ENOMEM;
            ulong start;
            if ((flags & MapFlags.Fixed) != 0)
            {
                start = address;
            }
            else
            {
                long found = -Errno.ENOMEM;
                if (address != 0)
                {
                    ulong hint = address & ~Mask;
                    if (_layout.TaskSize - len >= hint && FitsAt(hint, len)) found = (long)hint;
                }
                if (found < 0 && (flags & MapFlags.Below2G) == 0)
                    found = TopDown(len, LowLimit(Page), _layout.MmapBase, 0);
                if (found < 0)
                {
                    bool below2G = (flags & MapFlags.Below2G) != 0;
                    ulong begin = below2G ? Below2GStart : _layout.LegacyBase;
                    ulong end = below2G ? Below2GEnd : _layout.TaskSize;
                    if (len > end) return -Errno.ENOMEM;
                    found = BottomUp(len, LowLimit(begin), end, 0);
                }
                if (found < 0) return found;
                start = (ulong)found;
            }
            if (start > _layout.TaskSize - len) return -Errno.ENOMEM;
            if ((start & Mask) != 0) return -Errno.EINVAL;
            if (start < _layout.MmapMinAddr) return -Errno.EPERM; // security_mmap_addr
            return (long)start;
        }

        private ulong LowLimit(ulong low) => low < _layout.MmapMinAddr ? _layout.MmapMinAddr : low;

        // vm_start_gap: a stack keeps its guard gap free below it.
        private ulong StartGap(int i)
        {
            ulong start = _areas[i].Start;
            if (_areas[i].Kind != VmaKind.Stack) return start;
            return start > _layout.StackGuardGap ? start - _layout.StackGuardGap : 0;
        }

        // Whether [address, address + len) is free, including the guard gap of the area above.
        private bool FitsAt(ulong address, ulong len)
        {
            int i = FindFirstEndingAfter(address);
            return i == _count || address + len <= StartGap(i);
        }

        // The highest start in [low, high - len] that is free and aligned (unmapped_area_topdown).
        private long TopDown(ulong len, ulong low, ulong high, ulong alignMask)
        {
            if (high < len || high - len < low) return -Errno.ENOMEM;
            int k = FindFirstEndingAfter(high);
            while (true)
            {
                ulong gapHigh = high;
                if (k < _count) { ulong g = StartGap(k); if (g < gapHigh) gapHigh = g; }
                ulong gapLow = k > 0 ? _areas[k - 1].End : 0;
                if (gapLow < low) gapLow = low;
                if (gapHigh >= len)
                {
                    ulong candidate = (gapHigh - len) & ~alignMask;
                    if (candidate >= gapLow && candidate + len <= gapHigh) return (long)candidate;
                }
                if (k == 0 || _areas[k - 1].End <= low) return -Errno.ENOMEM;
                k--;
            }
        }

        // The lowest start in [low, high - len] that is free and aligned (unmapped_area).
        private long BottomUp(ulong len, ulong low, ulong high, ulong alignMask)
        {
            if (high < len || high - len < low) return -Errno.ENOMEM;
            int k = FindFirstEndingAfter(low);
            while (true)
            {
                ulong gapLow = k > 0 && _areas[k - 1].End > low ? _areas[k - 1].End : low;
                ulong gapHigh = high;
                if (k < _count) { ulong g = StartGap(k); if (g < gapHigh) gapHigh = g; }
                ulong candidate = (gapLow + alignMask) & ~alignMask;
                if (candidate >= gapLow && candidate <= gapHigh && gapHigh - candidate >= len) return (long)candidate;
                if (k == _count || _areas[k].End >= high) return -Errno.ENOMEM;
                k++;
            }
        }

        // ---- munmap --------------------------------------------------------------------

        /// <summary>munmap(2): unmapping a range with holes, or nothing at all, is fine.</summary>
        public int Munmap(ulong address, ulong length)
        {
            if ((address & Mask) != 0 || address > _layout.TaskSize || length > _layout.TaskSize - address) return -Errno.EINVAL;
            ulong end = address + AddressSpaceLayout.PageAlign(length);
            if (end == address) return -Errno.EINVAL;
            return Unmap(address, end);
        }

        // do_vmi_munmap as the other calls use it: the same checks as munmap(2), except that
        // a zero length is a no-op.
        private int UnmapChecked(ulong address, ulong length)
        {
            if ((address & Mask) != 0 || address > _layout.TaskSize || length > _layout.TaskSize - address) return -Errno.EINVAL;
            ulong end = address + AddressSpaceLayout.PageAlign(length);
            return end == address ? 0 : Unmap(address, end);
        }

        // Removes [start, end) (page-aligned), splitting the areas at its edges.
        private int Unmap(ulong start, ulong end)
        {
            int i = FindFirstEndingAfter(start);
            if (i == _count || _areas[i].Start >= end) return 0;
            if (_areas[i].Start < start)
            {
                // Splitting one area in three adds one; Linux refuses that at the limit.
                if (end < _areas[i].End && _count >= _layout.MaxMapCount) return -Errno.ENOMEM;
                Split(i, start);
                i++;
            }
            int j = i;
            while (j < _count && _areas[j].End <= end) j++;
            if (j < _count && _areas[j].Start < end)
            {
                Split(j, end);
                j++;
            }
            RemoveRange(i, j - i);
            return 0;
        }

        // ---- mprotect ------------------------------------------------------------------

        /// <summary>
        /// mprotect(2). Like Linux, the change is applied area by area from the start, so a
        /// hole in the range returns -ENOMEM after the areas before it have changed.
        /// </summary>
        public int Mprotect(ulong start, ulong length, int prot)
        {
            int grows = prot & (Prot.GrowsDown | Prot.GrowsUp);
            if (grows == (Prot.GrowsDown | Prot.GrowsUp)) return -Errno.EINVAL;
            prot &= ~(Prot.GrowsDown | Prot.GrowsUp);
            if ((start & Mask) != 0) return -Errno.EINVAL;
            if (length == 0) return 0;
            ulong end = start + AddressSpaceLayout.PageAlign(length);
            if (end <= start) return -Errno.ENOMEM;
            if ((prot & ~(Prot.Access | Prot.Sem)) != 0) return -Errno.EINVAL; // arch_validate_prot
            byte newProt = (byte)(prot & Prot.Access);

            int i = FindFirstEndingAfter(start);
            if (i == _count || _areas[i].Start >= end) return -Errno.ENOMEM;
            if ((grows & Prot.GrowsDown) != 0)
            {
                start = _areas[i].Start;
                if (_areas[i].Kind != VmaKind.Stack) return -Errno.EINVAL;
            }
            else
            {
                if (_areas[i].Start > start) return -Errno.ENOMEM;
                if ((grows & Prot.GrowsUp) != 0) return -Errno.EINVAL; // no grows-up areas on x86
            }

            ulong cursor = start;
            while (true)
            {
                ulong pieceEnd = _areas[i].End < end ? _areas[i].End : end;
                if (_areas[i].Protection != newProt)
                {
                    if (_areas[i].Start < cursor)
                    {
                        if (_count >= _layout.MaxMapCount) return -Errno.ENOMEM;
                        Split(i, cursor);
                        i++;
                    }
                    if (_areas[i].End > pieceEnd)
                    {
                        if (_count >= _layout.MaxMapCount) return -Errno.ENOMEM;
                        Split(i, pieceEnd);
                    }
                    _areas[i].Protection = newProt;
                    i = MergeAround(i);
                }
                cursor = pieceEnd;
                if (cursor >= end) return 0;
                i = FindFirstEndingAfter(cursor);
                // A merge may have made the next area start before cursor: it then already
                // has the new protection. Only an area starting above cursor is a hole.
                if (i == _count || _areas[i].Start > cursor) return -Errno.ENOMEM;
            }
        }

        // ---- mremap --------------------------------------------------------------------

        /// <summary>
        /// mremap(2): shrink in place, grow in place when the space after the area is free,
        /// else move (MREMAP_MAYMOVE), to newAddress with MREMAP_FIXED; MREMAP_DONTUNMAP moves
        /// and leaves the old range mapped. old_size 0 (duplicating a shared mapping) is not
        /// supported and returns -EINVAL, as Linux does for private mappings.
        /// </summary>
        public long Mremap(ulong oldAddress, ulong oldLength, ulong newLength, int flags, ulong newAddress, out MremapResult result)
        {
            result = default;
            if ((flags & ~(MremapFlags.MayMove | MremapFlags.Fixed | MremapFlags.DontUnmap)) != 0) return -Errno.EINVAL;
            if ((flags & MremapFlags.Fixed) != 0 && (flags & MremapFlags.MayMove) == 0) return -Errno.EINVAL;
            if ((flags & MremapFlags.DontUnmap) != 0 && ((flags & MremapFlags.MayMove) == 0 || oldLength != newLength)) return -Errno.EINVAL;
            if ((oldAddress & Mask) != 0) return -Errno.EINVAL;
            ulong oldLen = AddressSpaceLayout.PageAlign(oldLength);
            ulong newLen = AddressSpaceLayout.PageAlign(newLength);
            if (newLen == 0) return -Errno.EINVAL;
            if (IndexOf(oldAddress) < 0) return -Errno.EFAULT;

            result.OldAddress = oldAddress;
            result.OldLength = oldLen;
            result.NewAddress = oldAddress;
            result.NewLength = newLen;

            if ((flags & (MremapFlags.Fixed | MremapFlags.DontUnmap)) != 0)
                return MremapTo(oldAddress, oldLen, newLen, flags, newAddress, ref result);

            if (oldLen >= newLen)
            {
                if (oldLen > newLen)
                {
                    int r = UnmapChecked(oldAddress + newLen, oldLen - newLen);
                    if (r < 0) return r;
                }
                return (long)oldAddress;
            }

            int i = ResizableArea(oldAddress, oldLen, newLen);
            if (i < 0) return i;
            if (oldLen == _areas[i].End - oldAddress)
            {
                // vma_expandable: the pages after the area are free and inside the task.
                ulong newEnd = _areas[i].End + (newLen - oldLen);
                if (newEnd > _areas[i].End && newEnd <= _layout.TaskSize && IsFree(_areas[i].End, newEnd))
                {
                    _areas[i].End = newEnd;
                    MergeAround(i);
                    return (long)oldAddress;
                }
            }
            if ((flags & MremapFlags.MayMove) == 0) return -Errno.ENOMEM;
            long placed = GetUnmappedArea(0, newLen, 0);
            if (placed < 0) return placed;
            return MoveArea(i, oldAddress, oldLen, newLen, (ulong)placed, flags, ref result);
        }

        private long MremapTo(ulong oldAddress, ulong oldLen, ulong newLen, int flags, ulong newAddress, ref MremapResult result)
        {
            if ((newAddress & Mask) != 0) return -Errno.EINVAL;
            if (newLen > _layout.TaskSize || newAddress > _layout.TaskSize - newLen) return -Errno.EINVAL;
            if (oldAddress + oldLen > newAddress && newAddress + newLen > oldAddress) return -Errno.EINVAL;
            bool isFixed = (flags & MremapFlags.Fixed) != 0;
            if (isFixed)
            {
                int r = UnmapChecked(newAddress, newLen);
                if (r < 0) return r;
            }
            if (oldLen > newLen)
            {
                int r = UnmapChecked(oldAddress + newLen, oldLen - newLen);
                if (r < 0) return r;
                oldLen = newLen;
                result.OldLength = oldLen;
            }
            int i = ResizableArea(oldAddress, oldLen, newLen);
            if (i < 0) return i;
            long placed = GetUnmappedArea(newAddress, newLen, isFixed ? MapFlags.Fixed : 0);
            if (placed < 0) return placed;
            return MoveArea(i, oldAddress, oldLen, newLen, (ulong)placed, flags, ref result);
        }

        // vma_to_resize: the old range must lie inside one area.
        private int ResizableArea(ulong oldAddress, ulong oldLen, ulong newLen)
        {
            int i = IndexOf(oldAddress);
            if (i < 0) return -Errno.EFAULT;
            if (oldLen == 0) return -Errno.EINVAL;
            if (oldLen > _areas[i].End - oldAddress) return -Errno.EFAULT;
            if (newLen != oldLen && _areas[i].Kind == VmaKind.File)
            {
                ulong pgoff = (_areas[i].FileOffset + (oldAddress - _areas[i].Start)) >> 12;
                if (pgoff + (newLen >> 12) < pgoff) return -Errno.EINVAL;
            }
            return i;
        }

        // move_vma: the moved part keeps its attributes (and file offset) at its new place.
        private long MoveArea(int i, ulong oldAddress, ulong oldLen, ulong newLen, ulong newAddress, int flags, ref MremapResult result)
        {
            if (_count >= _layout.MaxMapCount - 3) return -Errno.ENOMEM;
            Vma moved = _areas[i];
            if (moved.Kind == VmaKind.File) moved.FileOffset += oldAddress - moved.Start;
            moved.Start = newAddress;
            moved.End = newAddress + newLen;
            bool keepOld = (flags & MremapFlags.DontUnmap) != 0;
            if (!keepOld)
            {
                int r = UnmapChecked(oldAddress, oldLen);
                if (r < 0) return r;
            }
            Insert(moved);
            result.NewAddress = newAddress;
            result.Moved = true;
            result.KeptOld = keepOld;
            return (long)newAddress;
        }

        // ---- brk -----------------------------------------------------------------------

        /// <summary>
        /// brk(2), the system call (not the libc wrapper): returns the new break, or the old
        /// one when the request is refused (below the start, or growing to within a page of
        /// the next mapping, or the stack's guard gap).
        /// </summary>
        public ulong Brk(ulong requested)
        {
            if (requested < _startBrk) return _brk;
            ulong newBrk = AddressSpaceLayout.PageAlign(requested);
            ulong oldBrk = AddressSpaceLayout.PageAlign(_brk);
            if (oldBrk == newBrk)
            {
                _brk = requested;
                return _brk;
            }
            if (requested <= _brk)
            {
                // Shrinking needs a mapping in the range given back (Linux 6.x).
                int i = FindFirstEndingAfter(newBrk);
                if (i == _count || _areas[i].Start >= oldBrk) return _brk;
                if (Unmap(newBrk, oldBrk) < 0) return _brk;
                _brk = requested;
                return _brk;
            }
            // check_brk_limits: the grown range must be mappable at all.
            if (newBrk <= oldBrk || newBrk > _layout.TaskSize || oldBrk < _layout.MmapMinAddr) return _brk;
            int next = FindFirstEndingAfter(oldBrk);
            if (next < _count && newBrk + Page > StartGap(next)) return _brk;
            if (_count > _layout.MaxMapCount) return _brk;
            Vma heap = default;
            heap.Start = oldBrk;
            heap.End = newBrk;
            heap.Protection = Prot.Read | Prot.Write;
            heap.Kind = VmaKind.Heap;
            Insert(heap);
            _brk = requested;
            return _brk;
        }

        // ---- stack growth --------------------------------------------------------------

        // expand_downwards: returns the (possibly merged) index of the grown area, or -1.
        private int GrowStack(int i, ulong address)
        {
            if (address < _layout.MmapMinAddr) return -1;
            ulong newStart = AddressSpaceLayout.PageDown(address);
            if (_areas[i].End - newStart > _layout.StackLimit) return -1;
            if (i > 0)
            {
                ref Vma prev = ref _areas[i - 1];
                if (prev.Kind != VmaKind.Stack && prev.IsAccessible && newStart - prev.End < _layout.StackGuardGap) return -1;
            }
            _areas[i].Start = newStart;
            return MergeAround(i);
        }

        // ---- the array -----------------------------------------------------------------

        // Inserts an area into a free range, merging it with compatible neighbours.
        private void Insert(in Vma area)
        {
            int i = FindFirstEndingAfter(area.Start);
            EnsureCapacity(_count + 1);
            for (int k = _count; k > i; k--) _areas[k] = _areas[k - 1];
            _areas[i] = area;
            _count++;
            MergeAround(i);
        }

        // Merges area i with its neighbours where they are compatible; returns its new index.
        private int MergeAround(int i)
        {
            if (i + 1 < _count && _areas[i].CanMergeWith(_areas[i + 1]))
            {
                _areas[i].End = _areas[i + 1].End;
                RemoveRange(i + 1, 1);
            }
            if (i > 0 && _areas[i - 1].CanMergeWith(_areas[i]))
            {
                _areas[i - 1].End = _areas[i].End;
                RemoveRange(i, 1);
                i--;
            }
            return i;
        }

        // Splits area i at address (strictly inside it) into [Start, address) and [address, End).
        private void Split(int i, ulong address)
        {
            EnsureCapacity(_count + 1);
            for (int k = _count; k > i + 1; k--) _areas[k] = _areas[k - 1];
            Vma upper = _areas[i];
            if (upper.Kind == VmaKind.File) upper.FileOffset += address - upper.Start;
            upper.Start = address;
            _areas[i + 1] = upper;
            _areas[i].End = address;
            _count++;
        }

        private void RemoveRange(int index, int count)
        {
            if (count <= 0) return;
            for (int k = index; k + count < _count; k++) _areas[k] = _areas[k + count];
            _count -= count;
        }

        private void EnsureCapacity(int needed)
        {
            if (needed <= _areas.Length) return;
            int size = _areas.Length * 2;
            while (size < needed) size *= 2;
            var bigger = new Vma[size];
            for (int k = 0; k < _count; k++) bigger[k] = _areas[k];
            _areas = bigger;
        }
    }
}
