// The kernel command line: space-separated words, each `name` or `name=value`
// (e.g. `selftest node=2 role=memory excache=16M`). Pure logic, host-tested.
using System;

namespace Tessera.Core.Boot
{
    public sealed class CommandLine
    {
        private readonly byte[] _text;

        public CommandLine(byte[] text) { _text = text; }

        public byte[] Text => _text;

        /// <summary>True when a word equals name or starts with name=.</summary>
        public bool Has(string name) => Find(name, out _, out _);

        /// <summary>Finds name=value; returns the value's bytes (empty for a bare name).</summary>
        public bool TryGetValue(string name, out ReadOnlySpan<byte> value)
        {
            value = default;
            if (!Find(name, out int start, out int length)) return false;
            value = new ReadOnlySpan<byte>(_text).Slice(start, length);
            return true;
        }

        /// <summary>Reads name=N with an optional K, M or G suffix (powers of 1024).</summary>
        public bool TryGetSize(string name, out ulong bytes)
        {
            bytes = 0;
            if (!TryGetValue(name, out ReadOnlySpan<byte> v) || v.Length == 0) return false;
            ulong n = 0;
            int i = 0;
            for (; i < v.Length && v[i] >= '0' && v[i] <= '9'; i++)
            {
                // Checked before multiplying: n * 10 can wrap to a value that still looks larger.
                ulong digit = (ulong)(v[i] - '0');
                if (n > (ulong.MaxValue - digit) / 10) return false;
                n = n * 10 + digit;
            }
            if (i == 0) return false;
            ulong scale = 1;
            if (i < v.Length)
            {
                byte s = v[i++];
                if (s == 'K' || s == 'k') scale = 1UL << 10;
                else if (s == 'M' || s == 'm') scale = 1UL << 20;
                else if (s == 'G' || s == 'g') scale = 1UL << 30;
                else return false;
            }
            if (i != v.Length) return false;
            if (n > ulong.MaxValue / scale) return false;
            bytes = n * scale;
            return true;
        }

        private bool Find(string name, out int valueStart, out int valueLength)
        {
            valueStart = 0; valueLength = 0;
            int i = 0;
            while (i < _text.Length)
            {
                while (i < _text.Length && _text[i] == ' ') i++;
                int wordStart = i;
                while (i < _text.Length && _text[i] != ' ') i++;
                int wordEnd = i;
                if (wordEnd == wordStart) continue;
                int nameEnd = wordStart;
                while (nameEnd < wordEnd && _text[nameEnd] != '=') nameEnd++;
                if (nameEnd - wordStart != name.Length) continue;
                bool same = true;
                for (int k = 0; k < name.Length; k++)
                    if (_text[wordStart + k] != name[k]) { same = false; break; }
                if (!same) continue;
                valueStart = nameEnd < wordEnd ? nameEnd + 1 : wordEnd;
                valueLength = wordEnd - valueStart;
                return true;
            }
            return false;
        }

        /// <summary>Joins two command lines with a space (either may be empty).</summary>
        public static byte[] Join(byte[] a, byte[] b)
        {
            if (a.Length == 0) return b;
            if (b.Length == 0) return a;
            byte[] r = new byte[a.Length + 1 + b.Length];
            for (int i = 0; i < a.Length; i++) r[i] = a[i];
            r[a.Length] = (byte)' ';
            for (int i = 0; i < b.Length; i++) r[a.Length + 1 + i] = b[i];
            return r;
        }
    }
}
