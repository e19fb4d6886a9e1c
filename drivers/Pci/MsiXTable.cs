// The MSI-X vector table, mapped from a memory BAR (PCI Local Bus Spec 3.0 §6.8.2.6):
// 16 bytes an entry, accessed only as aligned 32-bit words (§6.8.2 requires aligned
// DWORD or QWORD accesses):
//   +0 message address low, +4 message address high, +8 message data,
//   +12 vector control (bit 0: masked; every entry is masked after reset).
// Each access is volatile: the compiler must neither drop nor merge device accesses.
// Pure logic over a pointer, host-tested against a buffer.
namespace Tessera.Drivers.Pci
{
    public sealed unsafe class MsiXTable
    {
        public const int EntryBytes = 16;
        private const int AddressLow = 0, AddressHigh = 4, Data = 8, VectorControl = 12;
        public const uint VectorMasked = 1;

        private struct VolatileUInt32 { public volatile uint Value; }

        private readonly byte* _base;
        public readonly int Size;

        public MsiXTable(byte* mappedTable, int size)
        {
            _base = mappedTable;
            Size = size;
        }

        private uint Read(int entry, int register) => ((VolatileUInt32*)(_base + entry * EntryBytes + register))->Value;
        private void Write(int entry, int register, uint value) => ((VolatileUInt32*)(_base + entry * EntryBytes + register))->Value = value;

        public bool Contains(int entry) => entry >= 0 && entry < Size;

        /// <summary>
        /// Points an entry at a message and unmasks it when asked. The entry is masked
        /// while its address and data change, so the device never sends a half-written
        /// message (§6.8.2.9).
        /// </summary>
        public void Program(int entry, MsiMessage message, bool unmask)
        {
            if (!Contains(entry)) return;
            SetMasked(entry, true);
            Write(entry, AddressLow, (uint)message.Address);
            Write(entry, AddressHigh, (uint)(message.Address >> 32));
            Write(entry, Data, message.Data);
            if (unmask) SetMasked(entry, false);
        }

        public MsiMessage ReadMessage(int entry) =>
            new MsiMessage(((ulong)Read(entry, AddressHigh) << 32) | Read(entry, AddressLow), Read(entry, Data));

        public uint ReadVectorControl(int entry) => Read(entry, VectorControl);

        public bool IsMasked(int entry) => (Read(entry, VectorControl) & VectorMasked) != 0;

        public void SetMasked(int entry, bool masked)
        {
            uint control = Read(entry, VectorControl);
            Write(entry, VectorControl, masked ? control | VectorMasked : control & ~VectorMasked);
        }
    }
}
