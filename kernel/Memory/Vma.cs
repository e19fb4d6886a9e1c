// One virtual memory area: a page-aligned range [Start, End) of a user address space with
// one set of permissions and one source for its pages (Linux's struct vm_area_struct,
// reduced to what the memory component needs).
// Pure logic: compiled into the memory kernel and the host tests.
namespace Tessera.Memory
{
    public enum VmaKind : byte
    {
        /// <summary>Private anonymous memory (mmap MAP_ANONYMOUS, an executable's bss):
        /// every page is zero until written.</summary>
        Anonymous,
        /// <summary>Pages come from a file: FileId at FileOffset + (page - Start); bytes at
        /// or beyond FileEnd read as zero (the tail of an ELF segment's last file page).</summary>
        File,
        /// <summary>A stack: anonymous, and grows down on a fault just below it (VM_GROWSDOWN).</summary>
        Stack,
        /// <summary>The brk heap: anonymous, resized by brk(2).</summary>
        Heap,
    }

    public static class VmaFlags
    {
        /// <summary>MAP_SHARED: writes belong to the file (or, anonymous, to every sharer).</summary>
        public const byte Shared = 1;
    }

    /// <summary>What a page miss wants to do with the page.</summary>
    public enum FaultAccess : byte { Read, Write, Execute }

    /// <summary>What a page miss may do (the processor ends the process unless Allowed).</summary>
    public enum FaultVerdict : byte
    {
        Allowed,
        /// <summary>No area covers the address (SIGSEGV, SEGV_MAPERR).</summary>
        Unmapped,
        /// <summary>An area covers it but forbids this access (SIGSEGV, SEGV_ACCERR).</summary>
        Forbidden,
    }

    public struct Vma
    {
        public ulong Start;
        public ulong End;
        public ulong FileId;
        public ulong FileOffset;
        public ulong FileEnd;
        /// <summary>Prot.Read | Prot.Write | Prot.Exec (PROT_NONE is 0).</summary>
        public byte Protection;
        public VmaKind Kind;
        public byte Flags;

        public ulong Length => End - Start;
        public bool Contains(ulong address) => address >= Start && address < End;
        public bool IsShared => (Flags & VmaFlags.Shared) != 0;
        /// <summary>Any of read, write, execute (vma_is_accessible).</summary>
        public bool IsAccessible => (Protection & Prot.Access) != 0;

        /// <summary>
        /// Whether an access of this kind is allowed, as x86-64 Linux decides a fault
        /// (arch/x86/mm/fault.c access_error): a write needs write permission; a read is
        /// allowed by any permission, because x86 page tables cannot express write-only or
        /// execute-only pages; an instruction fetch needs execute permission, since the
        /// processor maps pages without it as no-execute.
        /// </summary>
        public bool Allows(FaultAccess access)
        {
            if (access == FaultAccess.Write) return (Protection & Prot.Write) != 0;
            if (access == FaultAccess.Execute) return (Protection & Prot.Exec) != 0;
            return IsAccessible;
        }

        /// <summary>
        /// Where the bytes of the page at pageAddress come from. False: the page starts as
        /// zeros. True: fileBytes bytes (0..4096) from the file at fileOffset, the rest zero.
        /// </summary>
        public bool FileSource(ulong pageAddress, out ulong fileOffset, out uint fileBytes)
        {
            fileOffset = 0;
            fileBytes = 0;
            if (Kind != VmaKind.File || !Contains(pageAddress)) return false;
            fileOffset = FileOffset + (AddressSpaceLayout.PageDown(pageAddress) - Start);
            if (fileOffset < FileEnd)
            {
                ulong left = FileEnd - fileOffset;
                fileBytes = left >= AddressSpaceLayout.PageSize ? (uint)AddressSpaceLayout.PageSize : (uint)left;
            }
            return true;
        }

        /// <summary>
        /// Whether next, starting where this one ends, could be the same area: the areas are
        /// kept merged whenever this holds, so the set is canonical (one area per maximal run
        /// of pages with equal attributes and contiguous file offsets).
        /// </summary>
        public bool CanMergeWith(in Vma next)
        {
            if (End != next.Start || Protection != next.Protection || Kind != next.Kind || Flags != next.Flags) return false;
            if (Kind != VmaKind.File) return true;
            return FileId == next.FileId && FileEnd == next.FileEnd && FileOffset + Length == next.FileOffset;
        }
    }
}
