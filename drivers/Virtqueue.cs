// A split virtqueue (virtio 1.1 §2.6): the descriptor table, the available ring the
// driver fills and the used ring the device fills, in one DMA region.
//   descriptor (16 B): addr le64 | len le32 | flags le16 (NEXT=1, WRITE=2) | next le16
//   avail: flags le16 | idx le16 | ring[size] le16 | used_event le16
//   used:  flags le16 | idx le16 | ring[size] { id le32, len le32 } | avail_event le16
// A buffer is a chain of descriptors linked by NEXT (§2.6.5): virtio-net puts one buffer in
// one descriptor (a chain of one), virtio-blk a header, data segments and a status byte
// (§5.2.6). The available and used rings carry the chain's first descriptor, its head; the
// driver keeps its own copy of the links, so freeing a chain never reads memory the device
// can reach.
using System.Runtime.CompilerServices;
using Tessera.Core.Memory;

namespace Tessera.Drivers
{
    public sealed unsafe class Virtqueue
    {
        private const ushort DescriptorNext = 1, DescriptorWrite = 2;

        public readonly ushort Index;
        public readonly ushort Size;
        public readonly ulong DescriptorsPhysical, AvailablePhysical, UsedPhysical;

        private readonly byte* _descriptors;
        private readonly ushort* _available;   // [flags, idx, ring...]
        private readonly byte* _used;
        private ushort _lastUsed;
        private ushort _nextAvailable;
        private int _free;
        private readonly ushort[] _freeList;
        /// <summary>The driver's copy of each descriptor's link: the next id in its chain, -1 at the end.</summary>
        private readonly short[] _next;

        /// <summary>Used-ring entries naming a descriptor that does not exist (skipped; a device bug).</summary>
        public ulong BadUsedEntries;

        /// <summary>Where to write Index to tell the device there is new work (set by the transport).</summary>
        public ushort* NotifyAddress;
        /// <summary>Tells the device there is new work, unconditionally: an MMIO write, which under TCG is a trip into QEMU's device model.</summary>
        public void Notify() => Volatile.Write(NotifyAddress, Index);

        // Ring flags without VIRTIO_F_EVENT_IDX (virtio 1.1 §2.6.7, §2.6.10): the device sets
        // used.flags bit 0 when it does not need notifications (it is already processing the
        // queue, or has buffers enough); the driver sets avail.flags bit 0 when it does not want
        // interrupts (it polls).
        private const ushort UsedNoNotify = 1;
        private const ushort AvailableNoInterrupt = 1;

        /// <summary>
        /// Tells the device about new buffers unless it said it does not need to be told. QEMU's
        /// virtio-net says so on the receive queue while it has buffers and on the transmit queue
        /// while it is already sending, so most notifications (~10 us of MMIO each under TCG,
        /// docs/bench-rpc.md) are skipped. The fence orders the index just published before the
        /// flag read (§2.6.13.6); the device re-checks the ring after clearing the flag, so no
        /// buffer is missed.
        /// </summary>
        public void NotifyIfNeeded()
        {
            Tessera.Core.Cpu.MemoryFence();
            if ((Volatile.Read((ushort*)_used) & UsedNoNotify) == 0) Notify();
        }

        /// <summary>Asks the device not to interrupt for this queue (true) or to interrupt again (false); a hint only (§2.6.7.1).</summary>
        public void SuppressInterrupts(bool suppress) => Volatile.Write(&_available[0], suppress ? AvailableNoInterrupt : (ushort)0);

        public Virtqueue(ushort index, ushort size)
        {
            Index = index;
            Size = size;
            int descriptorBytes = 16 * size;
            int availableBytes = 6 + 2 * size;
            int usedOffset = (descriptorBytes + availableBytes + 4095) & ~4095;
            int usedBytes = 6 + 8 * size;
            DmaRegion region = DmaMemory.Allocate(usedOffset + usedBytes);
            _descriptors = region.Virtual;
            _available = (ushort*)(region.Virtual + descriptorBytes);
            _used = region.Virtual + usedOffset;
            DescriptorsPhysical = region.Physical;
            AvailablePhysical = region.Physical + (ulong)descriptorBytes;
            UsedPhysical = region.Physical + (ulong)usedOffset;
            _freeList = new ushort[size];
            _next = new short[size];
            for (ushort i = 0; i < size; i++) { _freeList[i] = i; _next[i] = -1; }
            _free = size;
        }

        public int FreeDescriptors => _free;

        /// <summary>Takes a free descriptor id (its buffer is the caller's to fill); -1 when the queue is full.</summary>
        public int AllocateDescriptor() => AllocateChain(1);

