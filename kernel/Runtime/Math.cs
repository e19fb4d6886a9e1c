// Arithmetic helpers ILC names for targets without hardware support. On x64 the
// JIT emits div/idiv inline, so these are only reached for checked conversions.
using Internal.Runtime.CompilerHelpers;

namespace System
{
    public static class Math
    {
        public static int Min(int a, int b) => a < b ? a : b;
        public static int Max(int a, int b) => a > b ? a : b;
        public static long Min(long a, long b) => a < b ? a : b;
        public static long Max(long a, long b) => a > b ? a : b;
        public static ulong Min(ulong a, ulong b) => a < b ? a : b;
        public static ulong Max(ulong a, ulong b) => a > b ? a : b;
        public static int Abs(int a) => a < 0 ? -a : a;

        internal static int ConvertToInt32Checked(double v)
        {
            if (!(v > -2147483649.0 && v < 2147483648.0)) ThrowHelpers.ThrowOverflowException();
            return (int)v;
        }

        internal static uint ConvertToUInt32Checked(double v)
        {
            if (!(v > -1.0 && v < 4294967296.0)) ThrowHelpers.ThrowOverflowException();
            return (uint)v;
        }

        internal static long ConvertToInt64Checked(double v)
        {
            if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0)) ThrowHelpers.ThrowOverflowException();
            return (long)v;
        }

        internal static ulong ConvertToUInt64Checked(double v)
        {
            if (!(v > -1.0 && v < 18446744073709551616.0)) ThrowHelpers.ThrowOverflowException();
            return (ulong)v;
        }

        internal static long MultiplyChecked(long a, long b) { checked { return a * b; } }
        internal static ulong MultiplyChecked(ulong a, ulong b) { checked { return a * b; } }

        internal static int DivInt32(int a, int b) => a / b;
        internal static uint DivUInt32(uint a, uint b) => a / b;
        internal static long DivInt64(long a, long b) => a / b;
        internal static ulong DivUInt64(ulong a, ulong b) => a / b;
        internal static int ModInt32(int a, int b) => a % b;
        internal static uint ModUInt32(uint a, uint b) => a % b;
        internal static long ModInt64(long a, long b) => a % b;
        internal static ulong ModUInt64(ulong a, ulong b) => a % b;
    }
}
