// One 4-level x86-64 page-table hierarchy (Intel SDM Vol. 3A §4.5, "4-Level
// Paging"): PML4 -> PDPT -> PD -> PT, 512 entries of 8 bytes each, indexed by
// virtual address bits 47-39, 38-30, 29-21 and 20-12. A PDPT entry with PS set
// maps a 1 GiB page, a PD entry with PS set a 2 MiB page (§4.5.4, Figure 4-8..10).
//
// This is the builder and walker: map, unmap, protect and query pages of any of
// the three sizes, allocating intermediate tables on demand and freeing them when
// asked. It works on an abstract PageTableMemory, so the host tests run it
// against arrays and the kernel against real tables through the direct map.
//
// Policies:
//  - Intermediate entries are Present|Writable (+User in the lower half); the
//    leaf entry alone decides permissions (the CPU ANDs them along the walk,
//    §4.6, so permissive upper levels do not widen anything).
//  - Lower-half (user) entries are never global, so a CR3 switch drops them.
//  - Every change to an entry is followed by PageTableMemory.Invalidate, also
//    not-present -> present (§4.10.4.3 allows a stale "not present" to linger).
//  - Unmap keeps emptied tables (a page is often mapped again soon, as in the
//    ExCache); FreeEmptyTables releases them for a range (munmap), Destroy all.
//  - The upper half (kernel) is shared by reference between address spaces: a
//    new space copies the kernel's top-level entries, so once user spaces exist
//    no new top-level kernel entry may appear (FreezeKernelSlots).
//
// Pure logic: compiled into the kernels and into the host tests
// (tests/Tessera.Tests/Host/PageTableTests.cs).
namespace Tessera.Core.Memory
{
    public sealed class PageTable
    {
        public const int EntriesPerTable = 512;
        public const int FirstKernelSlot = 256;            // PML4[256..511] map the upper half
        public const ulong UpperHalfStart = 0xFFFF800000000000UL;
        public const ulong LowerHalfEnd = 0x0000800000000000UL;

        private readonly PageTableMemory _memory;
        private readonly ulong _root;
        private readonly ulong _permitted;
        private bool _kernelSlotsFrozen;

        /// <param name="noExecuteSupported">False when EFER.NXE is off: NoExecute is then dropped, since the bit would be reserved.</param>
        public PageTable(PageTableMemory memory, ulong rootPhysical, bool noExecuteSupported)
        {
            _memory = memory;
            _root = rootPhysical;
            _permitted = noExecuteSupported ? PageFlags.Permissions : PageFlags.Permissions & ~PageFlags.NoExecute;
        }

        /// <summary>A new, empty hierarchy (a fresh PML4), or null when memory is exhausted.</summary>
        public static PageTable? Create(PageTableMemory memory, bool noExecuteSupported)
        {
            if (!memory.TryAllocateTable(out ulong root)) return null;
            return new PageTable(memory, root, noExecuteSupported);
        }

        /// <summary>Physical address of the PML4: the value for CR3.</summary>
        public ulong Root => _root;

        public bool NoExecuteSupported => (_permitted & PageFlags.NoExecute) != 0;

        // ---- addresses ----

        public static bool IsCanonical(ulong va)
        {
            ulong top = va >> 47;
            return top == 0 || top == 0x1FFFF;
        }

        public static bool IsUpperHalf(ulong va) => va >= UpperHalfStart;

        /// <summary>Index into the table at level (4 = PML4 ... 1 = PT).</summary>
        public static int IndexAt(ulong va, int level) => (int)((va >> (3 + 9 * level)) & 511);

        /// <summary>Bytes one entry at level covers: 4 KiB, 2 MiB, 1 GiB, 512 GiB.</summary>
        public static ulong SpanAt(int level) => 1UL << (3 + 9 * level);

        public static ulong BytesOf(PageSize size) =>
            size == PageSize.Small4K ? 4096UL : size == PageSize.Large2M ? 2UL << 20 : 1UL << 30;

        private static int LeafLevelOf(PageSize size) =>
            size == PageSize.Small4K ? 1 : size == PageSize.Large2M ? 2 : 3;

