// Where things go in a user address space: the constants Linux x86-64 uses with 4-level
// paging and address-space randomisation off (what `setarch -R` shows on a Linux host).
//
//   0x7ffffffff000  TaskSize = StackTop   (TASK_SIZE_MAX: 2^47 minus one guard page,
//                                          arch/x86/include/asm/page_64_types.h)
//        ...        the stack, growing down at most StackLimit (RLIMIT_STACK, 8 MiB)
//   0x7ffff7fff000  MmapBase = TaskSize - 128 MiB: mmap_base() in arch/x86/mm/mmap.c
//                   takes the stack limit plus the stack guard gap and clamps it to at
//                   least 128 MiB, so mmaps placed top-down below here never meet the
//                   stack; a static PIE is loaded here too, like a shared library
//        ...        mmap area, filled top-down
//   0x555555555000  brk heap of a static PIE: PAGE_ALIGN(ELF_ET_DYN_BASE), two thirds of
//                   the way up (fs/binfmt_elf.c moves a static PIE's brk out of the mmap
//                   area it was loaded into)
//        ...        mmap fallback area, filled bottom-up
//   0x2aaaaaaab000  LegacyBase = PAGE_ALIGN(TaskSize / 3) (TASK_UNMAPPED_BASE): where the
//                   bottom-up search starts when the top-down one finds no room
//        ...        brk heap of an ET_EXEC, growing up from the end of its bss
//   0x000000400000  typical ET_EXEC load address
//   0x000000010000  MmapMinAddr (vm.mmap_min_addr): nothing is mapped below this
//
// The layout is a value so the host tests can shrink the whole address space to a few
// hundred pages and make every operation collide with every other.
// Pure logic: compiled into the memory kernel and the host tests.
namespace Tessera.Memory
{
    public struct AddressSpaceLayout
    {
        public const ulong PageSize = 4096;
        public const ulong PageMask = PageSize - 1;

        public ulong MmapMinAddr;
        public ulong TaskSize;
        public ulong StackTop;
        public ulong MmapBase;
        public ulong LegacyBase;
        /// <summary>ELF_ET_DYN_BASE: where a static PIE's brk heap starts (page-aligned up).</summary>
        public ulong DynamicBase;
        /// <summary>Unmapped distance kept below a stack (stack_guard_gap: 256 pages).</summary>
        public ulong StackGuardGap;
        /// <summary>Largest size a stack area may grow to (RLIMIT_STACK).</summary>
        public ulong StackLimit;
        /// <summary>Most areas one address space may hold (vm.max_map_count).</summary>
        public int MaxMapCount;

        public static AddressSpaceLayout LinuxX8664
        {
            get
            {
                AddressSpaceLayout l;
                l.MmapMinAddr = 0x10000;
                l.TaskSize = 0x7ffffffff000;
                l.StackTop = 0x7ffffffff000;
                l.MmapBase = 0x7ffffffff000 - 128UL * 1024 * 1024;
                l.LegacyBase = PageAlign(0x7ffffffff000 / 3);
                l.DynamicBase = 0x7ffffffff000 / 3 * 2;
                l.StackGuardGap = 256 * PageSize;
                l.StackLimit = 8UL * 1024 * 1024;
                l.MaxMapCount = 65530;
                return l;
            }
        }

        public static ulong PageAlign(ulong value) => (value + PageMask) & ~PageMask;
        public static ulong PageDown(ulong value) => value & ~PageMask;
        public static bool IsPageAligned(ulong value) => (value & PageMask) == 0;
    }
}
