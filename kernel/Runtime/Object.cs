// The root of the type system. NativeAOT lays every object out as
// [MethodTable* | fields...]; the compiler writes the MethodTable pointer,
// so Object declares it as its only field (see MethodTable.cs).
namespace System
{
    public unsafe class Object
    {
        // Named after the runtime's own field; ILC relies on its position (offset 0), not its name.
        internal Internal.Runtime.MethodTable* m_pMethodTable;

        public Object() { }

        public virtual bool Equals(object? obj) => (object)this == obj;
        public virtual int GetHashCode() => (int)(nint)Internal.Runtime.CompilerServices.ObjectAddress.Of(this);
        public virtual string ToString() => "object";

        // Raw data after the MethodTable pointer, used by boxing and static-base set-up.
        internal ref byte GetRawData() => ref System.Runtime.CompilerServices.Unsafe.As<RawData>(this).Data;

        // Size of the object's fields (base size minus header and MethodTable pointer).
        internal uint GetRawDataSize() => m_pMethodTable->BaseSize - (uint)(2 * sizeof(nint));
    }

    internal sealed class RawData
    {
        public byte Data;
    }

    public abstract class ValueType { }

    public abstract class Enum : ValueType { }

    public struct Void { }

    public struct Nullable<T> where T : struct
    {
        private readonly bool hasValue;
        private T value;

        public Nullable(T value) { this.value = value; hasValue = true; }
        public readonly bool HasValue => hasValue;
        public readonly T Value => value;
        public readonly T GetValueOrDefault() => value;
        public static implicit operator T?(T value) => new T?(value);
        public static explicit operator T(T? value) => value!.Value;
    }

    public abstract class Attribute { }

    public abstract class Delegate
    {
        // Field names and order are what ILC's delegate constructors fill in.
        internal object m_firstParameter = null!;
        internal object m_helperObject = null!;
        internal nint m_extraFunctionPointerOrData;
        internal nint m_functionPointer;

        // ILC calls these to build delegates (closed over an instance or a static).
        private void InitializeClosedInstance(object firstParameter, nint functionPointer)
        {
            if (firstParameter is null) Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowNullReferenceException();
            m_functionPointer = functionPointer;
            m_firstParameter = firstParameter;
        }

        // A delegate to an interface method of an object (`IFoo f; Func<int> d = f.Bar;`):
        // ILC passes the call site's dispatch cell, resolved once, here.
        private unsafe void InitializeClosedInstanceToInterface(object firstParameter, nint dispatchCell)
        {
            if (firstParameter is null) Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowNullReferenceException();
            m_functionPointer = System.Runtime.InterfaceDispatch.ResolveForObject(firstParameter, (System.Runtime.InterfaceDispatchCell*)dispatchCell);
            m_firstParameter = firstParameter;
        }

        private void InitializeOpenStaticThunk(object firstParameter, nint functionPointer, nint functionPointerThunk)
        {
            // A delegate to a static method: the thunk shifts the arguments, the target is kept beside it.
            m_firstParameter = this;
            m_functionPointer = functionPointerThunk;
            m_extraFunctionPointerOrData = functionPointer;
        }

        private void InitializeClosedStaticThunk(object firstParameter, nint functionPointer, nint functionPointerThunk)
        {
            m_extraFunctionPointerOrData = functionPointer;
            m_helperObject = firstParameter;
            m_functionPointer = functionPointerThunk;
            m_firstParameter = this;
        }
    }

    public abstract class MulticastDelegate : Delegate { }

    // A type argument with no instances; used where the C# compiler needs System.Type for typeof().
    public abstract class Type
    {
        internal static unsafe Type? GetTypeFromMethodTable(Internal.Runtime.MethodTable* mt) => null;
        internal static unsafe Type? GetTypeFromMethodTableMaybeNull(Internal.Runtime.MethodTable* mt) => null;
    }

    internal sealed class RuntimeType : Type { }
}

namespace Internal.Runtime.CompilerServices
{
    internal static unsafe class ObjectAddress
    {
        public static void* Of(object o) => *(void**)System.Runtime.CompilerServices.Unsafe.AsPointer(ref o);
    }
}
