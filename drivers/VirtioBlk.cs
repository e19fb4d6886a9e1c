// virtio-blk (virtio 1.1 §5.2): a disk of 512-byte sectors behind one request queue
// (requestq, queue 0). Each request is a descriptor chain: a header naming the operation
// and the first sector, the data, and a status byte the device writes last (§5.2.6).
//
// Two ways in:
//   - asynchronous: BeginRead / BeginWrite / BeginFlush / BeginGetId submit a request and
//     return its tag at once; several may be in flight (up to RequestsInFlight); End(tag)
//     waits for that one and collects its result; Poll() takes whatever the device finished.
//   - synchronous: Read / Write / Flush / GetId for any number of sectors, split into
//     requests of at most Geometry.RequestBytes, kept in flight together, returning once all
//     are done.
// Results are 0 or a negative Linux errno: -EIO for VIRTIO_BLK_S_IOERR (or a device that
// never answers), -ENOTSUP for VIRTIO_BLK_S_UNSUPP, -EROFS for a write to a read-only disk
// (VIRTIO_BLK_F_RO), -EINVAL for sectors past the end, refused before anything reaches the
// device, -EAGAIN from Begin* when every request slot is taken.
//
// Data is copied through the driver's own DMA buffers, so callers pass ordinary spans.
// Completion is polled (the used ring is read while waiting); OnInterrupt is the hook for
// an MSI-X or INTx handler once the kernel has interrupts, and WaitFor the place to sleep.
using System;
using Tessera.Core;
using Tessera.Core.Memory;

namespace Tessera.Drivers
{
    public sealed unsafe class VirtioBlk
    {
        public const ushort VirtioDeviceId = 2;
        public const int SectorSize = VirtioBlkGeometry.SectorSize;
        /// <summary>Bytes of a device id (VIRTIO_BLK_T_GET_ID, §5.2.6): NUL-padded, not always NUL-terminated.</summary>
        public const int IdBytes = 20;

        // Feature bits (§5.2.3).
        public const int FeatureSizeMax = 1, FeatureSegMax = 2, FeatureGeometry = 4, FeatureReadOnly = 5,
            FeatureBlockSize = 6, FeatureFlush = 9, FeatureTopology = 10;

        // Request types (§5.2.6).
        internal const uint TypeIn = 0, TypeOut = 1, TypeFlush = 4, TypeGetId = 8;
        // Status values (§5.2.6).
        private const byte StatusOk = 0, StatusUnsupported = 2; // and VIRTIO_BLK_S_IOERR = 1
        /// <summary>Written into the status byte before submission: a device that never writes it reads as an error.</summary>
        private const byte StatusNotWritten = 0xFF;

        // Device configuration layout (§5.2.4, struct virtio_blk_config).
        private const int ConfigCapacity = 0, ConfigSizeMax = 8, ConfigSegMax = 12, ConfigBlockSize = 20;

        // Results: Linux errno values, negated (include/uapi/asm-generic/errno-base.h, errno.h);
        // the same numbers as Tessera.Storage.Errno, which only the storage image has.
        public const int EIO = -5, EAGAIN = -11, EINVAL = -22, EROFS = -30, ENOTSUP = -95;

        private const ushort MaxQueueEntries = 256;
        /// <summary>How long a request may take before the driver gives up on it (TCG on a loaded host is slow, a disk is not this slow).</summary>
        private const ulong RequestTimeoutSeconds = 30;

        private readonly VirtioPciTransport _transport;
        private readonly Virtqueue _queue;
        private readonly VirtioBlkRequest[] _requests;
        /// <summary>Which slot owns the chain whose head is the index; -1 for none.</summary>
        private readonly int[] _slotOfHead;
        /// <summary>Tags of the synchronous helpers' requests in flight, oldest first (a ring).</summary>
        private readonly int[] _pipeline;

        public readonly VirtioBlkGeometry Geometry;
        /// <summary>The features both sides agreed on (bit numbers of §5.2.3 and §6).</summary>
        public readonly ulong Features;
        /// <summary>The device's logical block size (VIRTIO_BLK_F_BLK_SIZE) in bytes, a hint for alignment; 512 without it.</summary>
        public readonly uint BlockSizeHint;
        public readonly uint SizeMax, SegMax;

