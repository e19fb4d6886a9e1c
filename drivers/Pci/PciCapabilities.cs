// The capability list (PCI Local Bus Spec 3.0 §6.7): when status bit 4 is set, the
// byte at 0x34 points at the first capability; each starts with its ID and the offset
// of the next (0 ends the list). Offsets lie in the device-specific area 0x40-0xFF and
// their low two bits are reserved (masked off). A broken device could link the list
// into a loop, so a walk stops after the most capabilities that fit (48). Pure logic,
// host-tested.
namespace Tessera.Drivers.Pci
{
    public static class PciCapabilities
    {
        public const int MaxCapabilities = (256 - 0x40) / 4;

        /// <summary>Offset of the first capability, or 0 when the function has none.</summary>
        public static int First(IPciConfigSpace config, PciAddress function)
        {
            if ((config.Read16(function, PciRegisters.Status) & PciRegisters.StatusCapabilitiesList) == 0) return 0;
            return Valid(config.Read8(function, PciRegisters.CapabilitiesPointer));
        }

        /// <summary>Offset of the capability after the one at offset, or 0 at the end.</summary>
        public static int Next(IPciConfigSpace config, PciAddress function, int offset) =>
            Valid(config.Read8(function, offset + 1));

        public static byte IdAt(IPciConfigSpace config, PciAddress function, int offset) => config.Read8(function, offset);

        /// <summary>Offset of the first capability with this ID after `after` (0: from the start), or 0.</summary>
        public static int Find(IPciConfigSpace config, PciAddress function, byte id, int after = 0)
        {
            int offset = First(config, function);
            bool passed = after == 0;
            for (int seen = 0; offset != 0 && seen < MaxCapabilities; seen++)
            {
                if (passed && IdAt(config, function, offset) == id) return offset;
                if (offset == after) passed = true;
                offset = Next(config, function, offset);
            }
            return 0;
        }

        /// <summary>Copies the capability IDs and offsets into the spans; returns how many there are.</summary>
        public static int List(IPciConfigSpace config, PciAddress function, System.Span<byte> ids, System.Span<byte> offsets)
        {
            int offset = First(config, function), count = 0;
            for (; offset != 0 && count < MaxCapabilities; count++)
            {
                if (count < ids.Length) ids[count] = IdAt(config, function, offset);
                if (count < offsets.Length) offsets[count] = (byte)offset;
                offset = Next(config, function, offset);
            }
            return count;
        }

        private static int Valid(byte pointer)
        {
            int offset = pointer & 0xFC;
            return offset >= 0x40 ? offset : 0;
        }
    }
}
