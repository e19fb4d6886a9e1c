// The virtio 1.x PCI transport, shared by virtio-net and virtio-blk (virtio 1.1 §4.1).
// A modern virtio device is found by vendor 0x1AF4 and device 0x1040 + virtio device id.
// Its registers are described by vendor-specific PCI capabilities (cap id 0x09), each
// naming a BAR and an offset: common configuration (type 1), notifications (2), ISR (3)
// and device-specific configuration (4).
using Tessera.Core;
using Tessera.Core.Memory;

namespace Tessera.Drivers
{
    public sealed unsafe class VirtioPciTransport
    {
        public const ushort VendorId = 0x1AF4;

        // Device status bits (§2.1).
        private const byte StatusAcknowledge = 1, StatusDriver = 2, StatusDriverOk = 4, StatusFeaturesOk = 8, StatusFailed = 128;
        public const int FeatureVersion1 = 32;

        // Common configuration layout (§4.1.4.3).
        private const int DeviceFeatureSelect = 0, DeviceFeature = 4, DriverFeatureSelect = 8, DriverFeature = 12,
            MsixConfig = 16, NumQueues = 18, DeviceStatus = 20, QueueSelect = 22, QueueSize = 24, QueueMsixVector = 26,
            QueueEnable = 28, QueueNotifyOff = 30, QueueDesc = 32, QueueDriver = 40, QueueDevice = 48;

        public readonly PciLocation Location;
        private byte* _common;
        private byte* _notify;
        private uint _notifyMultiplier;
        private byte* _isr;
        public byte* DeviceConfig;

        private VirtioPciTransport(PciLocation location) { Location = location; }

        /// <summary>Finds the first modern virtio device of the given virtio device id (net = 1, block = 2).</summary>
        public static VirtioPciTransport? Find(ushort virtioDeviceId)
        {
            ushort pciDevice = (ushort)(0x1040 + virtioDeviceId);
            for (int bus = 0; bus < 256; bus++)
                for (int device = 0; device < 32; device++)
                    for (int function = 0; function < 8; function++)
                    {
                        var at = new PciLocation((byte)bus, (byte)device, (byte)function);
                        uint id = PciConfigPorts.Read32(at, 0);
                        if ((ushort)id == 0xFFFF) { if (function == 0) break; continue; }
                        if ((ushort)id == VendorId && (ushort)(id >> 16) == pciDevice)
                        {
                            var transport = new VirtioPciTransport(at);
                            if (transport.MapCapabilities()) return transport;
                        }
                        // Single-function devices answer on function 0 only (header type bit 7).
                        if (function == 0 && (PciConfigPorts.Read32(at, 0x0C) & 0x00800000) == 0) break;
                    }
            return null;
        }

        private bool MapCapabilities()
        {
            // Memory decoding and bus mastering on (PCI command register, bits 1 and 2).
            uint command = PciConfigPorts.Read32(Location, 0x04);
            PciConfigPorts.Write32(Location, 0x04, (command & 0xFFFF) | 0x6);
            if ((PciConfigPorts.Read32(Location, 0x04) & 0x00100000) == 0) return false; // no capability list
            int cap = (int)(PciConfigPorts.Read32(Location, 0x34) & 0xFC);
            for (int guard = 0; cap != 0 && guard < 48; guard++)
            {
                uint header = PciConfigPorts.Read32(Location, cap);
                if ((byte)header == 0x09)
                {
                    byte type = (byte)(header >> 24);
                    uint barAndPadding = PciConfigPorts.Read32(Location, cap + 4);
                    uint offset = PciConfigPorts.Read32(Location, cap + 8);
                    uint length = PciConfigPorts.Read32(Location, cap + 12);
                    byte* mapped = MapBar((int)(barAndPadding & 0xFF), offset, length);
                    if (type == 1) _common = mapped;
                    else if (type == 2) { _notify = mapped; _notifyMultiplier = PciConfigPorts.Read32(Location, cap + 16); }
                    else if (type == 3) _isr = mapped;
                    else if (type == 4) DeviceConfig = mapped;
                }
                cap = (int)((header >> 8) & 0xFC);
            }
            return _common != null && _notify != null && _isr != null;
        }

        private byte* MapBar(int bar, uint offset, uint length)
        {
            if (bar > 5) return null;
            uint low = PciConfigPorts.Read32(Location, 0x10 + 4 * bar);
            if ((low & 1) != 0) return null; // an I/O BAR: modern virtio uses memory BARs
            ulong address = low & 0xFFFFFFF0;
            if (((low >> 1) & 3) == 2) address |= (ulong)PciConfigPorts.Read32(Location, 0x10 + 4 * (bar + 1)) << 32;
            return DmaMemory.MapDevice(address + offset, length);
        }