        // Counters, for the boot line, self-tests and statistics.
        public ulong RequestsSubmitted, SegmentsSubmitted, FlushesSubmitted, RequestErrors, RequestTimeouts, StrayCompletions;
        public int InFlight, MostInFlight;

        private VirtioBlk(VirtioPciTransport transport, Virtqueue queue, ulong features, VirtioBlkGeometry geometry)
        {
            _transport = transport;
            _queue = queue;
            Features = features;
            Geometry = geometry;
            SizeMax = Has(FeatureSizeMax) ? transport.ReadDeviceConfig32(ConfigSizeMax) : 0;
            SegMax = Has(FeatureSegMax) ? transport.ReadDeviceConfig32(ConfigSegMax) : 0;
            BlockSizeHint = Has(FeatureBlockSize) ? transport.ReadDeviceConfig32(ConfigBlockSize) : SectorSize;

            _slotOfHead = new int[queue.Size];
            for (int i = 0; i < _slotOfHead.Length; i++) _slotOfHead[i] = -1;
            // Headers and status bytes of every slot share one page: 32 bytes a slot.
            DmaRegion headers = DmaMemory.Allocate(DmaMemory.PageSize);
            _requests = new VirtioBlkRequest[geometry.RequestsInFlight];
            for (int i = 0; i < _requests.Length; i++)
                _requests[i] = new VirtioBlkRequest(i, headers.Virtual + 32 * i, headers.Physical + (ulong)(32 * i), geometry.PagesPerRequest);
            _pipeline = new int[_requests.Length];
            RefreshCapacity();
        }

        /// <summary>
        /// Finds the first modern virtio-blk device, negotiates features (§3.1.1) and sets up its
        /// request queue. Null when there is none or it cannot be driven; problem says why.
        /// </summary>
        public static VirtioBlk? Start(out string problem)
        {
            VirtioPciTransport? transport = VirtioPciTransport.Find(VirtioDeviceId);
            if (transport is null) { problem = "no virtio-blk device (modern, PCI 1af4:1042)"; return null; }
            if (transport.DeviceConfig == null) { problem = "virtio-blk device has no device configuration"; return null; }
            // What we can use; VERSION_1 is added by the transport. Not asked for: GEOMETRY and
            // TOPOLOGY (nothing here needs them), CONFIG_WCE (the cache mode follows from FLUSH,
            // §5.2.5), DISCARD and WRITE_ZEROES, MQ (one queue), indirect descriptors, EVENT_IDX.
            ulong wanted = 1UL << FeatureSizeMax | 1UL << FeatureSegMax | 1UL << FeatureReadOnly
                | 1UL << FeatureBlockSize | 1UL << FeatureFlush;
            ulong features = transport.Negotiate(wanted);
            if (features == ulong.MaxValue) { problem = "virtio-blk device refused the features (no VERSION_1?)"; return null; }
            Virtqueue? queue = transport.SetUpQueue(0, MaxQueueEntries);
            if (queue is null) { problem = "virtio-blk device has no request queue"; return null; }

            uint sizeMax = (features & 1UL << FeatureSizeMax) != 0 ? transport.ReadDeviceConfig32(ConfigSizeMax) : 0;
            uint segMax = (features & 1UL << FeatureSegMax) != 0 ? transport.ReadDeviceConfig32(ConfigSegMax) : 0;
            if (!VirtioBlkGeometry.TryCompute(sizeMax, segMax, queue.Size, out VirtioBlkGeometry geometry))
            {
                problem = "virtio-blk size_max/seg_max leave no room for one sector";
                return null;
            }
            var disk = new VirtioBlk(transport, queue, features, geometry);
            transport.SetDriverOk();
            problem = "";
            return disk;
        }

        public bool Has(int feature) => (Features & 1UL << feature) != 0;

        /// <summary>The disk's size in 512-byte sectors, as read at start or by the last RefreshCapacity.</summary>
        public ulong Capacity { get; private set; }

