// Short names of PCI class codes (PCI Code and ID Assignment Spec 1.11 §1), for the
// boot listing. Pure logic, host-tested.
namespace Tessera.Drivers.Pci
{
    public static class PciClassNames
    {
        public static string Describe(byte classCode, byte subclass, byte progIf)
        {
            switch (classCode)
            {
                case 0x00: return subclass == 0x01 ? "VGA-compatible (pre-2.0)" : "unclassified";
                case 0x01:
                    switch (subclass)
                    {
                        case 0x00: return "SCSI storage";
                        case 0x01: return "IDE controller";
                        case 0x05: return "ATA controller";
                        case 0x06: return progIf == 0x01 ? "SATA controller (AHCI)" : "SATA controller";
                        case 0x07: return "SAS controller";
                        case 0x08: return progIf == 0x02 ? "NVMe controller" : "non-volatile memory controller";
                        default: return "storage controller";
                    }
                case 0x02: return subclass == 0x00 ? "Ethernet controller" : "network controller";
                case 0x03: return subclass == 0x00 ? "VGA controller" : "display controller";
                case 0x04: return subclass == 0x03 ? "audio device" : "multimedia controller";
                case 0x05: return "memory controller";
                case 0x06:
                    switch (subclass)
                    {
                        case 0x00: return "host bridge";
                        case 0x01: return "ISA bridge";
                        case 0x02: return "EISA bridge";
                        case 0x04: return "PCI bridge";
                        case 0x07: return "CardBus bridge";
                        default: return "bridge";
                    }
                case 0x07: return subclass == 0x00 ? "serial controller" : "communication controller";
                case 0x08: return "system peripheral";
                case 0x09: return "input device";
                case 0x0C:
                    switch (subclass)
                    {
                        case 0x03: return "USB controller";
                        case 0x05: return "SMBus controller";
                        default: return "serial bus controller";
                    }
                case 0x0D: return "wireless controller";
                case 0xFF: return "unassigned class";
                default: return "other";
            }
        }
    }
}