        private static PageSize SizeAtLevel(int level) =>
            level == 1 ? PageSize.Small4K : level == 2 ? PageSize.Large2M : PageSize.Huge1G;

        /// <summary>
        /// The flags allowed at va: no Global in the lower half, where a global entry would
        /// survive the CR3 switch to another process (SDM Vol. 3A §4.10.2.4).
        /// </summary>
        private ulong PermittedAt(ulong va) => IsUpperHalf(va) ? _permitted : _permitted & ~PageFlags.Global;

        // ---- map ----

        /// <summary>
        /// Maps one page at va to pa with flags (PageFlags.Permissions; Present is implied),
        /// creating intermediate tables as needed. Fails if anything is mapped there already.
        /// </summary>
        public MapResult Map(ulong va, ulong pa, ulong flags, PageSize size = PageSize.Small4K)
        {
            ulong bytes = BytesOf(size);
            if (!IsCanonical(va)) return MapResult.NonCanonical;
            if (((va | pa) & (bytes - 1)) != 0) return MapResult.Misaligned;
            if ((pa & ~PageFlags.AddressMask) != 0) return MapResult.BadPhysicalAddress;
            int leafLevel = LeafLevelOf(size);
            MapResult walk = WalkToTable(va, leafLevel, out ulong table);
            if (walk != MapResult.Mapped) return walk;
            int index = IndexAt(va, leafLevel);
            if (PageFlags.IsPresent(_memory.ReadEntry(table, index))) return MapResult.AlreadyMapped;
            ulong entry = pa | (flags & PermittedAt(va)) | PageFlags.Present | (leafLevel > 1 ? PageFlags.LargePage : 0);
            _memory.WriteEntry(table, index, entry);
            _memory.Invalidate(_root, va);
            return MapResult.Mapped;
        }

        /// <summary>
        /// Maps [va, va + length) to [pa, pa + length) with the largest pages alignment allows
        /// (2 MiB and, with allowHuge, 1 GiB; never when allowLarge is false). Stops at the first failure.
        /// </summary>
        public MapResult MapRange(ulong va, ulong pa, ulong length, ulong flags, bool allowLarge, bool allowHuge)
        {
            if (((va | pa | length) & 4095) != 0) return MapResult.Misaligned;
            ulong done = 0;
            while (done < length)
            {
                ulong v = va + done, p = pa + done, left = length - done;
                PageSize size = PageSize.Small4K;
                if (allowLarge && allowHuge && ((v | p) & ((1UL << 30) - 1)) == 0 && left >= 1UL << 30) size = PageSize.Huge1G;
                else if (allowLarge && ((v | p) & ((2UL << 20) - 1)) == 0 && left >= 2UL << 20) size = PageSize.Large2M;
                MapResult r = Map(v, p, flags, size);
                if (r != MapResult.Mapped) return r;
                done += BytesOf(size);
            }
            return MapResult.Mapped;
        }

        /// <summary>
        /// Follows va from the PML4 down to the table at targetLevel (which holds va's entry
        /// for that level), creating missing tables on the way.
        /// </summary>
        private MapResult WalkToTable(ulong va, int targetLevel, out ulong table)
        {
            table = _root;
            for (int level = 4; level > targetLevel; level--)
            {
                int index = IndexAt(va, level);
                ulong entry = _memory.ReadEntry(table, index);
                if (!PageFlags.IsPresent(entry))
                {
                    if (level == 4 && IsUpperHalf(va) && _kernelSlotsFrozen) return MapResult.KernelSlotLocked;
                    if (!_memory.TryAllocateTable(out ulong fresh)) return MapResult.OutOfMemory;
                    entry = fresh | PageFlags.Present | PageFlags.Writable | (IsUpperHalf(va) ? 0 : PageFlags.User);
                    _memory.WriteEntry(table, index, entry);
                    _memory.Invalidate(_root, va);
                }
                else if (level < 4 && (entry & PageFlags.LargePage) != 0) return MapResult.LargePageInTheWay;
                table = entry & PageFlags.AddressMask;
            }
            return MapResult.Mapped;
        }

        // ---- walk ----

