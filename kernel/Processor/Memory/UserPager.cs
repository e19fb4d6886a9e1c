// Where a process's pages come from, and what its address-space syscalls do: the ExCache
// backed by a memory component (ExCacheMemory), or a space populated up front from local
// frames (FixedUserMemory, for self-tests that need no memory component).
namespace Tessera.Processor
{
    public abstract class UserPager
    {
        /// <summary>
        /// A not-present page at address: a fault in user mode at instruction ip, or a kernel
        /// copy of user memory (ip 0).
        /// Returns 0 once the page is mapped, -EFAULT when no area is there, -EACCES when the
        /// area forbids the access (both end a faulting program with SIGSEGV), or another
        /// negative errno when the page could not be fetched (the memory component did not answer).
        /// </summary>
        public abstract int Fault(Process p, ulong address, FaultAccess access, ulong ip);

        /// <summary>
        /// The kernel is about to read (write: false) or write the mapped user page at physical
        /// through the direct map, where the CPU sets neither the accessed nor the dirty bit.
        /// </summary>
        public virtual void KernelAccess(Process p, ulong address, ulong physical, bool write) { }

        public abstract long Brk(Process p, ulong address);
        public abstract long Mmap(Process p, ulong address, ulong length, int prot, int flags, int fd, ulong offset);
        public abstract long Munmap(Process p, ulong address, ulong length);
        public abstract long Mprotect(Process p, ulong address, ulong length, int prot);
        public abstract long Mremap(Process p, ulong oldAddress, ulong oldLength, ulong newLength, int flags, ulong newAddress);
        public abstract long Madvise(Process p, ulong address, ulong length, int advice);

        /// <summary>The process has ended and its page table is no longer active: release its pages.</summary>
        public abstract void Release(Process p);
    }
}
