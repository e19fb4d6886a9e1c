// A split virtqueue (virtio 1.1 §2.6): the descriptor table, the available ring the
// driver fills and the used ring the device fills, in one DMA region.
//   descriptor (16 B): addr le64 | len le32 | flags le16 (NEXT=1, WRITE=2) | next le16
//   avail: flags le16 | idx le16 | ring[size] le16 | used_event le16
//   used:  flags le16 | idx le16 | ring[size] { id le32, len le32 } | avail_event le16
// This driver puts one buffer per descriptor (no chains), so a descriptor index is also
// the buffer's index.
using System.Runtime.CompilerServices;
using Tessera.Core.Memory;

namespace Tessera.Drivers
{
    public sealed unsafe class Virtqueue
    {
        private const ushort DescriptorWrite = 2;

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
            for (ushort i = 0; i < size; i++) _freeList[i] = i;
            _free = size;
        }

        public int FreeDescriptors => _free;

        /// <summary>Takes a free descriptor id (its buffer is the caller's to fill); -1 when the queue is full.</summary>
        public int AllocateDescriptor() => _free == 0 ? -1 : _freeList[--_free];

        /// <summary>Describes buffer id and makes it available to the device.</summary>
        public void Publish(int id, ulong physical, uint length, bool deviceWrites)
        {
            byte* d = _descriptors + 16 * id;
            *(ulong*)d = physical;
            *(uint*)(d + 8) = length;
            *(ushort*)(d + 12) = deviceWrites ? DescriptorWrite : (ushort)0;
            *(ushort*)(d + 14) = 0;
            _available[2 + _nextAvailable % Size] = (ushort)id;
            _nextAvailable++;
            // The descriptor and ring entry must be visible before the index that publishes
            // them (§2.6.13). x86 keeps stores in order (Intel SDM Vol. 3A §9.2.2), and the
            // non-inlined store below keeps the JIT from moving the others past it.
            Volatile.Write(&_available[1], _nextAvailable);
        }

        /// <summary>Offers one buffer to the device; returns its descriptor id or -1 when the queue is full.</summary>
        public int Offer(ulong physical, uint length, bool deviceWrites)
        {
            int id = AllocateDescriptor();
            if (id >= 0) Publish(id, physical, length, deviceWrites);
            return id;
        }

        /// <summary>Takes one buffer the device finished with: its id and the bytes it wrote. False when none.</summary>
        public bool TryTakeUsed(out int id, out uint length)
        {
            ushort deviceIndex = Volatile.Read((ushort*)(_used + 2));
            if (deviceIndex == _lastUsed) { id = -1; length = 0; return false; }
            byte* element = _used + 4 + 8 * (_lastUsed % Size);
            id = (int)*(uint*)element;
            length = *(uint*)(element + 4);
            _lastUsed++;
            return true;
        }

        /// <summary>True when the device has returned buffers not yet taken.</summary>
        public bool HasUsed => Volatile.Read((ushort*)(_used + 2)) != _lastUsed;

        /// <summary>Returns a descriptor to the free list (after TryTakeUsed).</summary>
        public void Release(int id) => _freeList[_free++] = (ushort)id;
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
