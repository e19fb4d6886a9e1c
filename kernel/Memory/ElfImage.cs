// A static x86-64 Linux executable, as the loader sees it: the ELF64 header and program
// headers, validated, and turned into the areas to map and the source of every page.
//
// References: System V gABI "ELF-64 Object File Format" (header and program header
// layout), the x86-64 psABI (EM_X86_64 = 62), Linux fs/binfmt_elf.c (load_elf_binary,
// elf_load, load_elf_phdrs) for what a loader accepts and how segments become mappings.
//
//   ELF64 header (64 bytes)                 program header (56 bytes each)
//    0  e_ident[16]: 7f 'E' 'L' 'F',         0  p_type   u32
//       class 2 (64-bit), data 1 (LE),       4  p_flags  u32  (PF_X 1, PF_W 2, PF_R 4)
//       version 1                            8  p_offset u64
//   16  e_type u16 (2 EXEC, 3 DYN)          16  p_vaddr  u64
//   18  e_machine u16 (62 x86-64)           24  p_paddr  u64
//   20  e_version u32 (1)                   32  p_filesz u64
//   24  e_entry u64                         40  p_memsz  u64
//   32  e_phoff u64                         48  p_align  u64
//   54  e_phentsize u16 (56), 56 e_phnum u16
//
// How a PT_LOAD segment becomes memory (fs/binfmt_elf.c elf_map/elf_load, Linux 6.7+):
//   [PAGE_DOWN(vaddr), PAGE_ALIGN(vaddr + filesz))   private file mapping from file offset
//                                                    offset - (vaddr % 4096), so the first
//                                                    page also shows the file bytes before
//                                                    vaddr (this is how AT_PHDR points into
//                                                    the first segment);
//   when memsz > filesz, the rest of the last file page is zeroed (padzero) and
//   [PAGE_ALIGN(vaddr + filesz), PAGE_ALIGN(vaddr + memsz)) is anonymous (bss), read-write
//   (and executable if the segment is) as vm_brk_flags makes it, whatever the segment's
//   own flags; when memsz == filesz the last page shows whatever the file holds after the
//   segment, up to the end of the file.
//
// A static PIE (ET_DYN without PT_INTERP) is placed with a load bias chosen by the caller
// (ProgramLoader puts it top-down in the mmap area, as Linux does). Anything with PT_INTERP
// needs a dynamic linker and is refused.
//
// Every field is validated before use; a malformed file yields an ElfError, never a fault.
// Pure logic: compiled into the memory kernel and the host tests.
using System;

namespace Tessera.Memory
{
    public enum ElfError : byte
    {
        None,
        Truncated,
        BadMagic,
        NotElf64,
        NotLittleEndian,
        BadVersion,
        NotExecutable,
        WrongMachine,
        BadProgramHeaderSize,
        BadProgramHeaderCount,
        ProgramHeadersOutsideFile,
        DynamicallyLinked,
        NoLoadSegments,
        FileSizeExceedsMemorySize,
        SegmentBeyondFile,
        SegmentMisaligned,
        BadAlignment,
        SegmentsOutOfOrder,
        SegmentsOverlap,
        SegmentOutsideUserSpace,
        SegmentBelowMinimumAddress,
        EntryOutsideCode,
        BadTls,
    }

