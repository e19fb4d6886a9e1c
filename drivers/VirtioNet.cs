// virtio-net (virtio 1.1 §5.1): Ethernet frames in and out through two split virtqueues,
// receiveq1 (0) and transmitq1 (1). Every frame is preceded by a 12-byte virtio_net_hdr
// (§5.1.6; 12 bytes because VIRTIO_F_VERSION_1 adds num_buffers), all zero here: no
// checksum offload, no segmentation. Receive buffers are large enough for a whole RPC
// frame (a 4 KiB page and its header), so no frame is ever split over buffers.
// Polled: the RPC fast path asks for frames. A receive interrupt (MSI-X) exists only to
// wake an idle CPU from hlt (it is asked for only then); its handler does nothing but count.
// Notifications to the device are skipped when it says it does not need them.
using Tessera.Core.Memory;

namespace Tessera.Drivers
{
    public sealed unsafe class VirtioNet
    {
        public const ushort VirtioDeviceId = 1;
        private const int FeatureMac = 5;
        private const int NetHeaderSize = 12;
        private const ushort QueueEntries = 32;
        /// <summary>Largest frame we send or receive, header excluded.</summary>
        public const int MaxFrame = 12 * 1024 - NetHeaderSize;
        private const int BufferSize = NetHeaderSize + MaxFrame;

        private readonly VirtioPciTransport _transport;
        private readonly Virtqueue _receive, _transmit;
        private readonly DmaRegion[] _receiveBuffers, _transmitBuffers;
        public readonly byte[] Mac = new byte[6];

        public ulong FramesSent, FramesReceived, SendRejected, ReceiveTruncated;
        /// <summary>The vector receive interrupts arrive on, or -1 when the NIC is polled only.</summary>
        public int ReceiveVector = -1;

        private VirtioNet(VirtioPciTransport transport, Virtqueue receive, Virtqueue transmit)
        {
            _transport = transport;
            _receive = receive;
            _transmit = transmit;
            _receiveBuffers = new DmaRegion[receive.Size];
            _transmitBuffers = new DmaRegion[transmit.Size];
        }

        /// <summary>Finds and starts the first virtio-net device; null when there is none or it fails.</summary>
        public static VirtioNet? Start()
        {
            VirtioPciTransport? transport = VirtioPciTransport.Find(VirtioDeviceId);
            if (transport is null) return null;
            ulong features = transport.Negotiate(1UL << FeatureMac);
            if (features == ulong.MaxValue) return null;
            Virtqueue? receive = transport.SetUpQueue(0, QueueEntries);
            Virtqueue? transmit = transport.SetUpQueue(1, QueueEntries);
            if (receive is null || transmit is null) return null;

            var nic = new VirtioNet(transport, receive, transmit);
            if ((features & (1UL << FeatureMac)) != 0 && transport.DeviceConfig != null)
                for (int i = 0; i < 6; i++) nic.Mac[i] = Volatile.Read(transport.DeviceConfig + i);
            // Fill the receive queue before the device may deliver (§5.1.6.3).
            for (int i = 0; i < receive.Size; i++)
            {
                DmaRegion buffer = DmaMemory.Allocate(BufferSize);
                int id = receive.Offer(buffer.Physical, BufferSize, deviceWrites: true);
                nic._receiveBuffers[id] = buffer;
            }
            // Receive interrupts wake the CPU when it idles in hlt (ClusterNode.Serve).
            int vector = Tessera.Core.Interrupts.AllocateVector();
            if (vector >= 0 && transport.RouteQueueInterrupt(receive, 0, vector))
            {
                Tessera.Core.Interrupts.RegisterHandler(vector, new WakeUpInterrupt());
                nic.ReceiveVector = vector;
            }
            // No receive interrupts until a node goes to sleep (WakeOnReceive).
            receive.SuppressInterrupts(true);
            transport.SetDriverOk();
            receive.Notify();
            return nic;
        }

        /// <summary>Sends one Ethernet frame (without FCS). False when it is too large or the queue is full.</summary>
        public bool Send(System.ReadOnlySpan<byte> frame)
        {
            if (frame.Length > MaxFrame) { SendRejected++; return false; }
            ReclaimTransmitted();
            // Descriptor ids come back in any order; each id owns one buffer.
            int id = _transmit.AllocateDescriptor();
            if (id < 0) { SendRejected++; return false; }
            if (_transmitBuffers[id].Virtual == null) _transmitBuffers[id] = DmaMemory.Allocate(BufferSize);
            DmaRegion buffer = _transmitBuffers[id];
            for (int i = 0; i < NetHeaderSize; i++) buffer.Virtual[i] = 0;
            frame.CopyTo(new System.Span<byte>(buffer.Virtual + NetHeaderSize, frame.Length));
            _transmit.Publish(id, buffer.Physical, (uint)(NetHeaderSize + frame.Length), deviceWrites: false);
            _transmit.NotifyIfNeeded();
            FramesSent++;
            return true;
        }

        private void ReclaimTransmitted()
        {
            while (_transmit.TryTakeUsed(out int id, out _)) _transmit.Release(id);
        }

        /// <summary>Copies one received frame into destination; returns its length, 0 when none is waiting.</summary>
        public int Receive(System.Span<byte> destination)
        {
            if (!_receive.TryTakeUsed(out int id, out uint written)) return 0;
            DmaRegion buffer = _receiveBuffers[id];
            int length = (int)written - NetHeaderSize;
            if (length < 0) length = 0;
            if (length > destination.Length) { ReceiveTruncated++; length = 0; }
            new System.ReadOnlySpan<byte>(buffer.Virtual + NetHeaderSize, length).CopyTo(destination);
            // Give the buffer straight back to the device.
            _receive.Release(id);
            int again = _receive.Offer(buffer.Physical, BufferSize, deviceWrites: true);
            _receiveBuffers[again] = buffer;
            _receive.NotifyIfNeeded();
            FramesReceived++;
            return length;
        }

        /// <summary>
        /// Tells the device to look at the transmit queue, which Send does after every frame.
        /// Alone, with nothing new queued, the device finds no work: `bench=rpc` times this to
        /// know what one notification (an MMIO write, a trip into QEMU's device model) costs.
        /// </summary>
        public void NotifyTransmitQueue() => _transmit.Notify();

        /// <summary>
        /// Asks the device to interrupt when a frame arrives (true: before hlt) or not to (false:
        /// while the CPU is awake and polls anyway). Polling for a reply with interrupts on costs an
        /// interrupt and an EOI per frame for nothing. After enabling, a fence orders the flag
        /// before the caller's HasReceived check, against the device's store of the used index
        /// and its read of the flag (virtio 1.1 §2.6.7.2): either we see the frame or it interrupts.
        /// </summary>
        public void WakeOnReceive(bool wake)
        {
            _receive.SuppressInterrupts(!wake);
            if (wake) Tessera.Core.Cpu.MemoryFence();
        }

        /// <summary>True when the device has put frames in the receive queue that Receive has not taken.</summary>
        public bool HasReceived => _receive.HasUsed;

        public byte AcknowledgeInterrupt() => _transport.ReadInterruptStatus();

        /// <summary>MSI-X needs no acknowledgement beyond the local APIC's EOI (sent by the dispatcher).</summary>
        private sealed class WakeUpInterrupt : Tessera.Core.InterruptHandler
        {
            public ulong Count;
            public override void Handle(Tessera.Core.InterruptFrame* frame) => Count++;
        }
    }
}
