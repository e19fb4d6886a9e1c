// Base address registers (PCI Local Bus Spec 3.0 §6.2.5.1). Bit 0 tells I/O (1) from
// memory (0). A memory BAR's bits 2:1 give its width (00 = 32-bit, 10 = 64-bit, the
// next register holding the high half; 01 = below 1 MiB, legacy) and bit 3 says
// prefetchable. The size is found by writing all ones and reading back: the bits the
// device keeps at zero are the size's alignment, so the size is the lowest address
// bit that reads back as one. Pure logic, host-tested.
namespace Tessera.Drivers.Pci
{
    public enum PciBarKind : byte { None, Io, Memory32, Memory64 }

    public struct PciBar
    {
        public int Index;
        public PciBarKind Kind;
        public bool Prefetchable;
        /// <summary>Bus address the firmware (or the kernel) assigned; 0 when unassigned.</summary>
        public ulong Address;
        /// <summary>Bytes the BAR decodes; 0 when the BAR is not implemented.</summary>
        public ulong Size;

        public bool IsMemory => Kind == PciBarKind.Memory32 || Kind == PciBarKind.Memory64;
        public bool IsPresent => Kind != PciBarKind.None && Size != 0;

        private const uint IoSpaceBit = 0x1, MemoryTypeMask = 0x6, MemoryType64 = 0x4, PrefetchableBit = 0x8;
        private const uint IoAddressMask = 0xFFFFFFFC, MemoryAddressMask = 0xFFFFFFF0;

        /// <summary>True when this raw BAR value is the low half of a 64-bit memory BAR.</summary>
        public static bool IsLowHalfOf64(uint raw) => (raw & IoSpaceBit) == 0 && (raw & MemoryTypeMask) == MemoryType64;

        /// <summary>
        /// Decodes one BAR from its value (original) and what it read back after all ones
        /// were written (sized); for a 64-bit BAR also the next register's two values.
        /// </summary>
        public static PciBar Decode(int index, uint original, uint sized, uint originalHigh = 0, uint sizedHigh = 0)
        {
            var bar = new PciBar { Index = index };
            if ((original & IoSpaceBit) != 0)
            {
                // I/O decoders may implement only 16 address bits; the upper ones then read 0.
                uint mask = sized & IoAddressMask;
                if (mask == 0) return bar;
                bar.Kind = PciBarKind.Io;
                bar.Address = original & IoAddressMask;
                bar.Size = LowestSetBit(mask);
                return bar;
            }
            bar.Prefetchable = (original & PrefetchableBit) != 0;
            if ((original & MemoryTypeMask) == MemoryType64)
            {
                ulong mask64 = ((ulong)sizedHigh << 32) | (sized & MemoryAddressMask);
                if (mask64 == 0) return bar;
                bar.Kind = PciBarKind.Memory64;
                bar.Address = ((ulong)originalHigh << 32) | (original & MemoryAddressMask);
                bar.Size = LowestSetBit(mask64);
                return bar;
            }
            uint mask32 = sized & MemoryAddressMask;
            if (mask32 == 0) return bar;
            bar.Kind = PciBarKind.Memory32;
            bar.Address = original & MemoryAddressMask;
            bar.Size = LowestSetBit(mask32);
            return bar;
        }

        private static ulong LowestSetBit(ulong value) => value & (~value + 1);
    }
}