        /// <summary>
        /// Takes count free descriptors linked into one chain and returns its head, or -1 when
        /// fewer than count are free (then nothing is taken). Walk the chain with Next, describe
        /// each descriptor with Describe, then PublishChain(head). A chain may not be longer
        /// than the queue (§2.6.5.3.1: without indirect descriptors).
        /// </summary>
        public int AllocateChain(int count)
        {
            if (count <= 0 || count > _free) return -1;
            int head = _freeList[--_free];
            int previous = head;
            for (int i = 1; i < count; i++)
            {
                int id = _freeList[--_free];
                _next[previous] = (short)id;
                previous = id;
            }
            _next[previous] = -1;
            return head;
        }

        /// <summary>The descriptor after id in its chain, -1 when id is the last.</summary>
        public int Next(int id) => _next[id];

        /// <summary>
        /// Fills descriptor id with one buffer: device-readable, or device-writable when
        /// deviceWrites. The NEXT flag and link come from the chain id belongs to (§2.6.5:
        /// readable descriptors must come before writable ones in a chain; the caller orders them).
        /// </summary>
        public void Describe(int id, ulong physical, uint length, bool deviceWrites)
        {
            byte* d = _descriptors + 16 * id;
            int next = _next[id];
            ushort flags = deviceWrites ? DescriptorWrite : (ushort)0;
            if (next >= 0) flags |= DescriptorNext;
            *(ulong*)d = physical;
            *(uint*)(d + 8) = length;
            *(ushort*)(d + 12) = flags;
            *(ushort*)(d + 14) = next >= 0 ? (ushort)next : (ushort)0;
        }

        /// <summary>Makes the chain starting at head available to the device (§2.6.13). Notify afterwards.</summary>
        public void PublishChain(int head)
        {
            _available[2 + _nextAvailable % Size] = (ushort)head;
            _nextAvailable++;
            // The descriptors and ring entry must be visible before the index that publishes
            // them (§2.6.13). x86 keeps stores in order (Intel SDM Vol. 3A §9.2.2), and the
            // non-inlined store below keeps the JIT from moving the others past it.
            Volatile.Write(&_available[1], _nextAvailable);
        }

        /// <summary>Describes buffer id (a chain of one) and makes it available to the device.</summary>
        public void Publish(int id, ulong physical, uint length, bool deviceWrites)
        {
            Describe(id, physical, length, deviceWrites);
            PublishChain(id);
        }

        /// <summary>Offers one buffer to the device; returns its descriptor id or -1 when the queue is full.</summary>
        public int Offer(ulong physical, uint length, bool deviceWrites)
        {
            int id = AllocateDescriptor();
            if (id >= 0) Publish(id, physical, length, deviceWrites);
            return id;
        }

        /// <summary>
        /// Takes one buffer the device finished with: its head id and the bytes it wrote into it.
        /// False when none is waiting.
        /// </summary>
        public bool TryTakeUsed(out int id, out uint length)
        {
            while (true)
            {
                ushort deviceIndex = Volatile.Read((ushort*)(_used + 2));
                if (deviceIndex == _lastUsed) { id = -1; length = 0; return false; }
                byte* element = _used + 4 + 8 * (_lastUsed % Size);
                uint head = *(uint*)element;
                length = *(uint*)(element + 4);
                _lastUsed++;
                if (head < Size) { id = (int)head; return true; }
                BadUsedEntries++;
            }
        }

        /// <summary>True when the device has returned buffers not yet taken.</summary>
        public bool HasUsed => Volatile.Read((ushort*)(_used + 2)) != _lastUsed;

        /// <summary>Returns a buffer's descriptors (id and the rest of its chain) to the free list (after TryTakeUsed).</summary>
        public void Release(int id)
        {
            while (id >= 0)
            {
                int next = _next[id];
                _next[id] = -1;
                _freeList[_free++] = (ushort)id;
                id = next;
            }
        }
    }

    /// <summary>
    /// Loads and stores the JIT may not cache in a register, drop or move (device memory,
    /// rings the device writes). C# has no volatile pointers; a method the JIT may not
    /// inline is a boundary it cannot optimise across, and the access inside is one mov.
    /// </summary>
    public static unsafe class Volatile
    {
        [MethodImpl(MethodImplOptions.NoInlining)] public static byte Read(byte* p) => *p;
        [MethodImpl(MethodImplOptions.NoInlining)] public static ushort Read(ushort* p) => *p;
        [MethodImpl(MethodImplOptions.NoInlining)] public static uint Read(uint* p) => *p;
        [MethodImpl(MethodImplOptions.NoInlining)] public static ulong Read(ulong* p) => *p;
        [MethodImpl(MethodImplOptions.NoInlining)] public static void Write(byte* p, byte v) => *p = v;
        [MethodImpl(MethodImplOptions.NoInlining)] public static void Write(ushort* p, ushort v) => *p = v;
        [MethodImpl(MethodImplOptions.NoInlining)] public static void Write(uint* p, uint v) => *p = v;
        [MethodImpl(MethodImplOptions.NoInlining)] public static void Write(ulong* p, ulong v) => *p = v;
    }
}