        /// <summary>Finds the present leaf entry for va: its table, index and level (1-3).</summary>
        private bool FindLeaf(ulong va, out ulong table, out int index, out int level)
        {
            table = _root;
            index = 0;
            level = 4;
            if (!IsCanonical(va)) return false;
            for (; level >= 1; level--)
            {
                index = IndexAt(va, level);
                ulong entry = _memory.ReadEntry(table, index);
                if (!PageFlags.IsPresent(entry)) return false;
                if (level == 1 || (level <= 3 && (entry & PageFlags.LargePage) != 0)) return true;
                table = entry & PageFlags.AddressMask;
            }
            return false;
        }

        /// <summary>Translates va: the leaf entry, the page size and the physical address.</summary>
        public bool Query(ulong va, out PageMapping mapping)
        {
            mapping = default;
            if (!FindLeaf(va, out ulong table, out int index, out int level)) return false;
            ulong entry = _memory.ReadEntry(table, index);
            ulong bytes = SpanAt(level);
            mapping.Entry = entry;
            mapping.Size = SizeAtLevel(level);
            mapping.PageBytes = bytes;
            mapping.PagePhysical = entry & PageFlags.AddressMask & ~(bytes - 1);
            mapping.Physical = mapping.PagePhysical + (va & (bytes - 1));
            return true;
        }

        /// <summary>The leaf entry for va, or 0 when nothing is mapped there.</summary>
        public ulong EntryOf(ulong va) => Query(va, out PageMapping m) ? m.Entry : 0;

        // ---- change ----

        /// <summary>Removes the page containing va (of any size); returns the old leaf entry, 0 when none.</summary>
        public ulong Unmap(ulong va)
        {
            if (!FindLeaf(va, out ulong table, out int index, out _)) return 0;
            ulong old = _memory.ReadEntry(table, index);
            _memory.WriteEntry(table, index, 0);
            _memory.Invalidate(_root, va);
            return old;
        }

        /// <summary>
        /// Replaces the permissions of the page containing va with flags, keeping its frame and
        /// its accessed and dirty bits. False when nothing is mapped there.
        /// </summary>
        public bool Protect(ulong va, ulong flags, out ulong oldEntry)
        {
            oldEntry = 0;
            if (!FindLeaf(va, out ulong table, out int index, out _)) return false;
            oldEntry = _memory.ReadEntry(table, index);
            const ulong keep = PageFlags.AddressMask | PageFlags.Present | PageFlags.LargePage | PageFlags.Accessed | PageFlags.Dirty;
            _memory.WriteEntry(table, index, (oldEntry & keep) | (flags & PermittedAt(va)));
            _memory.Invalidate(_root, va);
            return true;
        }

        /// <summary>
        /// Clears the given bits of Accessed and Dirty in the leaf entry of va (e.g. after a dirty
        /// page was written back) and returns the entry as it was. 0 when nothing is mapped.
        /// Single CPU: the read-modify-write could lose a bit the CPU sets meanwhile on another core.
        /// </summary>
        public ulong ClearAccessedDirty(ulong va, ulong bits)
        {
            if (!FindLeaf(va, out ulong table, out int index, out _)) return 0;
            ulong old = _memory.ReadEntry(table, index);
            _memory.WriteEntry(table, index, old & ~(bits & (PageFlags.Accessed | PageFlags.Dirty)));
            _memory.Invalidate(_root, va);
            return old;
        }

        // ---- tables ----

        /// <summary>
        /// Gives top-level slot (256-511) an empty PDPT if it has none yet, so that it exists
        /// before the slots are frozen and shared. False when memory is exhausted or frozen.
        /// </summary>
        public bool PrepareKernelSlot(int slot)
        {
            if (slot < FirstKernelSlot || slot >= EntriesPerTable) return false;
            if (PageFlags.IsPresent(_memory.ReadEntry(_root, slot))) return true;
            if (_kernelSlotsFrozen || !_memory.TryAllocateTable(out ulong fresh)) return false;
            _memory.WriteEntry(_root, slot, fresh | PageFlags.Present | PageFlags.Writable);
            return true;
        }

        /// <summary>From now on no new top-level entry is created in the upper (shared kernel) half.</summary>
        public void FreezeKernelSlots() => _kernelSlotsFrozen = true;

