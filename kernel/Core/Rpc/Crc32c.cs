// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every RPC
// message. Chosen over the Internet checksum because it catches all burst errors up to
// 32 bits and reordered 16-bit words, which the ones'-complement sum misses.
// Pure logic: compiled into the kernels and the host tests.
using System;

namespace Tessera.Core.Rpc
{
    public static class Crc32c
    {
        private static readonly uint[] s_table = BuildTable();

        private static uint[] BuildTable()
        {
            var table = new uint[256];
            for (uint i = 0; i < 256; i++)
            {
                uint c = i;
                for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0x82F63B78u ^ (c >> 1) : c >> 1;
                table[i] = c;
            }
            return table;
        }

        /// <summary>Continues a CRC over more bytes (start with Begin, finish with End).</summary>
        public static uint Update(uint crc, ReadOnlySpan<byte> data)
        {
            uint[] table = s_table;
            for (int i = 0; i < data.Length; i++) crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
            return crc;
        }

        public const uint Begin = 0xFFFFFFFF;
        public static uint End(uint crc) => ~crc;

        public static uint Compute(ReadOnlySpan<byte> data) => End(Update(Begin, data));
    }
}
