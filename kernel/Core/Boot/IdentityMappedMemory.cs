// PhysicalMemory for the kernel: boot/entry.asm identity-maps the first 4 GiB,
// so a physical address below that is directly a pointer.
using System;

namespace Tessera.Core.Boot
{
    public sealed unsafe class IdentityMappedMemory : PhysicalMemory
    {
        private const ulong MappedLimit = 4UL << 30;

        public override bool Read(ulong address, Span<byte> destination)
        {
            ulong length = (ulong)destination.Length;
            if (address == 0 || address >= MappedLimit || length > MappedLimit - address) return false;
            byte* source = (byte*)address;
            for (int i = 0; i < destination.Length; i++) destination[i] = source[i];
            return true;
        }
    }
}
