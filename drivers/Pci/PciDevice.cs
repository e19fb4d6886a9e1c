// One PCI function as enumeration found it: identity, class, header, interrupt
// routing and BARs, plus the operations a driver needs on it (decoding, bus
// mastering, capabilities). Pure logic over IPciConfigSpace, host-tested.
namespace Tessera.Drivers.Pci
{
    public sealed class PciDevice
    {
        public readonly IPciConfigSpace Config;
        public readonly PciAddress Address;
        public ushort VendorId, DeviceId;
        public byte ClassCode, Subclass, ProgIf, Revision;
        /// <summary>Header layout (0 general, 1 PCI-to-PCI bridge, 2 CardBus bridge).</summary>
        public byte HeaderLayout;
        public bool IsMultiFunction;
        /// <summary>Legacy INTx routing: the line the firmware wrote (0xFF: none) and the pin (0: none, 1-4: INTA#-INTD#).</summary>
        public byte InterruptLine, InterruptPin;
        /// <summary>For bridges: the buses behind it.</summary>
        public byte SecondaryBus, SubordinateBus;
        public PciBar[] Bars = new PciBar[0];

        public PciDevice(IPciConfigSpace config, PciAddress address)
        {
            Config = config;
            Address = address;
        }

        /// <summary>Reads the identity and header registers (not the BARs: see ProbeBars).</summary>
        public static PciDevice Read(IPciConfigSpace config, PciAddress address)
        {
            var d = new PciDevice(config, address);
            d.VendorId = config.Read16(address, PciRegisters.VendorId);
            d.DeviceId = config.Read16(address, PciRegisters.DeviceId);
            d.Revision = config.Read8(address, PciRegisters.Revision);
            d.ProgIf = config.Read8(address, PciRegisters.ProgIf);
            d.Subclass = config.Read8(address, PciRegisters.Subclass);
            d.ClassCode = config.Read8(address, PciRegisters.ClassCode);
            byte header = config.Read8(address, PciRegisters.HeaderType);
            d.HeaderLayout = (byte)(header & PciRegisters.HeaderLayoutMask);
            d.IsMultiFunction = (header & PciRegisters.HeaderMultiFunction) != 0;
            d.InterruptLine = config.Read8(address, PciRegisters.InterruptLine);
            d.InterruptPin = config.Read8(address, PciRegisters.InterruptPin);
            if (d.HeaderLayout == PciRegisters.HeaderPciBridge)
            {
                d.SecondaryBus = config.Read8(address, PciRegisters.SecondaryBus);
                d.SubordinateBus = config.Read8(address, PciRegisters.SubordinateBus);
            }
            return d;
        }

        public bool IsBridge => HeaderLayout == PciRegisters.HeaderPciBridge;
        public bool IsHostBridge => ClassCode == PciRegisters.ClassBridge && Subclass == PciRegisters.SubclassHostBridge;

        /// <summary>Number of BAR registers in this header layout (6 general, 2 bridge, 0 otherwise).</summary>
        public int BarRegisterCount => HeaderLayout == PciRegisters.HeaderGeneral ? 6 : HeaderLayout == PciRegisters.HeaderPciBridge ? 2 : 0;

        public ushort Command
        {
            get => Config.Read16(Address, PciRegisters.Command);
            set => Config.Write16(Address, PciRegisters.Command, value);
        }

        public ushort Status => Config.Read16(Address, PciRegisters.Status);

        /// <summary>
        /// Sizes every BAR by the all-ones probe (§6.2.5.1) and fills Bars. Decoding is
        /// off while a BAR holds all ones, so the device never answers at the bogus
        /// address; the command register and every BAR are restored afterwards. Host
        /// bridges keep decoding on, as Linux does (pci_setup_device marks them
        /// mmio_always_on): some stop answering their own registers otherwise.
        /// </summary>
        public void ProbeBars()
        {
            int count = BarRegisterCount;
            var bars = new PciBar[count];
            int found = 0;
            ushort command = Command;
            bool disable = !IsHostBridge && (command & (PciRegisters.CommandIoSpace | PciRegisters.CommandMemorySpace)) != 0;
            if (disable) Command = (ushort)(command & ~(PciRegisters.CommandIoSpace | PciRegisters.CommandMemorySpace));
            for (int i = 0; i < count; i++)
            {
                int register = PciRegisters.Bar0 + 4 * i;
                uint original = Config.Read32(Address, register);
                uint sized = SizeRegister(register, original);
                if (PciBar.IsLowHalfOf64(original) && i + 1 < count)
                {
                    uint originalHigh = Config.Read32(Address, register + 4);
                    uint sizedHigh = SizeRegister(register + 4, originalHigh);
                    bars[found++] = PciBar.Decode(i, original, sized, originalHigh, sizedHigh);
                    i++; // the high half is not a BAR of its own
                    continue;
                }
                bars[found++] = PciBar.Decode(i, original, sized);
            }
            if (disable) Command = command;
            if (found < count)
            {
                var trimmed = new PciBar[found];
                for (int i = 0; i < found; i++) trimmed[i] = bars[i];
                bars = trimmed;
            }
            Bars = bars;
        }

        private uint SizeRegister(int register, uint original)
        {
            Config.Write32(Address, register, 0xFFFFFFFF);
            uint sized = Config.Read32(Address, register);
            Config.Write32(Address, register, original);
            return sized;
        }

        /// <summary>The BAR whose register index is `index` (a 64-bit BAR answers for its low register), or a None BAR.</summary>
        public PciBar Bar(int index)
        {
            for (int i = 0; i < Bars.Length; i++) if (Bars[i].Index == index) return Bars[i];
            return new PciBar { Index = index };
        }

        public void EnableIoSpace() => Command = (ushort)(Command | PciRegisters.CommandIoSpace);
        public void EnableMemorySpace() => Command = (ushort)(Command | PciRegisters.CommandMemorySpace);

        /// <summary>Lets the device master the bus: required for DMA and for MSI/MSI-X writes.</summary>
        public void EnableBusMastering() => Command = (ushort)(Command | PciRegisters.CommandBusMaster);

        /// <summary>Masks (true) or unmasks the legacy INTx pin (command bit 10, §6.2.2).</summary>
        public void SetLegacyInterruptDisabled(bool disabled) =>
            Command = disabled ? (ushort)(Command | PciRegisters.CommandInterruptDisable) : (ushort)(Command & ~PciRegisters.CommandInterruptDisable);

        public bool HasLegacyInterrupt => InterruptPin >= 1 && InterruptPin <= 4;

        public int FindCapability(byte id, int after = 0) => PciCapabilities.Find(Config, Address, id, after);
    }
}