        /// <summary>
        /// Resets the device and negotiates features (§3.1.1): returns the accepted feature bits,
        /// or ulong.MaxValue when the device refuses (then the status is FAILED).
        /// </summary>
        public ulong Negotiate(ulong wanted)
        {
            Volatile.Write(_common + DeviceStatus, 0);
            while (Volatile.Read(_common + DeviceStatus) != 0) Cpu.Pause();
            Volatile.Write(_common + DeviceStatus, StatusAcknowledge);
            Volatile.Write(_common + DeviceStatus, StatusAcknowledge | StatusDriver);

            Volatile.Write((uint*)(_common + DeviceFeatureSelect), 0);
            ulong offered = Volatile.Read((uint*)(_common + DeviceFeature));
            Volatile.Write((uint*)(_common + DeviceFeatureSelect), 1);
            offered |= (ulong)Volatile.Read((uint*)(_common + DeviceFeature)) << 32;

            ulong accepted = offered & (wanted | (1UL << FeatureVersion1));
            Volatile.Write((uint*)(_common + DriverFeatureSelect), 0);
            Volatile.Write((uint*)(_common + DriverFeature), (uint)accepted);
            Volatile.Write((uint*)(_common + DriverFeatureSelect), 1);
            Volatile.Write((uint*)(_common + DriverFeature), (uint)(accepted >> 32));
            Volatile.Write(_common + DeviceStatus, StatusAcknowledge | StatusDriver | StatusFeaturesOk);
            if ((accepted & (1UL << FeatureVersion1)) == 0 || (Volatile.Read(_common + DeviceStatus) & StatusFeaturesOk) == 0)
            {
                Volatile.Write(_common + DeviceStatus, StatusFailed);
                return ulong.MaxValue;
            }
            return accepted;
        }

        public ushort QueueCount => Volatile.Read((ushort*)(_common + NumQueues));

        /// <summary>Creates queue index with at most maxSize entries and tells the device where it is.</summary>
        public Virtqueue? SetUpQueue(ushort index, ushort maxSize)
        {
            Volatile.Write((ushort*)(_common + QueueSelect), index);
            ushort size = Volatile.Read((ushort*)(_common + QueueSize));
            if (size == 0) return null;
            if (size > maxSize) size = maxSize;
            var queue = new Virtqueue(index, size);
            Volatile.Write((ushort*)(_common + QueueSize), size);
            Volatile.Write((ushort*)(_common + QueueMsixVector), 0xFFFF); // no MSI-X vector: polled
            Volatile.Write((ulong*)(_common + QueueDesc), queue.DescriptorsPhysical);
            Volatile.Write((ulong*)(_common + QueueDriver), queue.AvailablePhysical);
            Volatile.Write((ulong*)(_common + QueueDevice), queue.UsedPhysical);
            queue.NotifyAddress = (ushort*)(_notify + Volatile.Read((ushort*)(_common + QueueNotifyOff)) * _notifyMultiplier);
            Volatile.Write((ushort*)(_common + QueueEnable), 1);
            return queue;
        }

        public void SetDriverOk()
        {
            Volatile.Write(_common + DeviceStatus, StatusAcknowledge | StatusDriver | StatusFeaturesOk | StatusDriverOk);
        }

        /// <summary>Reading the ISR status acknowledges a legacy interrupt (§4.1.4.5).</summary>
        public byte ReadInterruptStatus() => Volatile.Read(_isr);
    }

    public readonly struct PciLocation
    {
        public readonly byte Bus, Device, Function;
        public PciLocation(byte bus, byte device, byte function) { Bus = bus; Device = device; Function = function; }
    }

    /// <summary>PCI configuration mechanism #1: address to 0xCF8, data at 0xCFC (PCI Local Bus 3.0 §3.2.2.3.2).</summary>
    public static class PciConfigPorts
    {
        private static uint Address(PciLocation at, int offset) =>
            0x80000000u | ((uint)at.Bus << 16) | ((uint)at.Device << 11) | ((uint)at.Function << 8) | ((uint)offset & 0xFC);

        public static uint Read32(PciLocation at, int offset)
        {
            Cpu.OutDword(0xCF8, Address(at, offset));
            return Cpu.InDword(0xCFC);
        }

        public static void Write32(PciLocation at, int offset, uint value)
        {
            Cpu.OutDword(0xCF8, Address(at, offset));
            Cpu.OutDword(0xCFC, value);
        }
    }
}
