// Memory-mapped device registers. Every device driver reaches its registers
// through an MmioRegion, and every region comes from Mmio.Map, so the one place
// that decides the virtual address of device memory is Map: the kernel's direct
// map, uncached for device memory (kernel/Core/Memory/DirectMap.cs), which covers
// the local APIC (0xFEE00000) and the I/O APIC (0xFEC00000).
using System.Runtime;
using System.Runtime.CompilerServices;

namespace Tessera.Core
{
    public static unsafe class Mmio
    {
        /// <summary>Makes length bytes of device memory at physical reachable; panics if it cannot be.</summary>
        public static MmioRegion Map(ulong physical, ulong length)
        {
            byte* mapped = Memory.DirectMap.MapDevice(physical, length);
            if (mapped == null) Panic.Halt("Mmio.Map: device memory cannot be mapped");
            return new MmioRegion(physical, mapped, length);
        }

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("mmio_read32")] internal static extern uint Read32(void* address);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("mmio_write32")] internal static extern void Write32(void* address, uint value);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("mmio_read64")] internal static extern ulong Read64(void* address);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("mmio_write64")] internal static extern void Write64(void* address, ulong value);
    }

    /// <summary>A window of device registers: each access is one load or store of exactly its width.</summary>
    public sealed unsafe class MmioRegion
    {
        private readonly byte* _virtual;
        public ulong Physical { get; }
        public ulong Length { get; }

        internal MmioRegion(ulong physical, byte* virtualAddress, ulong length)
        {
            Physical = physical;
            _virtual = virtualAddress;
            Length = length;
        }

        public uint Read32(uint offset) { Check(offset, 4); return Mmio.Read32(_virtual + offset); }
        public void Write32(uint offset, uint value) { Check(offset, 4); Mmio.Write32(_virtual + offset, value); }
        public ulong Read64(uint offset) { Check(offset, 8); return Mmio.Read64(_virtual + offset); }
        public void Write64(uint offset, ulong value) { Check(offset, 8); Mmio.Write64(_virtual + offset, value); }

        private void Check(uint offset, uint width)
        {
            if ((ulong)offset + width > Length || (offset & (width - 1)) != 0) Panic.Halt("MMIO access outside its region or misaligned");
        }
    }
}
