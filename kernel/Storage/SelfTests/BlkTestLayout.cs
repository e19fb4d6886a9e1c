// The scratch disk of the virtio-blk boot tests (tests/Tessera.Tests/Boot/VirtioBlkTests.cs):
// which sectors the host fills before boot, which the kernel's blk self-tests write, and
// what goes in them. The host checks the image byte for byte after the run, so both sides
// use this one description. Pure logic: compiled into the storage kernel and the host tests.
//
// Every patterned sector is unique, so a sector read from or written to the wrong place shows:
//   bytes 0..7    the sector's number, little-endian
//   bytes 8..15   "TSRAHOST" (written by the host) or "TSRAKERN" (written by the kernel)
//   bytes 16..511 (i * 7 + sector * 13 + (sector >> 8) * 29 + seed) mod 256, seed 0x11 host, 0x5A kernel
//
// Host sectors (read by blk.host-pattern): 1, 7, capacity/2 + 3, capacity - 2.
// Kernel sectors (everything else stays as the host left it, zero):
//   blk.first-middle-last  0, capacity/2, capacity - 1
//   blk.in-flight          16 blocks of 8 sectors at 64 + 16 k (k = 0..15)
//   blk.large-transfer     389 sectors from 1001 (more than three 64 KiB requests)
// The disk must have at least MinimumSectors (4 MiB), so the regions never meet.
using System;

namespace Tessera.Storage
{
    public enum BlkPatternOrigin { Host, Kernel }

    public static class BlkTestLayout
    {
        public const int SectorSize = 512;
        public const ulong MinimumSectors = 8192;

        public const int HostSectorCount = 4;
        public static ulong HostSector(ulong capacity, int index) =>
            index == 0 ? 1 : index == 1 ? 7 : index == 2 ? capacity / 2 + 3 : capacity - 2;

        public const int EndSectorCount = 3;
        public static ulong EndSector(ulong capacity, int index) =>
            index == 0 ? 0 : index == 1 ? capacity / 2 : capacity - 1;

        public const int InFlightBlocks = 16;
        public const int InFlightBlockSectors = 8;
        public static ulong InFlightSector(int block) => 64 + 16 * (ulong)block;

        public const ulong LargeStart = 1001;
        public const int LargeSectors = 389;

        /// <summary>Fills one 512-byte sector's worth of destination with the pattern of sector number.</summary>
        public static void Fill(Span<byte> destination, ulong number, BlkPatternOrigin origin)
        {
            for (int i = 0; i < SectorSize; i++) destination[i] = Expected(number, origin, i);
        }

        /// <summary>Fills consecutive sectors from first on (destination.Length / 512 of them).</summary>
        public static void FillRun(Span<byte> destination, ulong first, BlkPatternOrigin origin)
        {
            for (int s = 0; s < destination.Length / SectorSize; s++)
                Fill(destination.Slice(s * SectorSize, SectorSize), first + (ulong)s, origin);
        }

        /// <summary>True when sector (512 bytes) holds the pattern of sector number.</summary>
        public static bool Matches(ReadOnlySpan<byte> sector, ulong number, BlkPatternOrigin origin)
        {
            for (int i = 0; i < SectorSize; i++)
                if (sector[i] != Expected(number, origin, i)) return false;
            return true;
        }

        /// <summary>The first sector of a run from first on that does not hold its pattern; -1 when all do.</summary>
        public static long FirstMismatch(ReadOnlySpan<byte> run, ulong first, BlkPatternOrigin origin)
        {
            for (int s = 0; s < run.Length / SectorSize; s++)
                if (!Matches(run.Slice(s * SectorSize, SectorSize), first + (ulong)s, origin)) return s;
            return -1;
        }

        public static byte Expected(ulong number, BlkPatternOrigin origin, int i)
        {
            if (i < 8) return (byte)(number >> (8 * i));
            if (i < 16) return (byte)(origin == BlkPatternOrigin.Host ? "TSRAHOST"[i - 8] : "TSRAKERN"[i - 8]);
            ulong seed = origin == BlkPatternOrigin.Host ? 0x11UL : 0x5AUL;
            return (byte)((ulong)i * 7 + number * 13 + (number >> 8) * 29 + seed);
        }
    }
}