        /// <summary>Makes this hierarchy share kernel's upper half (copies PML4[256..511]).</summary>
        public void ShareKernelHalf(PageTable kernel)
        {
            for (int i = FirstKernelSlot; i < EntriesPerTable; i++)
                _memory.WriteEntry(_root, i, _memory.ReadEntry(kernel._root, i));
            _kernelSlotsFrozen = true;
        }

        /// <summary>
        /// Frees the intermediate tables under [start, end) of the lower half that map nothing;
        /// returns how many. Tables shared with other spaces (the upper half) are never freed.
        /// </summary>
        public int FreeEmptyTables(ulong start, ulong end)
        {
            if (end > LowerHalfEnd) end = LowerHalfEnd;
            if (start >= end) return 0;
            return FreeEmptyUnder(_root, 4, 0, start, end);
        }

        private int FreeEmptyUnder(ulong table, int level, ulong tableBase, ulong start, ulong end)
        {
            ulong span = SpanAt(level);
            int first = start > tableBase ? (int)((start - tableBase) / span) : 0;
            int freed = 0;
            for (int i = first; i < EntriesPerTable; i++)
            {
                ulong childBase = tableBase + (ulong)i * span;
                if (childBase >= end) break;
                ulong entry = _memory.ReadEntry(table, i);
                if (!PageFlags.IsPresent(entry) || level == 1 || (entry & PageFlags.LargePage) != 0) continue;
                ulong child = entry & PageFlags.AddressMask;
                freed += FreeEmptyUnder(child, level - 1, childBase, start, end);
                if (!IsEmpty(child)) continue;
                _memory.WriteEntry(table, i, 0);
                _memory.Invalidate(_root, childBase);
                _memory.FreeTable(child);
                freed++;
            }
            return freed;
        }

        private bool IsEmpty(ulong table)
        {
            for (int i = 0; i < EntriesPerTable; i++)
                if (_memory.ReadEntry(table, i) != 0) return false;
            return true;
        }

        /// <summary>
        /// Frees every table of the lower half and the PML4 itself; the mapped frames are the
        /// caller's. The hierarchy must not be in CR3. Returns the number of tables freed.
        /// </summary>
        public int Destroy()
        {
            int freed = 0;
            for (int i = 0; i < FirstKernelSlot; i++)
            {
                ulong entry = _memory.ReadEntry(_root, i);
                if (!PageFlags.IsPresent(entry)) continue;
                _memory.WriteEntry(_root, i, 0);
                freed += FreeSubtree(entry & PageFlags.AddressMask, 3);
            }
            _memory.FreeTable(_root);
            return freed + 1;
        }

        private int FreeSubtree(ulong table, int level)
        {
            int freed = 0;
            if (level > 1)
            {
                for (int i = 0; i < EntriesPerTable; i++)
                {
                    ulong entry = _memory.ReadEntry(table, i);
                    if (PageFlags.IsPresent(entry) && (entry & PageFlags.LargePage) == 0)
                        freed += FreeSubtree(entry & PageFlags.AddressMask, level - 1);
                }
            }
            _memory.FreeTable(table);
            return freed + 1;
        }

        /// <summary>Counts the tables of this hierarchy (the PML4 included; shared upper-half tables too).</summary>
        public int CountTables(bool includeUpperHalf)
        {
            int count = 1;
            int end = includeUpperHalf ? EntriesPerTable : FirstKernelSlot;
            for (int i = 0; i < end; i++)
            {
                ulong entry = _memory.ReadEntry(_root, i);
                if (PageFlags.IsPresent(entry)) count += CountUnder(entry & PageFlags.AddressMask, 3);
            }
            return count;
        }

        private int CountUnder(ulong table, int level)
        {
            int count = 1;
            if (level == 1) return count;
            for (int i = 0; i < EntriesPerTable; i++)
            {
                ulong entry = _memory.ReadEntry(table, i);
                if (PageFlags.IsPresent(entry) && (entry & PageFlags.LargePage) == 0)
                    count += CountUnder(entry & PageFlags.AddressMask, level - 1);
            }
            return count;
        }
    }
}
