// An address space populated up front from the processor's own frames, with no memory
// component behind it: what the self-tests run ring-3 code in. Every page the program may
// touch is mapped before it starts; a fault on anything else is outside any area (SIGSEGV).
// Such a space cannot change: brk reports the break unchanged and the other address-space
// calls fail with -ENOMEM, as a full address space would.
using System;
using Tessera.Core.Memory;
using Tessera.Processor.Syscalls;

namespace Tessera.Processor
{
    public sealed unsafe class FixedUserMemory : UserPager
    {
        private readonly ulong[] _pages;
        private readonly ulong[] _frames;
        private int _count;

        public FixedUserMemory(int capacity)
        {
            _pages = new ulong[capacity];
            _frames = new ulong[capacity];
        }

        /// <summary>Maps a zeroed local frame at address with flags (PageFlags); returns its bytes, or null when out of frames or capacity.</summary>
        public byte* AddPage(AddressSpace space, ulong address, ulong flags)
        {
            if (_count == _pages.Length || !PhysicalFrames.TryAllocate(out ulong frame)) return null;
            byte* bytes = DirectMap.ToVirtual(frame);
            new Span<ulong>(bytes, 512).Clear();
            if (space.Map(address & ~4095UL, frame, flags | PageFlags.User) != MapResult.Mapped)
            {
                PhysicalFrames.Free(frame);
                return null;
            }
            _pages[_count] = address & ~4095UL;
            _frames[_count] = frame;
            _count++;
            return bytes;
        }

        public override int Fault(Process p, ulong address, FaultAccess access, ulong ip) => -Errno.EFAULT;

        public override long Brk(Process p, ulong address) => (long)p.Brk;
        public override long Mmap(Process p, ulong address, ulong length, int prot, int flags, int fd, ulong offset) => -Errno.ENOMEM;
        public override long Munmap(Process p, ulong address, ulong length) => -Errno.ENOMEM;
        public override long Mprotect(Process p, ulong address, ulong length, int prot) => -Errno.ENOMEM;
        public override long Mremap(Process p, ulong oldAddress, ulong oldLength, ulong newLength, int flags, ulong newAddress) => -Errno.ENOMEM;
        public override long Madvise(Process p, ulong address, ulong length, int advice) => 0;

        public override void Release(Process p)
        {
            for (int i = 0; i < _count; i++)
            {
                p.Space.Unmap(_pages[i]);
                PhysicalFrames.Free(_frames[i]);
            }
            _count = 0;
        }
    }
}
