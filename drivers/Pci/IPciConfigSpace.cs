// Access to PCI configuration space. The kernel's implementation is configuration
// mechanism #1 (PciConfigPorts.cs); host tests supply an in-memory one. Accesses are
// naturally aligned: a 16-bit access at an even offset, 32-bit at a multiple of 4.
// A function that does not exist reads as all ones (PCI Local Bus Spec 3.0 §6.1).
namespace Tessera.Drivers.Pci
{
    public interface IPciConfigSpace
    {
        byte Read8(PciAddress function, int offset);
        ushort Read16(PciAddress function, int offset);
        uint Read32(PciAddress function, int offset);
        void Write8(PciAddress function, int offset, byte value);
        void Write16(PciAddress function, int offset, ushort value);
        void Write32(PciAddress function, int offset, uint value);
    }
}
