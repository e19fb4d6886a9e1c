// Bits of an x86-64 paging-structure entry (Intel SDM Vol. 3A §4.5.5, Tables 4-15 to
// 4-20) and the results the page-table builder reports. Pure: kernels and host tests.
namespace Tessera.Core.Memory
{
    public static class PageFlags
    {
        public const ulong Present = 1UL << 0;        // P
        public const ulong Writable = 1UL << 1;       // R/W: writes allowed (for the kernel too: CR0.WP is set)
        public const ulong User = 1UL << 2;           // U/S: ring 3 may access
        public const ulong WriteThrough = 1UL << 3;   // PWT
        public const ulong CacheDisable = 1UL << 4;   // PCD; with PWT: uncacheable under the default PAT (device memory)
        public const ulong Accessed = 1UL << 5;       // A: set by the CPU on any access
        public const ulong Dirty = 1UL << 6;          // D: set by the CPU on a write (leaf entries only)
        public const ulong LargePage = 1UL << 7;      // PS: a 1 GiB (PDPTE) or 2 MiB (PDE) page
        public const ulong Global = 1UL << 8;         // G: kept across CR3 loads when CR4.PGE is set
        public const ulong Software0 = 1UL << 9;      // bits 9-11 are ignored by the CPU: free for the OS
        public const ulong Software1 = 1UL << 10;
        public const ulong Software2 = 1UL << 11;
        public const ulong NoExecute = 1UL << 63;     // XD: needs EFER.NXE, else the bit is reserved

        /// <summary>Bits 12-51: the physical address (of the next table or of the page).</summary>
        public const ulong AddressMask = 0x000FFFFFFFFFF000UL;

        /// <summary>The flags a caller may ask for; everything else is set by the builder or by the CPU.</summary>
        public const ulong Permissions = Writable | User | WriteThrough | CacheDisable | Global
                                        | Software0 | Software1 | Software2 | NoExecute;

        /// <summary>Uncached device memory (MMIO).</summary>
        public const ulong Device = WriteThrough | CacheDisable;

        public static bool IsPresent(ulong entry) => (entry & Present) != 0;
        public static bool IsWritable(ulong entry) => (entry & Writable) != 0;
        public static bool IsUser(ulong entry) => (entry & User) != 0;
        public static bool IsDirty(ulong entry) => (entry & Dirty) != 0;
        public static bool IsAccessed(ulong entry) => (entry & Accessed) != 0;
        public static bool IsExecutable(ulong entry) => (entry & NoExecute) == 0;
    }

    public enum PageSize { Small4K, Large2M, Huge1G }

    public enum MapResult
    {
        Mapped,
        AlreadyMapped,        // a present entry is in the way (unmap it first)
        Misaligned,           // virtual or physical address not aligned to the page size
        NonCanonical,         // bits 63-47 of the virtual address are not all equal (SDM Vol. 1 §3.3.7.1)
        BadPhysicalAddress,   // beyond the 52 bits an entry can hold
        LargePageInTheWay,    // a 2 MiB or 1 GiB page covers the address at a higher level
        OutOfMemory,          // no frame for an intermediate table
        KernelSlotLocked,     // would create a new top-level kernel entry after they were frozen
        WrongHalf,            // a user address space asked to map in the shared kernel half
    }

    /// <summary>What a virtual address translates to.</summary>
    public struct PageMapping
    {
        public ulong Entry;           // the leaf entry, flags included
        public PageSize Size;
        public ulong PageBytes;       // 4 KiB, 2 MiB or 1 GiB
        public ulong Physical;        // the physical address of the queried byte
        public ulong PagePhysical;    // the physical address of the page
    }
}
