// The NativeAOT MethodTable (type descriptor) as ILC 10 emits it for x64:
//   fixed head (24 bytes) | vtable (8 bytes a slot) | interface map (8 bytes an interface)
//   | relative pointers (4 bytes each): type manager, writable data,
//     dispatch map (if HasDispatchMap), finalizer (if HasFinalizer),
//     sealed vtable (if HasSealedVTableEntries), then generic information.
// Layout and flag values checked against ILC 10.0.14's output (objdump of the kernel
// object) and the runtime's MethodTable.h; a relative pointer is the address of the
// 32-bit field plus its signed value.
using System.Runtime.InteropServices;

namespace Internal.Runtime
{
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct MethodTable
    {
        // Low 16 bits: component size (arrays, strings) when HasComponentSizeFlag is set.
        private uint _uFlags;
        // Object size in bytes including the header word before the MethodTable pointer.
        private uint _uBaseSize;
        // Base type for classes; element type for arrays and pointers.
        private MethodTable* _relatedType;
        private ushort _usNumVtableSlots;
        private ushort _usNumInterfaces;
        private uint _uHashCode;

        private const uint HasComponentSizeFlag = 0x80000000;
        private const uint KindMask = 0x00030000;
        private const uint ParameterizedKind = 0x00020000;
        private const uint HasDispatchMapFlag = 0x00040000;
        private const uint HasFinalizerFlag = 0x00100000;
        private const uint HasSealedVTableEntriesFlag = 0x00400000;
        private const uint ElementTypeMask = 0x7C000000;
        private const int ElementTypeShift = 26;
        // EETypeElementType values (runtime's MethodTable.h).
        private const uint ElementTypeNullable = 0x12, ElementTypeInterface = 0x15,
                           ElementTypeArray = 0x17, ElementTypeSzArray = 0x18;

        public bool HasComponentSize => (_uFlags & HasComponentSizeFlag) != 0;
        public ushort ComponentSize => HasComponentSize ? (ushort)_uFlags : (ushort)0;
        public uint BaseSize => _uBaseSize;
        public MethodTable* RelatedType => _relatedType;
        public ushort NumVtableSlots => _usNumVtableSlots;
        public ushort NumInterfaces => _usNumInterfaces;
        public uint HashCode => _uHashCode;
        private uint ElementType => (_uFlags & ElementTypeMask) >> ElementTypeShift;
        public bool IsParameterized => (_uFlags & KindMask) == ParameterizedKind;
        public bool IsArray => ElementType == ElementTypeArray || ElementType == ElementTypeSzArray;
        public bool IsInterface => ElementType == ElementTypeInterface;
        public bool IsValueType => ElementType != 0 && ElementType <= ElementTypeNullable;
        public bool HasDispatchMap => (_uFlags & HasDispatchMapFlag) != 0;
        public bool HasFinalizer => (_uFlags & HasFinalizerFlag) != 0;
        public bool HasSealedVTableEntries => (_uFlags & HasSealedVTableEntriesFlag) != 0;

        /// <summary>The base class, or null for System.Object, interfaces and parameterized types.</summary>
        public MethodTable* BaseType => IsParameterized || IsInterface ? null : _relatedType;

        private byte* Self
        {
            get { fixed (MethodTable* self = &this) return (byte*)self; }
        }

        // The vtable follows the fixed head: one code pointer per slot.
        public nint* VTable => (nint*)(Self + sizeof(MethodTable));

        // The interface map sits after the vtable (one pointer per interface).
        public MethodTable** InterfaceMap => (MethodTable**)(Self + sizeof(MethodTable) + sizeof(nint) * _usNumVtableSlots);

        // The relative pointers after the interface map, in their fixed order.
        private int* RelativePointers => (int*)(InterfaceMap + _usNumInterfaces);
        private const int TypeManagerField = 0, WritableDataField = 1, FirstOptionalField = 2;

        private static byte* Follow(int* field) => (byte*)field + *field;

        /// <summary>This type's interface dispatch map, or null when it has none.</summary>
        public DispatchMap* DispatchMap => HasDispatchMap ? (DispatchMap*)Follow(RelativePointers + FirstOptionalField) : null;

        /// <summary>
        /// Code of a sealed virtual slot: methods that are virtual only to implement an
        /// interface (and default interface methods) live in this separate table, whose
        /// entries are relative pointers.
        /// </summary>
        public nint GetSealedVirtualSlot(int index)
        {
            int field = FirstOptionalField + (HasDispatchMap ? 1 : 0) + (HasFinalizer ? 1 : 0);
            int* table = (int*)Follow(RelativePointers + field);
            return (nint)Follow(table + index);
        }

        // The MethodTable of T; ILC expands this intrinsic to a constant address.
        [System.Runtime.CompilerServices.Intrinsic]
        public static extern MethodTable* Of<T>();
    }

    /// <summary>
    /// Which vtable slot implements each interface method of a type (runtime's
    /// DispatchMap): four counts, then 6-byte entries, the type's own implementations
    /// first and the default interface implementations after them.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct DispatchMap
    {
        [StructLayout(LayoutKind.Sequential)]
        public struct Entry
        {
            // Index into the implementing type's interface map.
            public ushort InterfaceIndex;
            // Slot of the method in the interface.
            public ushort InterfaceMethodSlot;
            // Slot in the type: below NumVtableSlots a vtable slot, otherwise a sealed slot.
            public ushort ImplementationSlot;
        }

        private ushort _standardEntryCount;
        private ushort _defaultEntryCount;
        private ushort _standardStaticEntryCount;
        private ushort _defaultStaticEntryCount;

        public int StandardEntryCount => _standardEntryCount;
        public int DefaultEntryCount => _defaultEntryCount;

        public Entry* Entries
        {
            get { fixed (DispatchMap* self = &this) return (Entry*)((byte*)self + 4 * sizeof(ushort)); }
        }
    }
}
