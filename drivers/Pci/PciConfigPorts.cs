// PCI configuration mechanism #1 (PCI Local Bus Spec 3.0 §3.2.2.3.2): write the
// function and register to CONFIG_ADDRESS (port 0xCF8, 32-bit), then move data
// through CONFIG_DATA (ports 0xCFC-0xCFF; a byte or word access at 0xCFC + the low
// offset bits reaches that part of the register). The two steps must not be split by
// another access, so interrupts are off between them. Only one CPU runs the kernel
// yet; with more, this needs a spinlock around the pair as well.
using Tessera.Core;

namespace Tessera.Drivers.Pci
{
    public sealed class PciConfigPorts : IPciConfigSpace
    {
        private const ushort ConfigAddressPort = 0xCF8, ConfigDataPort = 0xCFC;
        private const ulong InterruptFlag = 1 << 9; // RFLAGS.IF

        public static readonly PciConfigPorts Instance = new PciConfigPorts();

        private static ulong Select(PciAddress function, int offset)
        {
            ulong flags = Cpu.ReadFlags();
            Cpu.DisableInterrupts();
            Cpu.OutDword(ConfigAddressPort, function.ConfigAddress(offset));
            return flags;
        }

        private static void Done(ulong flags)
        {
            if ((flags & InterruptFlag) != 0) Cpu.EnableInterrupts();
        }

        public byte Read8(PciAddress function, int offset)
        {
            ulong flags = Select(function, offset);
            byte value = Cpu.InByte((ushort)(ConfigDataPort + (offset & 3)));
            Done(flags);
            return value;
        }

        public ushort Read16(PciAddress function, int offset)
        {
            ulong flags = Select(function, offset);
            ushort value = Cpu.InWord((ushort)(ConfigDataPort + (offset & 2)));
            Done(flags);
            return value;
        }

        public uint Read32(PciAddress function, int offset)
        {
            ulong flags = Select(function, offset);
            uint value = Cpu.InDword(ConfigDataPort);
            Done(flags);
            return value;
        }

        public void Write8(PciAddress function, int offset, byte value)
        {
            ulong flags = Select(function, offset);
            Cpu.OutByte((ushort)(ConfigDataPort + (offset & 3)), value);
            Done(flags);
        }

        public void Write16(PciAddress function, int offset, ushort value)
        {
            ulong flags = Select(function, offset);
            Cpu.OutWord((ushort)(ConfigDataPort + (offset & 2)), value);
            Done(flags);
        }

        public void Write32(PciAddress function, int offset, uint value)
        {
            ulong flags = Select(function, offset);
            Cpu.OutDword(ConfigDataPort, value);
            Done(flags);
        }
    }
}
