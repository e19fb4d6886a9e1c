// Allocation, boxing and the other entry points ILC-generated code calls.
// No garbage collector (DESIGN §4): objects come from the kernel heap and live
// until freed explicitly; write barriers are plain stores (boot/runtime.asm).
using System.Runtime.CompilerServices;
using Internal.Runtime;
using Tessera.Core.Memory;

namespace System.Runtime
{
    internal static unsafe class RuntimeExports
    {
        // new T(): zeroed storage of the type's base size, MethodTable pointer at offset 0.
        [RuntimeExport("RhpNewFast")]
        internal static object RhpNewFast(MethodTable* mt)
        {
            void* mem = KernelHeap.AllocateZeroed(mt->BaseSize);
            *(MethodTable**)mem = mt;
            return Unsafe.As<byte, object>(ref *(byte*)&mem);
        }

        [RuntimeExport("RhpNewFinalizable")]
        internal static object RhpNewFinalizable(MethodTable* mt) => RhpNewFast(mt);

        // new T[n] and strings: base size plus n components, rounded up to pointer size.
        [RuntimeExport("RhpNewArray")]
        internal static object RhpNewArray(MethodTable* mt, int length)
        {
            if (length < 0) Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowOverflowException();
            return AllocateArrayLike(mt, (uint)length);
        }

        [RuntimeExport("RhpNewArrayFast")]
        internal static object RhpNewArrayFast(MethodTable* mt, int length) => RhpNewArray(mt, length);

        [RuntimeExport("RhpNewPtrArrayFast")]
        internal static object RhpNewPtrArrayFast(MethodTable* mt, int length) => RhpNewArray(mt, length);

        internal static object AllocateArrayLike(MethodTable* mt, uint length)
        {
            ulong size = mt->BaseSize + (ulong)length * mt->ComponentSize;
            size = (size + 7) & ~7UL;
            void* mem = KernelHeap.AllocateZeroed((nuint)size);
            *(MethodTable**)mem = mt;
            *(uint*)((byte*)mem + sizeof(nint)) = length;
            return Unsafe.As<byte, object>(ref *(byte*)&mem);
        }

        // Called when a stack-protector cookie (stackalloc) was overwritten: a stack buffer overrun.
        [RuntimeExport("RhpFallbackFailFast")]
        internal static void RhpFallbackFailFast() => Tessera.Core.Panic.Halt("stack buffer overrun (stack cookie check failed)");

        // Entered and left by code called from native code ([UnmanagedCallersOnly]); there is
        // no thread state to switch in the kernel, so both do nothing.
        [RuntimeExport("RhpReversePInvoke")]
        internal static void RhpReversePInvoke(void* frame) { }

        [RuntimeExport("RhpReversePInvokeReturn")]
        internal static void RhpReversePInvokeReturn(void* frame) { }

        internal static object RhBox(MethodTable* mt, ref byte data)
        {
            object result = RhpNewFast(mt);
            uint size = result.GetRawDataSize();
            ref byte dst = ref result.GetRawData();
            for (uint i = 0; i < size; i++) Unsafe.Add(ref dst, (nint)i) = Unsafe.Add(ref data, (nint)i);
            return result;
        }

        internal static ref byte RhUnbox2(MethodTable* pUnboxToEEType, object obj)
        {
            if (obj is null || obj.m_pMethodTable != pUnboxToEEType)
                Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowInvalidCastException();
            return ref obj.GetRawData();
        }

        internal static void RhUnboxNullable(ref byte data, MethodTable* pUnboxToEEType, object obj)
        {
            Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowPlatformNotSupportedException();
        }

        internal static void RhUnboxTypeTest(MethodTable* pType, MethodTable* pBoxType)
        {
            if (pType != pBoxType) Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowInvalidCastException();
        }
    }
}
