// Interface calls ILC could not devirtualise go through a dispatch cell (one per
// call site, in .data) and the stubs in boot/dispatch.asm. As ILC 10 emits them:
//
//   cell:       [stub: code address][cache: interface, encoded]
//   ...         cells of the same interface slot follow each other, then
//   terminator: [0][slot number of the interface method]
//
// The cache word starts as a relative pointer (from the word itself) to the
// interface's MethodTable, with 3 in its low two bits; other low-bit values are an
// absolute interface pointer (1) or a relative pointer to a cell holding it (2).
// Once a call site has been resolved, the word points at an InterfaceDispatchCache
// (low bits 0) and the stub becomes the cached fast path.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Internal.Runtime;

namespace System.Runtime
{
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct InterfaceDispatchCell
    {
        public nint Stub;
        public nint Cache;

        public const nint FlagMask = 3;
        public const nint PointsAtCache = 0, InterfacePointer = 1, IndirectInterfaceRelative = 2, InterfaceRelative = 3;
    }

    /// <summary>
    /// What one call site has resolved: the interface method it calls and up to
    /// EntryCount (MethodTable, target) pairs, probed in order by the fast-path stub.
    /// Entries are only ever added: a slot is claimed by swapping its type from 0 to
    /// Claimed, then the target is stored, then the type, so a concurrent reader
    /// never sees a type without its target.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct InterfaceDispatchCache
    {
        public const int EntryCount = 8; // boot/dispatch.asm CACHE_ENTRIES
        public const ulong Claimed = 1;  // never a MethodTable address (those are 8-aligned)

        public MethodTable* InterfaceType;
        public nint Slot;
        // Followed by EntryCount entries of { MethodTable* type; nint target }.

        public ulong* Entry(int index)
        {
            fixed (InterfaceDispatchCache* self = &this) return (ulong*)((byte*)self + sizeof(InterfaceDispatchCache)) + 2 * index;
        }

        public static nuint Size => (nuint)(sizeof(InterfaceDispatchCache) + EntryCount * 2 * sizeof(ulong));
    }

