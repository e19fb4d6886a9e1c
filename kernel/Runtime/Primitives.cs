// The primitive value types. The compiler knows their layout from their names;
// each holds one field of itself (the C# compiler's own convention for primitives).
namespace System
{
    public struct Boolean { private readonly bool m_value; public override string ToString() => m_value ? "true" : "false"; }
    public struct Char { private readonly char m_value; }
    public struct SByte { private readonly sbyte m_value; }
    public struct Byte { private readonly byte m_value; }
    public struct Int16 { private readonly short m_value; }
    public struct UInt16 { private readonly ushort m_value; }
    public struct Int32 { private readonly int m_value; public const int MaxValue = 0x7fffffff; public const int MinValue = unchecked((int)0x80000000); }
    public struct UInt32 { private readonly uint m_value; public const uint MaxValue = 0xffffffff; }
    public struct Int64 { private readonly long m_value; public const long MaxValue = 0x7fffffffffffffff; public const long MinValue = unchecked((long)0x8000000000000000); }
    public struct UInt64 { private readonly ulong m_value; public const ulong MaxValue = 0xffffffffffffffff; }
    public struct Single { private readonly float m_value; }
    public struct Double { private readonly double m_value; }

    public unsafe struct IntPtr
    {
        private readonly void* _value;
        public IntPtr(void* value) { _value = value; }
        public IntPtr(long value) { _value = (void*)value; }
        public static readonly IntPtr Zero;
        public static int Size => sizeof(nint);
        public void* ToPointer() => _value;
        public long ToInt64() => (long)_value;
        public static explicit operator IntPtr(long value) => new IntPtr(value);
        public static explicit operator IntPtr(void* value) => new IntPtr(value);
        public static explicit operator void*(IntPtr value) => value._value;
        public static explicit operator long(IntPtr value) => (long)value._value;
        public static bool operator ==(IntPtr a, IntPtr b) => a._value == b._value;
        public static bool operator !=(IntPtr a, IntPtr b) => a._value != b._value;
        public override bool Equals(object? o) => false;
        public override int GetHashCode() => (int)(long)_value;
    }

    public unsafe struct UIntPtr
    {
        private readonly void* _value;
        public UIntPtr(void* value) { _value = value; }
        public UIntPtr(ulong value) { _value = (void*)value; }
        public static readonly UIntPtr Zero;
        public void* ToPointer() => _value;
        public ulong ToUInt64() => (ulong)_value;
        public static explicit operator UIntPtr(ulong value) => new UIntPtr(value);
        public static explicit operator UIntPtr(void* value) => new UIntPtr(value);
        public static explicit operator void*(UIntPtr value) => value._value;
        public static explicit operator ulong(UIntPtr value) => (ulong)value._value;
        public static bool operator ==(UIntPtr a, UIntPtr b) => a._value == b._value;
        public static bool operator !=(UIntPtr a, UIntPtr b) => a._value != b._value;
        public override bool Equals(object? o) => false;
        public override int GetHashCode() => (int)(ulong)_value;
    }

    public struct RuntimeTypeHandle
    {
        private readonly IntPtr _value;
        internal RuntimeTypeHandle(IntPtr value) { _value = value; }
        internal IntPtr Value => _value;
        internal static unsafe RuntimeTypeHandle GetRuntimeTypeHandleFromMethodTable(Internal.Runtime.MethodTable* mt) => new RuntimeTypeHandle((IntPtr)mt);
    }
    public struct RuntimeMethodHandle { private readonly IntPtr _value; }
    public struct RuntimeFieldHandle { private readonly IntPtr _value; }

    // C# `__arglist`-free TypedReference is still named by ILC's helper table.
    public ref struct TypedReference
    {
        private readonly ref byte _value;
        private readonly RuntimeTypeHandle _type;
    }
}
