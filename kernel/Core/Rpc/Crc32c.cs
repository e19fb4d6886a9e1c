// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every RPC
// message. Chosen over the Internet checksum because it catches all burst errors up to
// 32 bits and reordered 16-bit words, which the ones'-complement sum misses.
//
// Computed "slicing-by-8" (Kounavis and Berry, "A Systematic Approach to Building High
// Performance Software-based CRC Generators", ISCC 2005): eight 256-entry tables, where
// table k gives the CRC of a byte followed by k zero bytes, let one round fold eight input
// bytes with eight lookups and no per-byte shift chain. Under TCG it takes about a third of
// the time of the byte-at-a-time table loop over a 4 KiB page (docs/bench-rpc.md), and a
// page is checksummed four times per round trip. Lengths not a multiple of 8 finish byte
// by byte with table 0, which is the classic table. Reads the input as little-endian
// 64-bit words: x86-64 (the kernels) and every host the tests run on.
// Pure logic: compiled into the kernels and the host tests.
using System;

namespace Tessera.Core.Rpc
{
    public static unsafe class Crc32c
    {
        private const uint Polynomial = 0x82F63B78u;

        // Table k at [k * 256, k * 256 + 256).
        private static readonly uint[] s_tables = BuildTables();

        private static uint[] BuildTables()
        {
            var tables = new uint[8 * 256];
            for (uint i = 0; i < 256; i++)
            {
                uint c = i;
                for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? Polynomial ^ (c >> 1) : c >> 1;
                tables[i] = c;
            }
            // One more zero byte after table k-1's: shift it through table 0.
            for (int k = 1; k < 8; k++)
                for (int i = 0; i < 256; i++)
                {
                    uint previous = tables[(k - 1) * 256 + i];
                    tables[k * 256 + i] = (previous >> 8) ^ tables[previous & 0xFF];
                }
            return tables;
        }

        /// <summary>Continues a CRC over more bytes (start with Begin, finish with End).</summary>
        public static uint Update(uint crc, ReadOnlySpan<byte> data)
        {
            int length = data.Length;
            if (length == 0) return crc;
            fixed (uint* t = s_tables)
            fixed (byte* bytes = data)
            {
                byte* p = bytes;
                byte* end8 = bytes + (length & ~7);
                for (; p < end8; p += 8)
                {
                    ulong word = *(ulong*)p;
                    uint low = (uint)word ^ crc;
                    uint high = (uint)(word >> 32);
                    crc = t[7 * 256 + (low & 0xFF)] ^ t[6 * 256 + ((low >> 8) & 0xFF)]
                        ^ t[5 * 256 + ((low >> 16) & 0xFF)] ^ t[4 * 256 + (low >> 24)]
                        ^ t[3 * 256 + (high & 0xFF)] ^ t[2 * 256 + ((high >> 8) & 0xFF)]
                        ^ t[1 * 256 + ((high >> 16) & 0xFF)] ^ t[high >> 24];
                }
                byte* end = bytes + length;
                for (; p < end; p++) crc = t[(crc ^ *p) & 0xFF] ^ (crc >> 8);
            }
            return crc;
        }

        /// <summary>The same CRC one byte at a time with table 0: the reference Update is tested against.</summary>
        public static uint UpdateBytewise(uint crc, ReadOnlySpan<byte> data)
        {
            uint[] table = s_tables;
            for (int i = 0; i < data.Length; i++) crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
            return crc;
        }

        public const uint Begin = 0xFFFFFFFF;
        public static uint End(uint crc) => ~crc;

        public static uint Compute(ReadOnlySpan<byte> data) => End(Update(Begin, data));
    }
}