    internal static unsafe class InterfaceDispatch
    {
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("tessera_interface_dispatch_cached_address")]
        private static extern nint CachedStubAddress();

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("tessera_compare_exchange64")]
        internal static extern ulong CompareExchange(ulong* location, ulong expected, ulong desired);

        /// <summary>Number of slow-path resolutions so far (each is a cache miss); a statistic, not updated atomically.</summary>
        internal static ulong SlowResolutions;

        /// <summary>
        /// Called by RhpInitialDynamicInterfaceDispatch (boot/dispatch.asm) with the
        /// call's `this` and its cell; returns the code to jump to. Records the answer in
        /// the cell's cache so the next call with the same type takes the fast path.
        /// </summary>
        [RuntimeExport("tessera_resolve_interface_call")]
        private static nint ResolveCall(MethodTable** thisObject, InterfaceDispatchCell* cell)
        {
            if (thisObject == null) Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowNullReferenceException();
            SlowResolutions++;
            MethodTable* type = *thisObject;
            ReadCell(cell, out MethodTable* interfaceType, out int slot, out InterfaceDispatchCache* cache);
            nint target = DispatchResolver.FindInterfaceMethod(type, interfaceType, slot);
            if (target == 0) FailNoImplementation(type, interfaceType, slot);
            Remember(cell, cache, interfaceType, slot, type, target);
            return target;
        }

        /// <summary>
        /// RhpResolveInterfaceMethod: the code an interface method has for this object
        /// (used for delegates to interface methods and other address-taking of a cell).
        /// </summary>
        [RuntimeExport("RhpResolveInterfaceMethod")]
        private static nint RhpResolveInterfaceMethod(object obj, InterfaceDispatchCell* cell) => obj is null ? 0 : ResolveForObject(obj, cell);

        internal static nint ResolveForObject(object obj, InterfaceDispatchCell* cell)
        {
            ReadCell(cell, out MethodTable* interfaceType, out int slot, out _);
            nint target = DispatchResolver.FindInterfaceMethod(obj.m_pMethodTable, interfaceType, slot);
            if (target == 0) FailNoImplementation(obj.m_pMethodTable, interfaceType, slot);
            return target;
        }

        /// <summary>RhResolveDispatch: the code for (interface, slot) on this object, without a cell.</summary>
        [RuntimeExport("RhResolveDispatch")]
        private static nint RhResolveDispatch(object obj, MethodTable* interfaceType, ushort slot) =>
            DispatchResolver.FindInterfaceMethod(obj.m_pMethodTable, interfaceType, slot);

        [RuntimeExport("RhResolveDispatchOnType")]
        private static nint RhResolveDispatchOnType(MethodTable* type, MethodTable* interfaceType, ushort slot) =>
            DispatchResolver.FindInterfaceMethod(type, interfaceType, slot);

        /// <summary>Decodes a cell, whichever of its two states it is in.</summary>
        internal static void ReadCell(InterfaceDispatchCell* cell, out MethodTable* interfaceType, out int slot, out InterfaceDispatchCache* cache)
        {
            nint word = cell->Cache;
            nint flags = word & InterfaceDispatchCell.FlagMask;
            if (flags == InterfaceDispatchCell.PointsAtCache)
            {
                cache = (InterfaceDispatchCache*)word;
                interfaceType = cache->InterfaceType;
                slot = (int)cache->Slot;
                return;
            }
            cache = null;
            if (flags == InterfaceDispatchCell.InterfacePointer)
                interfaceType = (MethodTable*)(word & ~InterfaceDispatchCell.FlagMask);
            else
            {
                // A 32-bit offset from the cache word itself (only the low half is the offset).
                byte* target = (byte*)&cell->Cache + ((int)word & ~(int)InterfaceDispatchCell.FlagMask);
                interfaceType = flags == InterfaceDispatchCell.InterfaceRelative ? (MethodTable*)target : *(MethodTable**)target;
            }
            // The slot is in the terminator that ends this run of cells.
            InterfaceDispatchCell* terminator = cell;
            while (terminator->Stub != 0) terminator++;
            slot = (int)terminator->Cache;
        }

        private static void Remember(InterfaceDispatchCell* cell, InterfaceDispatchCache* cache, MethodTable* interfaceType, int slot, MethodTable* type, nint target)
        {
            if (cache == null)
            {
                var fresh = (InterfaceDispatchCache*)Tessera.Core.Memory.KernelHeap.AllocateZeroed(InterfaceDispatchCache.Size);
                fresh->InterfaceType = interfaceType;
                fresh->Slot = slot;
                AddEntry(fresh, type, target);
                // Publish the cache first, then the stub that relies on it. Losing the race
                // to another resolver of the same cell leaves that one's cache in place
                // (both are correct); ours is simply not used.
                ulong old = (ulong)cell->Cache;
                if ((old & (ulong)InterfaceDispatchCell.FlagMask) == 0) { AddEntry((InterfaceDispatchCache*)old, type, target); return; }
                if (CompareExchange((ulong*)&cell->Cache, old, (ulong)fresh) == old)
                    cell->Stub = CachedStubAddress();
                return;
            }
            AddEntry(cache, type, target);
        }

        private static void AddEntry(InterfaceDispatchCache* cache, MethodTable* type, nint target)
        {
            for (int i = 0; i < InterfaceDispatchCache.EntryCount; i++)
            {
                ulong* entry = cache->Entry(i);
                if (entry[0] == (ulong)type) return;
                if (entry[0] != 0) continue;
                if (CompareExchange(&entry[0], 0, InterfaceDispatchCache.Claimed) != 0) continue;
                entry[1] = (ulong)target;
                // x86 keeps stores in program order: the target is visible before the type.
                CompareExchange(&entry[0], InterfaceDispatchCache.Claimed, (ulong)type);
                return;
            }
            // Full: this type keeps taking the slow path at this call site (still correct).
        }

        private static void FailNoImplementation(MethodTable* type, MethodTable* interfaceType, int slot)
        {
            // MethodTable addresses resolve to type names with `nm iso/tessera-<kind>.elf`.
            Tessera.Core.Console.Write("\ninterface dispatch: type ");
            Tessera.Core.Console.WriteHex((ulong)type);
            Tessera.Core.Console.Write(" has no implementation of slot ");
            Tessera.Core.Console.WriteDecimal((ulong)slot);
            Tessera.Core.Console.Write(" of interface ");
            Tessera.Core.Console.WriteHex((ulong)interfaceType);
            Tessera.Core.Panic.Halt("interface method not implemented");
        }
    }
}
