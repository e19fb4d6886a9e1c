// Copying between the kernel and user memory. The kernel never dereferences a user pointer:
// each user page is looked up in the process's page table and reached through the direct
// map. A page that is not mapped yet is faulted in through the pager first - the same miss
// path a user access takes (ExCache fill, RPC to the memory component) - so a syscall can
// take a buffer the program has never touched or that the ExCache evicted. An address that is
// not a user address (non-canonical, upper half, the top page), a page outside any area, or a
// write to a page mapped read-only makes the copy fail, and the syscall returns -EFAULT: a bad
// pointer never reaches a kernel page fault.
//
// Copies go one page at a time: the page just used may be evicted by the next page's miss,
// but its bytes have been copied by then. Writes through the direct map set no dirty bit, so
// the pager is told (KernelAccess) and the ExCache marks the line dirty.
using Tessera.Core.Memory;

namespace Tessera.Processor
{
    public static unsafe class UserAccess
    {
        /// <summary>The kernel's pointer to the user byte at address, faulting its page in; null when it cannot be reached.</summary>
        public static byte* Translate(Process p, ulong address, bool write)
        {
            if (!UserMode.IsUserAddress(address)) return null;
            for (int attempt = 0; attempt < 2; attempt++)
            {
                if (p.Space.Query(address, out PageMapping m) && PageFlags.IsUser(m.Entry))
                {
                    if (write && !PageFlags.IsWritable(m.Entry)) return null;
                    p.Pager.KernelAccess(p, address, m.PagePhysical, write);
                    return DirectMap.ToVirtual(m.Physical);
                }
                if (attempt > 0 || p.Pager.Fault(p, address, write ? FaultAccess.Write : FaultAccess.Read, 0) != 0) return null;
            }
            return null;
        }

        /// <summary>Bytes from user address source to the kernel's destination; false (nothing guaranteed copied) on a bad address.</summary>
        public static bool CopyFromUser(Process p, void* destination, ulong source, ulong length)
        {
            if (!UserMode.IsUserRange(source, length)) return false;
            byte* to = (byte*)destination;
            while (length > 0)
            {
                byte* from = Translate(p, source, write: false);
                if (from == null) return false;
                ulong chunk = 4096 - (source & 4095);
                if (chunk > length) chunk = length;
                Copy(to, from, chunk);
                to += chunk;
                source += chunk;
                length -= chunk;
            }
            return true;
        }

        /// <summary>Bytes from the kernel's source to user address destination; false on a bad or read-only address.</summary>
        public static bool CopyToUser(Process p, ulong destination, void* source, ulong length)
        {
            if (!UserMode.IsUserRange(destination, length)) return false;
            byte* from = (byte*)source;
            while (length > 0)
            {
                byte* to = Translate(p, destination, write: true);
                if (to == null) return false;
                ulong chunk = 4096 - (destination & 4095);
                if (chunk > length) chunk = length;
                Copy(to, from, chunk);
                from += chunk;
                destination += chunk;
                length -= chunk;
            }
            return true;
        }

        public static bool ReadUInt64(Process p, ulong address, out ulong value)
        {
            ulong v = 0;
            bool ok = CopyFromUser(p, &v, address, 8);
            value = v;
            return ok;
        }

        public static bool WriteUInt64(Process p, ulong address, ulong value) => CopyToUser(p, address, &value, 8);

        private static void Copy(byte* to, byte* from, ulong length)
        {
            ulong i = 0;
            for (; i + 8 <= length; i += 8) *(ulong*)(to + i) = *(ulong*)(from + i);
            for (; i < length; i++) to[i] = from[i];
        }
    }
}
