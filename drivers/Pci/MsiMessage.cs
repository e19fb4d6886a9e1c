// What a message-signalled interrupt writes: an address in the local APIC's window
// and a data word (Intel SDM Vol. 3A, "Message Signalled Interrupts", §11.11 in the
// 2023 edition). Address: 0xFEE00000 | destination APIC ID << 12, with redirection
// hint (bit 3) and destination mode (bit 2) zero: physical destination, exactly that
// CPU. Data: the vector in bits 7:0, delivery mode fixed (bits 10:8 = 000), edge
// triggered (bit 15 = 0). Pure logic, host-tested.
namespace Tessera.Drivers.Pci
{
    public readonly struct MsiMessage
    {
        public const ulong ApicWindow = 0xFEE00000;

        public readonly ulong Address;
        public readonly uint Data;

        public MsiMessage(ulong address, uint data)
        {
            Address = address;
            Data = data;
        }

        /// <summary>A fixed, edge-triggered interrupt with this vector to the CPU whose APIC ID is given.</summary>
        public static MsiMessage Fixed(byte destinationApicId, byte vector) =>
            new MsiMessage(ApicWindow | ((ulong)destinationApicId << 12), vector);

        public byte DestinationApicId => (byte)(Address >> 12);
        public byte Vector => (byte)Data;
    }
}