        /// <summary>
        /// Reads the capacity from the device configuration again. A resized disk says so with a
        /// configuration change notification (§4.1.4.5: ISR bit 1, or the msix_config vector);
        /// until interrupts are wired, whoever cares calls this.
        /// </summary>
        public ulong RefreshCapacity() => Capacity = _transport.ReadDeviceConfig64(ConfigCapacity);

        /// <summary>The device refuses writes (VIRTIO_BLK_F_RO).</summary>
        public bool ReadOnly => Has(FeatureReadOnly);

        /// <summary>
        /// The device has a write-back cache that Flush writes out. Without VIRTIO_BLK_F_FLUSH the
        /// cache is write-through (§5.2.5), so a completed write is already durable.
        /// </summary>
        public bool HasFlush => Has(FeatureFlush);

        /// <summary>Requests that may be in flight at once (the number of slots).</summary>
        public int RequestsInFlight => _requests.Length;

        /// <summary>Largest transfer one Begin* request may carry, in sectors.</summary>
        public int SectorsPerRequest => Geometry.SectorsPerRequest;

        // ---- asynchronous requests ----

        /// <summary>Submits a read of sectors sectors from sector; End(tag, destination) collects the data.</summary>
        public int BeginRead(ulong sector, int sectors)
        {
            if (sectors <= 0 || sectors > Geometry.SectorsPerRequest) return EINVAL;
            if (!VirtioBlkGeometry.InRange(sector, (ulong)sectors, Capacity)) return EINVAL;
            int slot = TakeSlot();
            if (slot < 0) return slot;
            return Submit(slot, TypeIn, sector, sectors * SectorSize);
        }

        /// <summary>Submits a write of data (whole sectors, at most SectorsPerRequest) to sector; the data is copied at once.</summary>
        public int BeginWrite(ulong sector, ReadOnlySpan<byte> data)
        {
            fixed (byte* source = data) return BeginWrite(sector, source, data.Length);
        }

        /// <summary>Submits a flush of the device's write cache; -ENOTSUP when it has none to flush (see HasFlush).</summary>
        public int BeginFlush()
        {
            if (!HasFlush) return ENOTSUP;
            int slot = TakeSlot();
            if (slot < 0) return slot;
            // §5.2.6.1: the driver sets sector to 0 for a flush.
            return Submit(slot, TypeFlush, 0, 0);
        }

        /// <summary>Submits VIRTIO_BLK_T_GET_ID; End(tag, a 20-byte destination) collects the id.</summary>
        public int BeginGetId()
        {
            int slot = TakeSlot();
            if (slot < 0) return slot;
            return Submit(slot, TypeGetId, 0, IdBytes);
        }

        /// <summary>
        /// Any request, with none of the checks above: the self-tests use it to see what the
        /// device itself answers (an unknown type, a write to a read-only disk).
        /// </summary>
        internal int BeginUnchecked(uint type, ulong sector, int bytes)
        {
            if (bytes < 0 || bytes > Geometry.RequestBytes) return EINVAL;
            int slot = TakeSlot();
            if (slot < 0) return slot;
            return Submit(slot, type, sector, bytes);
        }

        /// <summary>Waits for request tag to complete and frees its slot: 0 or a negative errno.</summary>
        public int End(int tag) => End(tag, null, 0);

        /// <summary>As End(tag), and copies what a read or GET_ID brought back into destination (as much as fits).</summary>
        public int End(int tag, Span<byte> destination)
        {
            fixed (byte* d = destination) return End(tag, d, destination.Length);
        }

        /// <summary>True when request tag has come back from the device (End will not wait).</summary>
        public bool IsComplete(int tag)
        {
            Poll();
            return tag >= 0 && tag < _requests.Length && _requests[tag].State == VirtioBlkRequestState.Completed;
        }

