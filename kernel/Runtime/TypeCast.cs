// Casting helpers ILC calls by name (System.Runtime.TypeCast).
// Class casts walk the base-type chain; interface casts search the interface map.
// Variance and arrays of interfaces are not supported and fail the cast.
using System.Runtime.CompilerServices;
using Internal.Runtime;

namespace System.Runtime
{
    internal static unsafe class TypeCast
    {
        private static bool IsSubclassOf(MethodTable* mt, MethodTable* target)
        {
            if (mt->IsParameterized) return mt == target;
            for (; mt != null; mt = mt->RelatedType)
                if (mt == target) return true;
            return false;
        }

        private static bool ImplementsInterface(MethodTable* mt, MethodTable* target)
        {
            MethodTable** map = mt->InterfaceMap;
            for (int i = 0; i < mt->NumInterfaces; i++)
                if (map[i] == target) return true;
            return false;
        }

        private static bool IsInstanceOf(MethodTable* mt, MethodTable* target) =>
            mt == target || (target->IsInterface ? ImplementsInterface(mt, target) : IsSubclassOf(mt, target));

        internal static object? IsInstanceOfClass(MethodTable* pTargetType, object? obj) =>
            obj is null || IsSubclassOf(obj.m_pMethodTable, pTargetType) ? obj : null;

        internal static object? CheckCastClass(MethodTable* pTargetType, object? obj)
        {
            if (obj is null || IsSubclassOf(obj.m_pMethodTable, pTargetType)) return obj;
            Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowInvalidCastException();
            return null;
        }

        internal static object CheckCastClassSpecial(MethodTable* pTargetType, object obj) => CheckCastClass(pTargetType, obj)!;

        internal static object? IsInstanceOfInterface(MethodTable* pTargetType, object? obj) =>
            obj is null || ImplementsInterface(obj.m_pMethodTable, pTargetType) ? obj : null;

        internal static object? CheckCastInterface(MethodTable* pTargetType, object? obj)
        {
            if (obj is null || ImplementsInterface(obj.m_pMethodTable, pTargetType)) return obj;
            Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowInvalidCastException();
            return null;
        }

        internal static object? IsInstanceOfAny(MethodTable* pTargetType, object? obj) =>
            obj is null || IsInstanceOf(obj.m_pMethodTable, pTargetType) ? obj : null;

        internal static object? CheckCastAny(MethodTable* pTargetType, object? obj)
        {
            if (obj is null || IsInstanceOf(obj.m_pMethodTable, pTargetType)) return obj;
            Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowInvalidCastException();
            return null;
        }

        internal static bool IsInstanceOfException(MethodTable* pTargetType, object? obj) =>
            obj is not null && IsSubclassOf(obj.m_pMethodTable, pTargetType);

        // array[index] = obj for reference-type arrays: bounds and element type are checked.
        internal static void StelemRef(object?[] array, nint index, object? obj)
        {
            if ((nuint)index >= (uint)array.Length) Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowIndexOutOfRangeException();
            if (obj is not null && !IsInstanceOf(obj.m_pMethodTable, array.m_pMethodTable->RelatedType))
                Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowArrayTypeMismatchException();
            ref object? element = ref Unsafe.As<byte, object?>(ref Unsafe.As<RawArrayData>(array).Data);
            Unsafe.Add(ref element, index) = obj;
        }

        internal static ref object? LdelemaRef(object?[] array, nint index, MethodTable* elementType)
        {
            if ((nuint)index >= (uint)array.Length) Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowIndexOutOfRangeException();
            if (elementType != array.m_pMethodTable->RelatedType)
                Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowArrayTypeMismatchException();
            ref object? element = ref Unsafe.As<byte, object?>(ref Unsafe.As<RawArrayData>(array).Data);
            return ref Unsafe.Add(ref element, index);
        }
    }
}
