// The virtio 1.x PCI transport, shared by virtio-net and virtio-blk (virtio 1.1 §4.1).
// A modern virtio device is found by vendor 0x1AF4 and device 0x1040 + virtio device id.
// Its registers are described by vendor-specific PCI capabilities (cap id 0x09), each
// naming a BAR and an offset: common configuration (type 1), notifications (2), ISR (3)
// and device-specific configuration (4).
using Tessera.Core;
using Tessera.Core.Memory;
using Tessera.Drivers.Pci;

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
            MsixConfig = 16, NumQueues = 18, DeviceStatus = 20, ConfigGeneration = 21, QueueSelect = 22, QueueSize = 24, QueueMsixVector = 26,
            QueueEnable = 28, QueueNotifyOff = 30, QueueDesc = 32, QueueDriver = 40, QueueDevice = 48;

        public readonly PciDevice Device;
        private byte* _common;
        private byte* _notify;
        private uint _notifyMultiplier;
        private byte* _isr;
        public byte* DeviceConfig;

        private const byte VendorSpecificCapability = 0x09;
        private const int CapType = 3, CapBar = 4, CapOffset = 8, CapLength = 12, CapNotifyMultiplier = 16;

        private VirtioPciTransport(PciDevice device) { Device = device; }

        /// <summary>Finds the index-th modern virtio device of a virtio device id (net = 1, block = 2).</summary>
        public static VirtioPciTransport? Find(ushort virtioDeviceId, int index = 0)
        {
            PciDevice? device = Tessera.Drivers.Pci.Pci.Find(VendorId, (ushort)(0x1040 + virtioDeviceId), index);
            if (device is null) return null;
            var transport = new VirtioPciTransport(device);
            return transport.MapCapabilities() ? transport : null;
        }

        private bool MapCapabilities()
        {
            Device.EnableMemorySpace();
            Device.EnableBusMastering();
            IPciConfigSpace config = Device.Config;
            for (int cap = Device.FindCapability(VendorSpecificCapability); cap != 0;
                 cap = Device.FindCapability(VendorSpecificCapability, cap))
            {
                byte type = config.Read8(Device.Address, cap + CapType);
                byte* mapped = MapBar(config.Read8(Device.Address, cap + CapBar),
                    config.Read32(Device.Address, cap + CapOffset), config.Read32(Device.Address, cap + CapLength));
                if (type == 1) _common = mapped;
                else if (type == 2) { _notify = mapped; _notifyMultiplier = config.Read32(Device.Address, cap + CapNotifyMultiplier); }
                else if (type == 3) _isr = mapped;
                else if (type == 4) DeviceConfig = mapped;
            }
            return _common != null && _notify != null && _isr != null;
        }

        private byte* MapBar(int index, uint offset, uint length)
        {
            if (index > 5) return null;
            PciBar bar = Device.Bar(index);
            // Modern virtio registers live in memory BARs (virtio 1.1 §4.1.4.1).
            if (!bar.IsMemory || bar.Address == 0 || (ulong)offset + length > bar.Size) return null;
            return DmaMemory.MapDevice(bar.Address + offset, length);
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

        /// <summary>
        /// Routes a queue's notifications to an interrupt vector through MSI-X entry
        /// msixEntry (virtio 1.1 §4.1.5.1.2: queue_msix_vector names the table entry).
        /// Call after SetUpQueue and before SetDriverOk. False when the device has no MSI-X.
        /// </summary>
        public bool RouteQueueInterrupt(Virtqueue queue, int msixEntry, int vector)
        {
            MsiXCapability msix = MsiXCapability.Read(Device);
            if (!msix.IsPresent || msixEntry >= msix.TableSize) return false;
            MsiXTable? table = Tessera.Drivers.Pci.Pci.MapMsiXTable(Device, msix);
            if (table is null) return false;
            table.Program(msixEntry, MsiMessage.Fixed((byte)LocalApic.ApicId, (byte)vector), unmask: true);
            msix.SetEnabled(Device, enabled: true, functionMasked: false);
            Volatile.Write((ushort*)(_common + QueueSelect), queue.Index);
            Volatile.Write((ushort*)(_common + QueueMsixVector), (ushort)msixEntry);
            // The device answers 0xFFFF (NO_VECTOR) when it could not allocate the vector.
            return Volatile.Read((ushort*)(_common + QueueMsixVector)) == (ushort)msixEntry;
        }

        /// <summary>
        /// Reads a 32-bit device configuration field (§4.1.3.1: 32-bit fields with aligned 32-bit
        /// accesses). 0 when the device has no device configuration.
        /// </summary>
        public uint ReadDeviceConfig32(int offset) => DeviceConfig == null ? 0 : Volatile.Read((uint*)(DeviceConfig + offset));

        public byte ReadDeviceConfig8(int offset) => DeviceConfig == null ? (byte)0 : Volatile.Read(DeviceConfig + offset);

        /// <summary>
        /// Reads a 64-bit device configuration field as two 32-bit halves (§4.1.3.1), again until
        /// config_generation is the same before and after, so both halves belong to one value
        /// (§2.4.1: the device may change its configuration, a disk's capacity for one).
        /// </summary>
        public ulong ReadDeviceConfig64(int offset)
        {
            if (DeviceConfig == null) return 0;
            while (true)
            {
                byte before = Volatile.Read(_common + ConfigGeneration);
                ulong low = Volatile.Read((uint*)(DeviceConfig + offset));
                ulong high = Volatile.Read((uint*)(DeviceConfig + offset + 4));
                if (Volatile.Read(_common + ConfigGeneration) == before) return low | high << 32;
            }
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
}
