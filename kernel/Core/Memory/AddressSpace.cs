// An address space: one page-table hierarchy with the kernel's upper half
// shared, and the operations the rest of the kernel (processes, the ExCache)
// needs on it: map a virtual page to a frame with flags, unmap (returning the
// old entry, dirty bit included), protect, query, switch CR3. Every change is
// followed by a TLB invalidation (DirectMapPageTableMemory.Invalidate).
namespace Tessera.Core.Memory
{
    public sealed class AddressSpace
    {
        private static AddressSpace s_kernel = null!;
        private static ulong s_activeRoot;
        private readonly PageTable _table;
        private readonly bool _isKernel;

        private AddressSpace(PageTable table, bool isKernel)
        {
            _table = table;
            _isKernel = isKernel;
        }

        /// <summary>The kernel's own space (set up by KernelAddressSpace): the upper half of every space.</summary>
        public static AddressSpace Kernel => s_kernel;

        /// <summary>The PML4 in CR3 now.</summary>
        public static ulong ActiveRoot => s_activeRoot;

        internal static void InstallKernel(PageTable table)
        {
            s_kernel = new AddressSpace(table, isKernel: true);
            s_activeRoot = table.Root;
        }

        /// <summary>A new space: empty lower half, the kernel's upper half. Null when out of memory.</summary>
        public static AddressSpace? Create()
        {
            PageTable? table = PageTable.Create(new DirectMapPageTableMemory(), PagingFeatures.NoExecute);
            if (table is null) return null;
            table.ShareKernelHalf(s_kernel._table);
            return new AddressSpace(table, isKernel: false);
        }

        public PageTable Table => _table;
        public ulong Root => _table.Root;
        public bool IsActive => _table.Root == s_activeRoot;

        /// <summary>Maps one page; a user space may map only its lower half.</summary>
        public MapResult Map(ulong va, ulong pa, ulong flags, PageSize size = PageSize.Small4K)
        {
            if (!_isKernel && PageTable.IsUpperHalf(va)) return MapResult.WrongHalf;
            return _table.Map(va, pa, flags, size);
        }

        /// <summary>Unmaps the page containing va; returns the old leaf entry (0 when none).</summary>
        public ulong Unmap(ulong va)
        {
            if (!_isKernel && PageTable.IsUpperHalf(va)) return 0;
            return _table.Unmap(va);
        }

        /// <summary>Replaces the permissions of the page containing va (frame, accessed and dirty kept).</summary>
        public bool Protect(ulong va, ulong flags)
        {
            if (!_isKernel && PageTable.IsUpperHalf(va)) return false;
            return _table.Protect(va, flags, out _);
        }

        public bool Query(ulong va, out PageMapping mapping) => _table.Query(va, out mapping);

        /// <summary>True when the page containing va is mapped and has been written since its D bit was last cleared.</summary>
        public bool IsDirty(ulong va) => PageFlags.IsDirty(_table.EntryOf(va));

        /// <summary>Clears the accessed and/or dirty bit of va's page; returns the entry as it was.</summary>
        public ulong ClearAccessedDirty(ulong va, ulong bits)
        {
            if (!_isKernel && PageTable.IsUpperHalf(va)) return 0;
            return _table.ClearAccessedDirty(va, bits);
        }

        /// <summary>Frees the lower-half tables under [start, end) that no longer map anything.</summary>
        public int FreeEmptyTables(ulong start, ulong end) => _table.FreeEmptyTables(start, end);

        /// <summary>Loads CR3 with this space (the kernel half is the same in all spaces).</summary>
        public void Activate()
        {
            s_activeRoot = _table.Root;
            Cpu.WriteCr3(_table.Root);
        }

        /// <summary>
        /// Frees all of this space's tables (not the frames it maps: those are the owner's).
        /// Must not be active; the kernel space cannot be destroyed.
        /// </summary>
        public int Destroy()
        {
            if (_isKernel) Panic.Halt("destroying the kernel address space");
            if (IsActive) Panic.Halt("destroying the active address space");
            return _table.Destroy();
        }
    }
}
