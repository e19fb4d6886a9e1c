// System.String as ILC lays it out: [MethodTable* | int _stringLength | char _firstChar ...].
// ILC builds literals as frozen objects with exactly these field names (DESIGN §3).
using System.Runtime.CompilerServices;
using Internal.Runtime;

namespace System
{
    public sealed unsafe class String
    {
#pragma warning disable CS0649, CS0169
        private readonly int _stringLength;
        private char _firstChar;
#pragma warning restore CS0649, CS0169

        public static readonly string Empty = "";

        public int Length => _stringLength;

        [IndexerName("Chars")]
        public char this[int index]
        {
            get
            {
                if ((uint)index >= (uint)_stringLength) Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowIndexOutOfRangeException();
                return Unsafe.Add(ref _firstChar, index);
            }
        }

        internal ref char GetRawStringData() => ref _firstChar;

        public ReadOnlySpan<char> AsSpan() => new ReadOnlySpan<char>(ref _firstChar, _stringLength);

        public static implicit operator ReadOnlySpan<char>(string? value) =>
            value is null ? default : new ReadOnlySpan<char>(ref value._firstChar, value._stringLength);

        // Allocates an uninitialised string of the given length through the kernel heap.
        internal static string FastAllocateString(int length)
        {
            if (length < 0) Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowArgumentOutOfRangeException();
            MethodTable* mt = MethodTable.Of<string>();
            return Unsafe.As<string>(System.Runtime.RuntimeExports.AllocateArrayLike(mt, (uint)length));
        }

        public static string FromSpan(ReadOnlySpan<char> chars)
        {
            if (chars.Length == 0) return Empty;
            string s = FastAllocateString(chars.Length);
            for (int i = 0; i < chars.Length; i++) Unsafe.Add(ref s._firstChar, i) = chars[i];
            return s;
        }

        // Builds a string from ASCII bytes (for command lines and other boot data).
        public static string FromAscii(byte* bytes, int length)
        {
            if (length <= 0) return Empty;
            string s = FastAllocateString(length);
            for (int i = 0; i < length; i++) Unsafe.Add(ref s._firstChar, i) = (char)bytes[i];
            return s;
        }

        public static string Concat(string? a, string? b)
        {
            a ??= Empty; b ??= Empty;
            string s = FastAllocateString(a.Length + b.Length);
            for (int i = 0; i < a.Length; i++) Unsafe.Add(ref s._firstChar, i) = a[i];
            for (int i = 0; i < b.Length; i++) Unsafe.Add(ref s._firstChar, a.Length + i) = b[i];
            return s;
        }

        public static string Concat(string? a, string? b, string? c) => Concat(Concat(a, b), c);
        public static string Concat(string? a, string? b, string? c, string? d) => Concat(Concat(a, b), Concat(c, d));

        public static bool Equals(string? a, string? b)
        {
            if ((object?)a == b) return true;
            if (a is null || b is null || a.Length != b.Length) return false;
            for (int i = 0; i < a.Length; i++) if (a[i] != b[i]) return false;
            return true;
        }

        public static bool operator ==(string? a, string? b) => Equals(a, b);
        public static bool operator !=(string? a, string? b) => !Equals(a, b);
        public override bool Equals(object? obj) => obj is string s && Equals(this, s);

        // FNV-1a: stable across runs, which makes kernel logs comparable.
        public override int GetHashCode()
        {
            uint h = 2166136261;
            for (int i = 0; i < _stringLength; i++) { h ^= this[i]; h *= 16777619; }
            return (int)h;
        }

        public override string ToString() => this;

        public bool StartsWith(string prefix)
        {
            if (prefix.Length > Length) return false;
            for (int i = 0; i < prefix.Length; i++) if (this[i] != prefix[i]) return false;
            return true;
        }

        public int IndexOf(char c)
        {
            for (int i = 0; i < Length; i++) if (this[i] == c) return i;
            return -1;
        }

        public string Substring(int start, int length)
        {
            if ((uint)start > (uint)Length || (uint)length > (uint)(Length - start))
                Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowArgumentOutOfRangeException();
            return FromSpan(AsSpan().Slice(start, length));
        }

        public string Substring(int start) => Substring(start, Length - start);
    }
}
