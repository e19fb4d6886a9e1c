// The NativeAOT MethodTable (type descriptor) as ILC 10 emits it for x64.
// Only the fixed head is declared; the vtable follows, then the interface map.
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
        private const uint ElementTypeMask = 0x7C000000;
        private const int ElementTypeShift = 26;
        // EETypeElementType values (runtime's MethodTable.h).
        private const uint ElementTypeArray = 0x14, ElementTypeSzArray = 0x18, ElementTypeInterface = 0x1E;

        public bool HasComponentSize => (_uFlags & HasComponentSizeFlag) != 0;
        public ushort ComponentSize => HasComponentSize ? (ushort)_uFlags : (ushort)0;
        public uint BaseSize => _uBaseSize;
        public MethodTable* RelatedType => _relatedType;
        public ushort NumVtableSlots => _usNumVtableSlots;
        public ushort NumInterfaces => _usNumInterfaces;
        public uint HashCode => _uHashCode;
        private uint ElementType => (_uFlags & ElementTypeMask) >> ElementTypeShift;
        public bool IsParameterized => (_uFlags & KindMask) == ParameterizedKind;
        public bool IsArray => IsParameterized && (ElementType == ElementTypeArray || ElementType == ElementTypeSzArray);
        public bool IsInterface => ElementType == ElementTypeInterface;
        public bool IsValueType => ElementType != 0 && ElementType < 0x12 && !IsParameterized;

        // The interface map sits after the vtable (one pointer per slot).
        public MethodTable** InterfaceMap
        {
            get
            {
                fixed (MethodTable* self = &this)
                    return (MethodTable**)((byte*)self + sizeof(MethodTable) + sizeof(nint) * _usNumVtableSlots);
            }
        }

        // The MethodTable of T; ILC expands this intrinsic to a constant address.
        [System.Runtime.CompilerServices.Intrinsic]
        public static extern MethodTable* Of<T>();
    }
}
