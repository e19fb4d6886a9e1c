// Offsets and bits of the PCI configuration header (PCI Local Bus Spec 3.0 §6.1,
// §6.2; PCI-to-PCI Bridge Architecture Spec 1.2 §3.2 for header type 1).
namespace Tessera.Drivers.Pci
{
    public static class PciRegisters
    {
        public const int VendorId = 0x00, DeviceId = 0x02, Command = 0x04, Status = 0x06;
        public const int Revision = 0x08, ProgIf = 0x09, Subclass = 0x0A, ClassCode = 0x0B;
        public const int HeaderType = 0x0E, Bar0 = 0x10, CapabilitiesPointer = 0x34;
        public const int InterruptLine = 0x3C, InterruptPin = 0x3D;
        // Header type 1 (PCI-to-PCI bridge).
        public const int PrimaryBus = 0x18, SecondaryBus = 0x19, SubordinateBus = 0x1A;

        public const ushort NoVendor = 0xFFFF;

        // Command register (§6.2.2).
        public const ushort CommandIoSpace = 1 << 0, CommandMemorySpace = 1 << 1, CommandBusMaster = 1 << 2;
        public const ushort CommandInterruptDisable = 1 << 10;

        // Status register (§6.2.3): bit 4 says a capability list exists (at 0x34).
        public const ushort StatusCapabilitiesList = 1 << 4;

        // Header type register: layout in bits 6:0, multi-function device in bit 7.
        public const byte HeaderLayoutMask = 0x7F, HeaderMultiFunction = 0x80;
        public const byte HeaderGeneral = 0x00, HeaderPciBridge = 0x01, HeaderCardBusBridge = 0x02;

        public const byte ClassBridge = 0x06, SubclassHostBridge = 0x00, SubclassPciBridge = 0x04;

        // Capability IDs (PCI Code and ID Assignment Spec §2).
        public const byte CapabilityPowerManagement = 0x01, CapabilityMsi = 0x05, CapabilityVendor = 0x09;
        public const byte CapabilityPciExpress = 0x10, CapabilityMsiX = 0x11;
    }
}