    public static class ElfErrors
    {
        /// <summary>Why the loader refused the file, in words for the log and the exec error.</summary>
        public static string Describe(ElfError error)
        {
            switch (error)
            {
                case ElfError.None: return "ok";
                case ElfError.Truncated: return "truncated: shorter than the 64-byte ELF header";
                case ElfError.BadMagic: return "bad magic: not an ELF file";
                case ElfError.NotElf64: return "not ELF64 (EI_CLASS is not ELFCLASS64)";
                case ElfError.NotLittleEndian: return "not little-endian (EI_DATA is not ELFDATA2LSB)";
                case ElfError.BadVersion: return "unknown ELF version";
                case ElfError.NotExecutable: return "not an executable (e_type is neither ET_EXEC nor ET_DYN)";
                case ElfError.WrongMachine: return "wrong machine: not x86-64 (e_machine is not EM_X86_64)";
                case ElfError.BadProgramHeaderSize: return "bad program header size (e_phentsize is not 56)";
                case ElfError.BadProgramHeaderCount: return "bad program header count (none, or more than fit a page)";
                case ElfError.ProgramHeadersOutsideFile: return "program headers beyond the end of the file";
                case ElfError.DynamicallyLinked: return "dynamically linked (PT_INTERP): only static executables run";
                case ElfError.NoLoadSegments: return "no PT_LOAD segment";
                case ElfError.FileSizeExceedsMemorySize: return "segment file size larger than its memory size";
                case ElfError.SegmentBeyondFile: return "segment extends beyond the end of the file";
                case ElfError.SegmentMisaligned: return "segment offset and address differ modulo the page size";
                case ElfError.BadAlignment: return "segment alignment is not a power of two";
                case ElfError.SegmentsOutOfOrder: return "PT_LOAD segments not sorted by address";
                case ElfError.SegmentsOverlap: return "PT_LOAD segments overlap or share a page";
                case ElfError.SegmentOutsideUserSpace: return "segment outside the user address space (absurd address or size)";
                case ElfError.SegmentBelowMinimumAddress: return "segment below the lowest mappable address (mmap_min_addr)";
                case ElfError.EntryOutsideCode: return "entry point not inside an executable PT_LOAD segment";
                case ElfError.BadTls: return "malformed or duplicate PT_TLS segment";
                default: return "unknown ELF error";
            }
        }
    }

    /// <summary>One program header's numbers (p_type aside).</summary>
    public struct ElfSegment
    {
        public ulong VirtualAddress;
        public ulong MemorySize;
        public ulong FileOffset;
        public ulong FileSize;
        public ulong Align;
        /// <summary>PF_X 1, PF_W 2, PF_R 4.</summary>
        public uint Flags;
        /// <summary>File offset where this segment's file bytes stop (zero beyond, in its pages).</summary>
        public ulong FileDataEnd;

        public const uint FlagExecute = 1;
        public const uint FlagWrite = 2;
        public const uint FlagRead = 4;

        /// <summary>The segment's flags as Prot bits.</summary>
        public byte Protection =>
            (byte)(((Flags & FlagRead) != 0 ? Prot.Read : 0) | ((Flags & FlagWrite) != 0 ? Prot.Write : 0) | ((Flags & FlagExecute) != 0 ? Prot.Exec : 0));

        /// <summary>Protection of the anonymous (bss) pages: read-write, plus execute if the segment has it.</summary>
        public byte BssProtection => (byte)(Prot.Read | Prot.Write | ((Flags & FlagExecute) != 0 ? Prot.Exec : 0));

        public ulong PageStart => AddressSpaceLayout.PageDown(VirtualAddress);
        /// <summary>End of the file-backed pages (PageStart when the segment has no file bytes).</summary>
        public ulong FileMapEnd => FileSize == 0 ? PageStart : AddressSpaceLayout.PageAlign(VirtualAddress + FileSize);
        public ulong MemoryEnd => AddressSpaceLayout.PageAlign(VirtualAddress + MemorySize);
        /// <summary>File offset shown at PageStart.</summary>
        public ulong MapOffset => FileOffset - (VirtualAddress & AddressSpaceLayout.PageMask);
    }

    public sealed class ElfImage
    {
        public const ushort TypeExecutable = 2;   // ET_EXEC
        public const ushort TypeShared = 3;       // ET_DYN
        public const ushort MachineX8664 = 62;    // EM_X86_64
        public const int HeaderSize = 64;
        public const int ProgramHeaderSize = 56;
        /// <summary>Linux reads at most one page of program headers (load_elf_phdrs, ELF_MIN_ALIGN).</summary>
        public const int MaxProgramHeaders = 4096 / ProgramHeaderSize;