        /// <summary>
        /// Takes every request the device has finished off the used ring and records its result.
        /// Returns how many. Called while waiting; safe to call from an interrupt handler.
        /// </summary>
        public int Poll()
        {
            int completed = 0;
            while (_queue.TryTakeUsed(out int head, out _))
            {
                int slot = _slotOfHead[head];
                _slotOfHead[head] = -1;
                _queue.Release(head);
                if (slot < 0) { StrayCompletions++; continue; }
                VirtioBlkRequest request = _requests[slot];
                byte status = Volatile.Read(request.Status);
                // IOERR, and anything the device should not have written, is an I/O error.
                request.Result = status == StatusOk ? 0 : status == StatusUnsupported ? ENOTSUP : EIO;
                if (request.Result != 0) RequestErrors++;
                request.Head = -1;
                InFlight--;
                // A request its caller gave up on is free now that the device let go of its buffers.
                request.State = request.State == VirtioBlkRequestState.Abandoned ? VirtioBlkRequestState.Free : VirtioBlkRequestState.Completed;
                completed++;
            }
            return completed;
        }

        /// <summary>
        /// The interrupt hook: acknowledges the device's interrupt (reading the ISR status,
        /// §4.1.4.5; with MSI-X there is nothing to acknowledge) and takes completed requests.
        /// Nothing calls it yet: the driver polls.
        /// </summary>
        public void OnInterrupt()
        {
            _transport.ReadInterruptStatus();
            Poll();
        }

        // ---- synchronous helpers ----

        /// <summary>Reads destination.Length bytes (whole sectors, any number) from sector on.</summary>
        public int Read(ulong sector, Span<byte> destination)
        {
            fixed (byte* d = destination) return Transfer(write: false, sector, d, destination.Length);
        }

        /// <summary>Writes source (whole sectors, any number) from sector on; returns once the device has completed every part.</summary>
        public int Write(ulong sector, ReadOnlySpan<byte> source)
        {
            fixed (byte* s = source) return Transfer(write: true, sector, s, source.Length);
        }

        /// <summary>Makes every completed write durable: VIRTIO_BLK_T_FLUSH, or nothing when the cache is write-through.</summary>
        public int Flush()
        {
            if (!HasFlush) return 0;
            int tag = BeginFlush();
            return tag < 0 ? tag : End(tag);
        }

        /// <summary>Reads the device id (VIRTIO_BLK_T_GET_ID) into id (20 bytes); -ENOTSUP when the device has none.</summary>
        public int GetId(Span<byte> id)
        {
            if (id.Length < IdBytes) return EINVAL;
            int tag = BeginGetId();
            return tag < 0 ? tag : End(tag, id.Slice(0, IdBytes));
        }

        /// <summary>
        /// Reads or writes length bytes at sector on in requests of at most Geometry.RequestBytes,
        /// keeping as many in flight as there are free slots and collecting them in order. The
        /// range is checked as a whole first, so nothing is transferred when any of it is out
        /// of range. On an error, the requests already in flight are still collected (their
        /// buffers belong to the device until then) and the first error is returned.
        /// </summary>
        private int Transfer(bool write, ulong sector, byte* buffer, int length)
        {
            if (write && ReadOnly) return EROFS;
            if (length < 0 || length % SectorSize != 0) return EINVAL;
            if (!VirtioBlkGeometry.InRange(sector, (ulong)(length / SectorSize), Capacity)) return EINVAL;
            int result = 0, submitted = 0, collected = 0, oldest = 0, pending = 0;
            while (true)
            {
                while (result == 0 && submitted < length && pending < _pipeline.Length)
                {
                    int bytes = length - submitted < Geometry.RequestBytes ? length - submitted : Geometry.RequestBytes;
                    ulong at = sector + (ulong)(submitted / SectorSize);
                    int tag = write ? BeginWrite(at, buffer + submitted, bytes) : BeginRead(at, bytes / SectorSize);
                    if (tag == EAGAIN && pending > 0) break; // collect one first
                    if (tag < 0) { result = tag; break; }
                    _pipeline[(oldest + pending) % _pipeline.Length] = tag;
                    pending++;
                    submitted += bytes;
                }
                if (pending == 0) break;
                int next = _pipeline[oldest];
                oldest = (oldest + 1) % _pipeline.Length;
                pending--;
                int size = _requests[next].Bytes;
                int r = End(next, write ? null : buffer + collected, size);
                if (r < 0 && result == 0) result = r;
                collected += size;
            }
            return result;
        }

