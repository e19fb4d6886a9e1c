// Self-tests of PCI (drivers/Pci) against QEMU's `pc` machine (i440FX + PIIX3):
// host bridge 8086:1237 at 00:00.0, ISA bridge 8086:7000 at 00:01.0 (multi-function,
// its IDE controller 8086:7010 at 00:01.1 with the bus-master I/O BAR 4).
using Tessera.Drivers.Pci;

namespace Tessera.Core
{
    internal sealed class PciEnumerationSelfTest : SelfTestCase
    {
        public override string Name => "pci.enumeration";

        public override string? Run()
        {
            if (!Pci.Initialized) return "PCI was not enumerated at boot";
            PciDevice? host = Pci.Find(0x8086, 0x1237);
            if (host is null) return "no i440FX host bridge 8086:1237";
            if (!host.Address.Equals(new PciAddress(0, 0, 0))) return "host bridge not at 00:00.0";
            if (!host.IsHostBridge) return "8086:1237 not classed as a host bridge (06/00)";
            PciDevice? isa = Pci.Find(0x8086, 0x7000);
            if (isa is null) return "no PIIX3 ISA bridge 8086:7000";
            if (isa.ClassCode != 0x06 || isa.Subclass != 0x01) return "8086:7000 not classed as an ISA bridge (06/01)";
            if (!isa.IsMultiFunction) return "PIIX3 not multi-function";
            // Its other functions were found because of the multi-function bit.
            PciDevice? ide = Pci.Find(0x8086, 0x7010);
            if (ide is null || ide.Address.Device != isa.Address.Device || ide.Address.Function != 1) return "PIIX3 IDE function not found at function 1";
            for (int i = 0; i < Pci.Devices.Length; i++)
            {
                PciDevice d = Pci.Devices[i];
                uint id = PciConfigPorts.Instance.Read32(d.Address, PciRegisters.VendorId);
                if (id != (d.VendorId | (uint)d.DeviceId << 16)) return "32-bit and 16-bit config reads disagree";
                for (int j = 0; j < i; j++) if (Pci.Devices[j].Address.Equals(d.Address)) return "a function was listed twice";
            }
            // A device number nobody uses reads as all ones.
            if (PciConfigPorts.Instance.Read16(new PciAddress(0, 31, 7), PciRegisters.VendorId) != PciRegisters.NoVendor)
                return "absent function did not read 0xFFFF";
            return null;
        }
    }

    internal sealed class PciBarSelfTest : SelfTestCase
    {
        public override string Name => "pci.bars";

        public override string? Run()
        {
            PciDevice? ide = Pci.Find(0x8086, 0x7010);
            if (ide is null) return "no PIIX3 IDE controller";
            PciBar busMaster = ide.Bar(4);
            if (busMaster.Kind != PciBarKind.Io) return "IDE BAR 4 is not an I/O BAR";
            if (busMaster.Size != 16) return "IDE BAR 4 is not 16 ports";
            if (busMaster.Address == 0 || busMaster.Address > 0xFFFF) return "IDE BAR 4 has no plausible I/O address";

            // Probing again must find the same and leave the registers as they were.
            var config = PciConfigPorts.Instance;
            uint rawBefore = config.Read32(ide.Address, PciRegisters.Bar0 + 16);
            ushort commandBefore = ide.Command;
            ide.ProbeBars();
            if (config.Read32(ide.Address, PciRegisters.Bar0 + 16) != rawBefore) return "probe did not restore BAR 4";
            if (ide.Command != commandBefore) return "probe did not restore the command register";
            PciBar again = ide.Bar(4);
            if (again.Kind != busMaster.Kind || again.Address != busMaster.Address || again.Size != busMaster.Size) return "second probe disagrees";

            // Bus mastering and the INTx mask are plain command bits: set, read back, restore.
            ide.EnableBusMastering();
            bool master = (ide.Command & PciRegisters.CommandBusMaster) != 0;
            ide.SetLegacyInterruptDisabled(true);
            bool masked = (ide.Command & PciRegisters.CommandInterruptDisable) != 0;
            ide.Command = commandBefore;
            if (!master) return "bus mastering did not stick";
            if (!masked) return "INTx disable did not stick";
            return null;
        }
    }

    /// <summary>
    /// Programs MSI-X entries of every function that has the capability and reads them
    /// back; interrupts are not delivered (no entry is unmasked while MSI-X is on).
    /// The default machine has no such function; the boot test with virtio devices
    /// (tests/Tessera.Tests/Boot/PciBootTests.cs) adds `pci-expect-msix`, which makes
    /// finding none a failure.
    /// </summary>
    internal sealed unsafe class PciMsiXSelfTest : SelfTestCase
    {
        public override string Name => "pci.msi-x";

        public override string? Run()
        {
            int tested = 0;
            for (int i = 0; i < Pci.Devices.Length; i++)
            {
                PciDevice d = Pci.Devices[i];
                MsiXCapability cap = MsiXCapability.Read(d);
                if (!cap.IsPresent) continue;
                string? failure = Exercise(d, cap);
                if (failure != null) return failure;
                tested++;
            }
            // The default machine has no MSI-X function, so the test can only insist on one
            // when told there is one: `pci-expect-msix` on the command line.
            if (tested == 0 && KernelMain.CommandLine.Has("pci-expect-msix")) return "pci-expect-msix given, but no function has MSI-X";
            return null;
        }

        private static string? Exercise(PciDevice d, MsiXCapability cap)
        {
            if (cap.TableSize < 1 || cap.TableSize > 2048) return "MSI-X table size out of range";
            if (cap.TableBar > 5 || (cap.TableOffset & 7) != 0) return "MSI-X table BAR or offset malformed";
            PciBar bar = d.Bar(cap.TableBar);
            if (!bar.IsMemory) return "MSI-X table BAR is not a memory BAR";
            ushort command = d.Command;
            MsiXTable? table = Pci.MapMsiXTable(d, cap);
            if (table is null) return "MSI-X table could not be mapped";

            // Every entry: remember it, point it at (APIC 0, vector 0x40 + n) masked, read back, restore.
            for (int n = 0; n < table.Size; n++)
            {
                MsiMessage saved = table.ReadMessage(n);
                bool savedMask = table.IsMasked(n);
                var message = MsiMessage.Fixed(0, (byte)(0x40 + n % 0xB0));
                table.Program(n, message, unmask: false);
                MsiMessage back = table.ReadMessage(n);
                bool stayedMasked = table.IsMasked(n);
                table.Program(n, saved, unmask: false);
                table.SetMasked(n, savedMask);
                if (back.Address != 0xFEE00000 || back.Data != message.Data) return "MSI-X entry did not read back";
                if (!stayedMasked) return "MSI-X entry not masked while programmed";
            }

            // Enable with the function mask held, read the control register back, restore.
            ushort control = MsiXCapability.ReadControl(d, cap.Offset);
            cap.SetEnabled(d, enabled: true, functionMasked: true);
            ushort enabled = MsiXCapability.ReadControl(d, cap.Offset);
            d.Config.Write16(d.Address, cap.Offset + MsiXCapability.MessageControl, control);
            d.Command = command;
            if ((enabled & MsiXCapability.EnableBit) == 0 || (enabled & MsiXCapability.FunctionMaskBit) == 0) return "MSI-X enable or function mask did not stick";
            if (MsiXCapability.ReadControl(d, cap.Offset) != control) return "MSI-X control not restored";
            return null;
        }
    }
}