        public const uint PtLoad = 1;
        public const uint PtInterp = 3;
        public const uint PtTls = 7;
        public const uint PtGnuStack = 0x6474e551;
        public const uint PtGnuRelro = 0x6474e552;

        // x86-64 user space ends here (TASK_SIZE_MAX); mmap_min_addr is checked for ET_EXEC.
        private const ulong UserEnd = 0x7ffffffff000;
        private const ulong MinimumAddress = 0x10000;

        private readonly ElfSegment[] _loads = new ElfSegment[MaxProgramHeaders];

        public ushort Type;
        public ulong Entry;
        public ulong ProgramHeaderOffset;
        public int ProgramHeaderCount;
        /// <summary>Where the program headers are in memory (before the bias), for AT_PHDR; 0 when no PT_LOAD holds them.</summary>
        public ulong ProgramHeaderAddress;
        public int LoadCount;
        public bool HasTls;
        public ElfSegment Tls;
        public bool HasRelro;
        public ElfSegment Relro;
        /// <summary>PT_GNU_STACK with PF_X; without PT_GNU_STACK x86-64 stacks are not executable.</summary>
        public bool ExecutableStack;
        public ulong FileLength;
        /// <summary>Largest power-of-two PT_LOAD alignment, at least a page (maximum_alignment).</summary>
        public ulong MaxAlign;

        public bool IsPositionIndependent => Type == TypeShared;
        public ElfSegment Load(int index) => _loads[index < LoadCount ? index : -1];
        /// <summary>PAGE_DOWN of the first PT_LOAD (before the bias).</summary>
        public ulong LowestAddress => LoadCount == 0 ? 0 : _loads[0].PageStart;
        /// <summary>End of the last PT_LOAD's memory, not page-aligned (before the bias).</summary>
        public ulong HighestAddress => LoadCount == 0 ? 0 : _loads[LoadCount - 1].VirtualAddress + _loads[LoadCount - 1].MemorySize;
        /// <summary>total_mapping_size: the span the PT_LOADs need, page-aligned.</summary>
        public ulong TotalMappingSize => AddressSpaceLayout.PageAlign(HighestAddress) - LowestAddress;