        // ---- request slots and chains ----

        private int BeginWrite(ulong sector, byte* source, int bytes)
        {
            if (ReadOnly) return EROFS;
            if (bytes <= 0 || bytes % SectorSize != 0 || bytes > Geometry.RequestBytes) return EINVAL;
            if (!VirtioBlkGeometry.InRange(sector, (ulong)(bytes / SectorSize), Capacity)) return EINVAL;
            int slot = TakeSlot();
            if (slot < 0) return slot;
            _requests[slot].CopyIn(source, bytes);
            return Submit(slot, TypeOut, sector, bytes);
        }

        private int TakeSlot()
        {
            for (int i = 0; i < _requests.Length; i++)
                if (_requests[i].State == VirtioBlkRequestState.Free) return i;
            return EAGAIN;
        }

        /// <summary>Builds the chain header | data segments | status for slot and hands it to the device.</summary>
        private int Submit(int slot, uint type, ulong sector, int bytes)
        {
            VirtioBlkRequest request = _requests[slot];
            int segments = Geometry.SegmentCount(bytes);
            int head = _queue.AllocateChain(segments + 2);
            // Slots are sized so their longest chains fit the queue together (VirtioBlkGeometry).
            if (head < 0) return EAGAIN;

            *(uint*)request.Header = type;
            *(uint*)(request.Header + 4) = 0;
            *(ulong*)(request.Header + 8) = sector;
            *request.Status = StatusNotWritten;

            // Device-readable descriptors first, then device-writable ones (§2.6.4.2).
            bool deviceWritesData = type != TypeOut;
            _queue.Describe(head, request.HeaderPhysical, VirtioBlkRequest.HeaderBytes, deviceWrites: false);
            int id = _queue.Next(head);
            for (int offset = 0; offset < bytes;)
            {
                int length = Geometry.SegmentLength(offset, bytes);
                _queue.Describe(id, request.DataPhysical(offset), (uint)length, deviceWritesData);
                id = _queue.Next(id);
                offset += length;
            }
            _queue.Describe(id, request.StatusPhysical, 1, deviceWrites: true);

            request.Type = type;
            request.Bytes = bytes;
            request.Result = 0;
            request.Head = head;
            request.State = VirtioBlkRequestState.InFlight;
            _slotOfHead[head] = slot;
            InFlight++;
            if (InFlight > MostInFlight) MostInFlight = InFlight;
            RequestsSubmitted++;
            SegmentsSubmitted += (ulong)segments;
            if (type == TypeFlush) FlushesSubmitted++;

            _queue.PublishChain(head);
            _queue.Notify();
            return slot;
        }

        private int End(int tag, byte* destination, int capacity)
        {
            if (tag < 0 || tag >= _requests.Length) return EINVAL;
            VirtioBlkRequest request = _requests[tag];
            if (request.State != VirtioBlkRequestState.InFlight && request.State != VirtioBlkRequestState.Completed) return EINVAL;
            if (!WaitFor(request))
            {
                RequestTimeouts++;
                request.State = VirtioBlkRequestState.Abandoned;
                Log.Warn("blk: a request timed out; its slot stays with the device");
                return EIO;
            }
            int result = request.Result;
            if (result == 0 && destination != null && (request.Type == TypeIn || request.Type == TypeGetId))
                request.CopyOut(destination, request.Bytes < capacity ? request.Bytes : capacity);
            request.State = VirtioBlkRequestState.Free;
            return result;
        }

        /// <summary>Waits until request is back from the device; false after RequestTimeoutSeconds.</summary>
        private bool WaitFor(VirtioBlkRequest request)
        {
            ulong deadline = Clock.Ticks + RequestTimeoutSeconds * Clock.TscHz;
            while (request.State == VirtioBlkRequestState.InFlight)
            {
                if (Poll() != 0) continue;
                // Polled for now. With interrupts, the CPU would halt here until the queue's
                // vector (SetUpQueue's queue_msix_vector) runs OnInterrupt.
                if (Clock.Ticks > deadline) return false;
                Cpu.Pause();
            }
            return true;
        }
    }
}
