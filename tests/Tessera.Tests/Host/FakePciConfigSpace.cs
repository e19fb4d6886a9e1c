using Tessera.Drivers.Pci;

namespace Tessera.Tests.Host;

/// <summary>
/// PCI configuration space in memory, behaving as hardware does where the kernel relies
/// on it: absent functions read all ones, a BAR keeps its read-only low bits and only
/// the address bits its size allows take a written value (PCI Local Bus Spec 3.0
/// §6.2.5.1), and every BAR write is logged with the command register at that moment.
/// </summary>
public sealed class FakePciConfigSpace : IPciConfigSpace
{
    public sealed class Function
    {
        public readonly byte[] Config = new byte[256];
        /// <summary>Per BAR register (0-5): which bits software can write (0: not implemented).</summary>
        public readonly uint[] BarWritable = new uint[6];

        public ushort VendorId { set => Set16(PciRegisters.VendorId, value); }
        public ushort DeviceId { set => Set16(PciRegisters.DeviceId, value); }
        public ushort Command { get => Get16(PciRegisters.Command); set => Set16(PciRegisters.Command, value); }
        public ushort Status { set => Set16(PciRegisters.Status, value); }

        public ushort Get16(int offset) => (ushort)(Config[offset] | Config[offset + 1] << 8);
        public uint Get32(int offset) => (uint)(Get16(offset) | Get16(offset + 2) << 16);
        public void Set16(int offset, ushort value) { Config[offset] = (byte)value; Config[offset + 1] = (byte)(value >> 8); }
        public void Set32(int offset, uint value) { Set16(offset, (ushort)value); Set16(offset + 2, (ushort)(value >> 16)); }

        public void SetClass(byte classCode, byte subclass, byte progIf = 0)
        {
            Config[PciRegisters.ClassCode] = classCode;
            Config[PciRegisters.Subclass] = subclass;
            Config[PciRegisters.ProgIf] = progIf;
        }

        /// <summary>An I/O BAR of size bytes at address.</summary>
        public void IoBar(int index, uint address, uint size)
        {
            Set32(PciRegisters.Bar0 + 4 * index, address | 1);
            BarWritable[index] = ~(size - 1) & 0xFFFFFFFC;
        }

        /// <summary>A 32-bit memory BAR.</summary>
        public void Memory32Bar(int index, uint address, uint size, bool prefetchable)
        {
            Set32(PciRegisters.Bar0 + 4 * index, address | (prefetchable ? 8u : 0u));
            BarWritable[index] = ~(size - 1) & 0xFFFFFFF0;
        }

        /// <summary>A 64-bit memory BAR in registers index and index + 1.</summary>
        public void Memory64Bar(int index, ulong address, ulong size, bool prefetchable)
        {
            Set32(PciRegisters.Bar0 + 4 * index, (uint)address | 4 | (prefetchable ? 8u : 0u));
            Set32(PciRegisters.Bar0 + 4 * (index + 1), (uint)(address >> 32));
            ulong writable = ~(size - 1);
            BarWritable[index] = (uint)writable & 0xFFFFFFF0;
            BarWritable[index + 1] = (uint)(writable >> 32);
        }

        /// <summary>Adds capabilities as a linked list (each: id, next) at the given offsets.</summary>
        public void Capabilities(params (byte Id, int Offset)[] list)
        {
            Status = PciRegisters.StatusCapabilitiesList;
            Config[PciRegisters.CapabilitiesPointer] = (byte)(list.Length > 0 ? list[0].Offset : 0);
            for (int i = 0; i < list.Length; i++)
            {
                Config[list[i].Offset] = list[i].Id;
                Config[list[i].Offset + 1] = (byte)(i + 1 < list.Length ? list[i + 1].Offset : 0);
            }
        }
    }

    public readonly record struct BarWrite(PciAddress Function, int Register, uint Value, ushort CommandAtTheTime);

    private readonly Dictionary<(int, int, int), Function> _functions = [];
    public readonly List<BarWrite> BarWrites = [];

    public Function Add(int bus, int device, int function, ushort vendorId = 0x1AF4, ushort deviceId = 0x1000)
    {
        var f = new Function { VendorId = vendorId, DeviceId = deviceId };
        _functions[(bus, device, function)] = f;
        return f;
    }

    public Function this[int bus, int device, int function] => _functions[(bus, device, function)];

    private Function? Find(PciAddress a) => _functions.GetValueOrDefault((a.Bus, a.Device, a.Function));

    public byte Read8(PciAddress function, int offset) => Find(function)?.Config[offset] ?? 0xFF;
    public ushort Read16(PciAddress function, int offset) => Find(function)?.Get16(offset) ?? 0xFFFF;
    public uint Read32(PciAddress function, int offset) => Find(function)?.Get32(offset) ?? 0xFFFFFFFF;

    public void Write8(PciAddress function, int offset, byte value)
    {
        var f = Find(function);
        if (f is null) return;
        if (offset >= PciRegisters.Bar0 && offset < PciRegisters.Bar0 + 24) throw new InvalidOperationException("byte write to a BAR");
        f.Config[offset] = value;
    }

    public void Write16(PciAddress function, int offset, ushort value)
    {
        var f = Find(function);
        if (f is null) return;
        if (offset >= PciRegisters.Bar0 && offset < PciRegisters.Bar0 + 24) throw new InvalidOperationException("word write to a BAR");
        f.Set16(offset, value);
    }

    public void Write32(PciAddress function, int offset, uint value)
    {
        var f = Find(function);
        if (f is null) return;
        if (offset >= PciRegisters.Bar0 && offset < PciRegisters.Bar0 + 24)
        {
            int index = (offset - PciRegisters.Bar0) / 4;
            uint writable = f.BarWritable[index];
            f.Set32(offset, (value & writable) | (f.Get32(offset) & ~writable));
            BarWrites.Add(new BarWrite(function, offset, value, f.Command));
            return;
        }
        f.Set32(offset, value);
    }
}
