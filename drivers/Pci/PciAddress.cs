// Where a PCI function sits: bus (0-255), device (0-31), function (0-7). Pure logic,
// host-tested.
namespace Tessera.Drivers.Pci
{
    public readonly struct PciAddress
    {
        public readonly byte Bus;
        public readonly byte Device;
        public readonly byte Function;

        public PciAddress(int bus, int device, int function)
        {
            Bus = (byte)bus;
            Device = (byte)(device & 0x1F);
            Function = (byte)(function & 0x7);
        }

        /// <summary>
        /// The CONFIG_ADDRESS value of configuration mechanism #1 (PCI Local Bus Spec 3.0
        /// §3.2.2.3.2): enable bit 31, bus 23:16, device 15:11, function 10:8, register 7:2.
        /// </summary>
        public uint ConfigAddress(int offset) =>
            0x80000000u | ((uint)Bus << 16) | ((uint)Device << 11) | ((uint)Function << 8) | ((uint)offset & 0xFC);

        public bool Equals(PciAddress other) => Bus == other.Bus && Device == other.Device && Function == other.Function;

        /// <summary>bb:dd.f in hexadecimal, as lspci prints it.</summary>
        public void Format(System.Span<char> into)
        {
            into[0] = Hex(Bus >> 4); into[1] = Hex(Bus); into[2] = ':';
            into[3] = Hex(Device >> 4); into[4] = Hex(Device); into[5] = '.';
            into[6] = Hex(Function);
        }

        public const int FormattedLength = 7;

        private static char Hex(int value)
        {
            int nibble = value & 0xF;
            return (char)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);
        }
    }
}
