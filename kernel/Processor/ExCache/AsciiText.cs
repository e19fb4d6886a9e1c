// A fixed-capacity ASCII text buffer: how the ExCache renders its summary and its
// configuration errors without string formatting (the kernel's core library has none,
// docs/kernel-csharp.md). The kernel prints Bytes with Console.WriteAscii; the host tests
// decode them. Text past the capacity is dropped and Truncated says so.
// Pure logic: compiled into the processor image and the host tests.
using System;

namespace Tessera.Processor.Cache
{
    public sealed class AsciiText
    {
        private readonly byte[] _buffer;
        private int _length;
        private bool _truncated;

        public AsciiText(int capacity) { _buffer = new byte[capacity > 0 ? capacity : 1]; }

        public int Length => _length;
        public bool Truncated => _truncated;
        public ReadOnlySpan<byte> Bytes => new ReadOnlySpan<byte>(_buffer, 0, _length);

        public void Clear() { _length = 0; _truncated = false; }

        public AsciiText Append(char c)
        {
            if (_length < _buffer.Length) _buffer[_length++] = c < 128 ? (byte)c : (byte)'?';
            else _truncated = true;
            return this;
        }

        public AsciiText Append(string? s)
        {
            if (s is null) return this;
            for (int i = 0; i < s.Length; i++) Append(s[i]);
            return this;
        }

        public AsciiText Append(ulong value) => Append(value, 0, ' ');

        public AsciiText Append(long value)
        {
            if (value < 0) { Append('-'); return Append((ulong)(-(value + 1)) + 1); }
            return Append((ulong)value);
        }

        public AsciiText Append(int value) => Append((long)value);

        /// <summary>Decimal, padded on the left to width with pad.</summary>
        public AsciiText Append(ulong value, int width, char pad)
        {
            Span<byte> digits = stackalloc byte[20];
            int n = 0;
            do { digits[n++] = (byte)('0' + (int)(value % 10)); value /= 10; } while (value != 0);
            for (int i = n; i < width; i++) Append(pad);
            while (n > 0) Append((char)digits[--n]);
            return this;
        }

        /// <summary>0x followed by exactly digits hex digits, or by as many as value needs when digits is 0.</summary>
        public AsciiText AppendHex(ulong value, int digits = 0)
        {
            Append('0').Append('x');
            if (digits <= 0)
            {
                digits = 1;
                while (digits < 16 && (value >> (digits * 4)) != 0) digits++;
            }
            for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4)
            {
                int nibble = (int)((value >> shift) & 0xF);
                Append((char)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10));
            }
            return this;
        }

        /// <summary>A byte count in its largest exact unit: 16 MiB, 4 KiB, 12 KiB, 1000 B.</summary>
        public AsciiText AppendSize(ulong bytes)
        {
            if (bytes != 0 && bytes % (1UL << 30) == 0) return Append(bytes >> 30).Append(" GiB");
            if (bytes != 0 && bytes % (1UL << 20) == 0) return Append(bytes >> 20).Append(" MiB");
            if (bytes != 0 && bytes % (1UL << 10) == 0) return Append(bytes >> 10).Append(" KiB");
            return Append(bytes).Append(" B");
        }

        /// <summary>True when the text so far contains s (for tests and self-tests).</summary>
        public bool Contains(string s)
        {
            for (int start = 0; start + s.Length <= _length; start++)
            {
                int k = 0;
                while (k < s.Length && _buffer[start + k] == s[k]) k++;
                if (k == s.Length) return true;
            }
            return s.Length == 0;
        }
    }
}
