// Which code an interface method runs for a given type: the runtime's interface
// resolution rule, over the data ILC emits (MethodTable.cs).
//
// Walk from the object's type up its base classes; the first type whose dispatch
// map names (interface, slot) decides the implementation slot. A vtable slot is read
// from the object's own type (so a derived override wins); a sealed slot is read
// from the type whose map matched. Only when no class implements the method are the
// default interface implementations (the map entries after the standard ones)
// searched, the same way. Interfaces match exactly: variant generic interfaces
// (IEnumerable<Derived> as IEnumerable<Base>) are not resolved.
using Internal.Runtime;

namespace System.Runtime
{
    internal static unsafe class DispatchResolver
    {
        // Implementation slots ILC uses for default-method conflicts (runtime's SpecialDispatchMapSlot).
        private const ushort DiamondSlot = 0xFFFE, ReabstractionSlot = 0xFFFF;

        /// <summary>Code address of interfaceType's method number slot for an object of type, or 0.</summary>
        public static nint FindInterfaceMethod(MethodTable* type, MethodTable* interfaceType, int slot)
        {
            for (int pass = 0; pass < 2; pass++)
            {
                bool defaults = pass == 1;
                for (MethodTable* current = type; current != null; current = current->BaseType)
                {
                    if (!FindImplementationSlot(current, interfaceType, slot, defaults, out ushort implementation)) continue;
                    if (implementation == DiamondSlot || implementation == ReabstractionSlot)
                        Tessera.Core.Panic.Halt(implementation == DiamondSlot
                            ? "interface dispatch: ambiguous default interface implementation"
                            : "interface dispatch: interface method re-abstracted");
                    if (implementation < current->NumVtableSlots) return type->VTable[implementation];
                    return current->GetSealedVirtualSlot(implementation - current->NumVtableSlots);
                }
            }
            return 0;
        }

        private static bool FindImplementationSlot(MethodTable* type, MethodTable* interfaceType, int slot, bool defaults, out ushort implementation)
        {
            implementation = 0;
            DispatchMap* map = type->DispatchMap;
            if (map == null) return false;
            int first = defaults ? map->StandardEntryCount : 0;
            int end = defaults ? map->StandardEntryCount + map->DefaultEntryCount : map->StandardEntryCount;
            DispatchMap.Entry* entries = map->Entries;
            MethodTable** interfaces = type->InterfaceMap;
            for (int i = first; i < end; i++)
            {
                if (entries[i].InterfaceMethodSlot != slot) continue;
                if (entries[i].InterfaceIndex >= type->NumInterfaces) continue;
                if (interfaces[entries[i].InterfaceIndex] != interfaceType) continue;
                implementation = entries[i].ImplementationSlot;
                return true;
            }
            return false;
        }
    }
}
