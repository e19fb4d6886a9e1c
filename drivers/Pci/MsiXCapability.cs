// The MSI-X capability (PCI Local Bus Spec 3.0 §6.8.2): capability ID 0x11, then
//   +2 Message Control: table size - 1 in bits 10:0, function mask bit 14, enable bit 15
//   +4 Table Offset/BIR: BAR index in bits 2:0, offset into that BAR in bits 31:3
//   +8 PBA Offset/BIR: the same for the pending-bit array.
// Pure logic over IPciConfigSpace, host-tested.
namespace Tessera.Drivers.Pci
{
    public struct MsiXCapability
    {
        /// <summary>Offset of the capability in configuration space (0: the function has none).</summary>
        public int Offset;
        public int TableSize;
        public int TableBar;
        public uint TableOffset;
        public int PendingBitArrayBar;
        public uint PendingBitArrayOffset;

        public const int MessageControl = 2, TableRegister = 4, PendingBitArrayRegister = 8;
        public const ushort TableSizeMask = 0x07FF, FunctionMaskBit = 1 << 14, EnableBit = 1 << 15;
        private const uint BarIndexMask = 0x7;

        public bool IsPresent => Offset != 0;

        /// <summary>Finds and reads the function's MSI-X capability; IsPresent is false when it has none.</summary>
        public static MsiXCapability Read(PciDevice device)
        {
            var cap = new MsiXCapability();
            int offset = device.FindCapability(PciRegisters.CapabilityMsiX);
            if (offset == 0) return cap;
            cap.Offset = offset;
            ushort control = device.Config.Read16(device.Address, offset + MessageControl);
            cap.TableSize = (control & TableSizeMask) + 1;
            uint table = device.Config.Read32(device.Address, offset + TableRegister);
            cap.TableBar = (int)(table & BarIndexMask);
            cap.TableOffset = table & ~BarIndexMask;
            uint pba = device.Config.Read32(device.Address, offset + PendingBitArrayRegister);
            cap.PendingBitArrayBar = (int)(pba & BarIndexMask);
            cap.PendingBitArrayOffset = pba & ~BarIndexMask;
            return cap;
        }

        /// <summary>Bytes of the vector table: 16 per entry.</summary>
        public ulong TableBytes => (ulong)TableSize * MsiXTable.EntryBytes;

        public static ushort ReadControl(PciDevice device, int offset) => device.Config.Read16(device.Address, offset + MessageControl);

        /// <summary>
        /// Turns MSI-X on or off. While on, the function signals only through its table
        /// (never INTx); the function mask holds every vector back at once.
        /// </summary>
        public void SetEnabled(PciDevice device, bool enabled, bool functionMasked)
        {
            ushort control = ReadControl(device, Offset);
            control = (ushort)(control & ~(EnableBit | FunctionMaskBit));
            if (enabled) control |= EnableBit;
            if (functionMasked) control |= FunctionMaskBit;
            device.Config.Write16(device.Address, Offset + MessageControl, control);
        }
    }
}