        /// <summary>Parses and validates file; on anything but None the image must not be used.</summary>
        public ElfError Parse(ReadOnlySpan<byte> file)
        {
            Type = 0; Entry = 0; ProgramHeaderOffset = 0; ProgramHeaderCount = 0; ProgramHeaderAddress = 0;
            LoadCount = 0; HasTls = false; Tls = default; HasRelro = false; Relro = default;
            ExecutableStack = false; FileLength = (ulong)file.Length; MaxAlign = AddressSpaceLayout.PageSize;

            if (file.Length < HeaderSize) return ElfError.Truncated;
            if (file[0] != 0x7f || file[1] != (byte)'E' || file[2] != (byte)'L' || file[3] != (byte)'F') return ElfError.BadMagic;
            if (file[4] != 2) return ElfError.NotElf64;
            if (file[5] != 1) return ElfError.NotLittleEndian;
            if (file[6] != 1 || U32(file, 20) != 1) return ElfError.BadVersion;
            Type = U16(file, 16);
            if (Type != TypeExecutable && Type != TypeShared) return ElfError.NotExecutable;
            if (U16(file, 18) != MachineX8664) return ElfError.WrongMachine;
            Entry = U64(file, 24);
            ProgramHeaderOffset = U64(file, 32);
            if (U16(file, 54) != ProgramHeaderSize) return ElfError.BadProgramHeaderSize;
            ProgramHeaderCount = U16(file, 56);
            if (ProgramHeaderCount == 0 || ProgramHeaderCount > MaxProgramHeaders) return ElfError.BadProgramHeaderCount;
            ulong tableSize = (ulong)ProgramHeaderCount * ProgramHeaderSize;
            if (ProgramHeaderOffset > FileLength || tableSize > FileLength - ProgramHeaderOffset) return ElfError.ProgramHeadersOutsideFile;

            bool phdrFound = false;
            for (int n = 0; n < ProgramHeaderCount; n++)
            {
                int at = (int)ProgramHeaderOffset + n * ProgramHeaderSize;
                uint type = U32(file, at);
                ElfSegment s;
                s.Flags = U32(file, at + 4);
                s.FileOffset = U64(file, at + 8);
                s.VirtualAddress = U64(file, at + 16);
                s.FileSize = U64(file, at + 32);
                s.MemorySize = U64(file, at + 40);
                s.Align = U64(file, at + 48);
                s.FileDataEnd = 0;

                if (type == PtInterp) return ElfError.DynamicallyLinked;
                if (type == PtGnuStack) { ExecutableStack = (s.Flags & ElfSegment.FlagExecute) != 0; continue; }
                if (type == PtGnuRelro) { HasRelro = true; Relro = s; continue; }
                if (type == PtTls)
                {
                    if (HasTls || s.FileSize > s.MemorySize || !WithinFile(s) || !IsPowerOfTwoOrZero(s.Align)) return ElfError.BadTls;
                    HasTls = true;
                    Tls = s;
                    continue;
                }
                if (type != PtLoad) continue;

                ElfError e = CheckLoad(ref s);
                if (e != ElfError.None) return e;
                if (s.MemorySize == 0) continue; // maps nothing
                if (LoadCount > 0)
                {
                    ref ElfSegment last = ref _loads[LoadCount - 1];
                    if (s.VirtualAddress < last.VirtualAddress) return ElfError.SegmentsOutOfOrder;
                    if (s.PageStart < last.MemoryEnd) return ElfError.SegmentsOverlap;
                }
                if (s.Align > MaxAlign) MaxAlign = s.Align;
                // fs/binfmt_elf.c: AT_PHDR is where the first PT_LOAD holding the table maps it.
                if (!phdrFound && s.FileOffset <= ProgramHeaderOffset && ProgramHeaderOffset - s.FileOffset < s.FileSize)
                {
                    ProgramHeaderAddress = ProgramHeaderOffset - s.FileOffset + s.VirtualAddress;
                    phdrFound = true;
                }
                _loads[LoadCount++] = s;
            }

            if (LoadCount == 0) return ElfError.NoLoadSegments;
            if (Type == TypeShared && TotalMappingSize > UserEnd) return ElfError.SegmentOutsideUserSpace;
            if (!InExecutableSegment(Entry)) return ElfError.EntryOutsideCode;
            if (HasTls && !InAnySegment(Tls.VirtualAddress, Tls.MemorySize)) return ElfError.BadTls;
            return ElfError.None;
        }

        private ElfError CheckLoad(ref ElfSegment s)
        {
            if (s.FileSize > s.MemorySize) return ElfError.FileSizeExceedsMemorySize;
            if (!WithinFile(s)) return ElfError.SegmentBeyondFile;
            if (!IsPowerOfTwoOrZero(s.Align)) return ElfError.BadAlignment;
            if (s.FileSize != 0 && ((s.VirtualAddress - s.FileOffset) & AddressSpaceLayout.PageMask) != 0) return ElfError.SegmentMisaligned;
            if (s.MemorySize > UserEnd || s.VirtualAddress > UserEnd - s.MemorySize) return ElfError.SegmentOutsideUserSpace;
            if (Type == TypeExecutable && s.MemorySize != 0 && s.PageStart < MinimumAddress) return ElfError.SegmentBelowMinimumAddress;
            if (s.MemorySize > s.FileSize)
            {
                s.FileDataEnd = s.FileOffset + s.FileSize; // padzero: the rest of the page is zero
            }
            else
            {
                ulong pagesEnd = s.MapOffset + (s.FileMapEnd - s.PageStart);
                s.FileDataEnd = pagesEnd < FileLength ? pagesEnd : FileLength;
            }
            return ElfError.None;
        }

        private bool WithinFile(in ElfSegment s) => s.FileOffset <= FileLength && s.FileSize <= FileLength - s.FileOffset;

        private static bool IsPowerOfTwoOrZero(ulong v) => (v & (v - 1)) == 0;

        private bool InExecutableSegment(ulong address)
        {
            for (int i = 0; i < LoadCount; i++)
            {
                ref ElfSegment s = ref _loads[i];
                if ((s.Flags & ElfSegment.FlagExecute) != 0 && address >= s.VirtualAddress && address - s.VirtualAddress < s.MemorySize) return true;
            }
            return false;
        }

        private bool InAnySegment(ulong address, ulong size)
        {
            for (int i = 0; i < LoadCount; i++)
            {
                ref ElfSegment s = ref _loads[i];
                if (address >= s.VirtualAddress && address - s.VirtualAddress <= s.MemorySize && size <= s.MemorySize - (address - s.VirtualAddress)) return true;
            }
            return false;
        }

        /// <summary>Most areas BuildAreas can produce: a file part and a bss part per segment.</summary>
        public int MaxAreaCount => 2 * LoadCount;

        /// <summary>
        /// Writes the areas to create for a load bias (0 for ET_EXEC) into areas, in address
        /// order, and returns how many. fileId names the executable for the page service.
        /// </summary>
        public int BuildAreas(ulong bias, ulong fileId, Span<Vma> areas)
        {
            int n = 0;
            for (int i = 0; i < LoadCount; i++) n += SegmentAreas(i, bias, fileId, areas.Slice(n));
            return n;
        }

        /// <summary>The one or two areas (file part, bss part) of PT_LOAD number segment; returns how many.</summary>
        public int SegmentAreas(int segment, ulong bias, ulong fileId, Span<Vma> areas)
        {
            ElfSegment s = Load(segment);
            int n = 0;
            if (s.FileMapEnd > s.PageStart)
            {
                Vma file = default;
                file.Start = s.PageStart + bias;
                file.End = s.FileMapEnd + bias;
                file.Kind = VmaKind.File;
                file.Protection = s.Protection;
                file.FileId = fileId;
                file.FileOffset = s.MapOffset;
                file.FileEnd = s.FileDataEnd;
                areas[n++] = file;
            }
            if (s.MemoryEnd > s.FileMapEnd)
            {
                Vma bss = default;
                bss.Start = s.FileMapEnd + bias;
                bss.End = s.MemoryEnd + bias;
                bss.Kind = VmaKind.Anonymous;
                bss.Protection = s.BssProtection;
                areas[n++] = bss;
            }
            return n;
        }

        /// <summary>
        /// Where the page holding address (before the bias) gets its bytes: false if no
        /// segment maps it; else fileBytes bytes from fileOffset (0 for a bss page), the rest
        /// zero, and the page's protection.
        /// </summary>
        public bool PageSource(ulong address, out ulong fileOffset, out uint fileBytes, out byte protection)
        {
            fileOffset = 0;
            fileBytes = 0;
            protection = 0;
            ulong page = AddressSpaceLayout.PageDown(address);
            for (int i = 0; i < LoadCount; i++)
            {
                ref ElfSegment s = ref _loads[i];
                if (page < s.PageStart || page >= s.MemoryEnd) continue;
                if (page >= s.FileMapEnd)
                {
                    protection = s.BssProtection;
                    return true;
                }
                protection = s.Protection;
                fileOffset = s.MapOffset + (page - s.PageStart);
                if (fileOffset < s.FileDataEnd)
                {
                    ulong left = s.FileDataEnd - fileOffset;
                    fileBytes = left >= AddressSpaceLayout.PageSize ? (uint)AddressSpaceLayout.PageSize : (uint)left;
                }
                return true;
            }
            return false;
        }

        private static ushort U16(ReadOnlySpan<byte> b, int at) => (ushort)(b[at] | (b[at + 1] << 8));
        private static uint U32(ReadOnlySpan<byte> b, int at) => (uint)(b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24));
        private static ulong U64(ReadOnlySpan<byte> b, int at) => U32(b, at) | ((ulong)U32(b, at + 4) << 32);
    }
}
