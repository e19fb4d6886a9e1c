// What the boot loader told us, in one protocol-independent shape.
// Pure logic: compiled into the kernels and into the host tests.
namespace Tessera.Core.Boot
{
    public enum BootProtocol { Unknown, Multiboot1, Multiboot2 }

    // Types shared by multiboot1 and multiboot2 memory maps (multiboot2 spec §3.6.8).
    public enum MemoryRegionType : uint { Usable = 1, Reserved = 2, AcpiReclaimable = 3, AcpiNvs = 4, Defective = 5 }

    public struct MemoryRegion
    {
        public ulong Base;
        public ulong Length;
        public MemoryRegionType Type;
        public ulong End => Base + Length;
        public bool IsUsable => Type == MemoryRegionType.Usable;
    }

    public struct BootModule
    {
        public ulong Start;
        public ulong End;
        public byte[] Name;
    }

    public enum BootProblemKind
    {
        UnknownMagic,            // neither multiboot magic: no information at all
        UnreadableInfo,          // the information structure's address cannot be read
        TruncatedInfo,           // total size smaller than its own header, or larger than the limit
        TruncatedTag,            // a tag whose size is below 8 or runs past the end
        MissingEndTag,           // multiboot2 tags ended without the type-0 end tag
        BadMemoryMapEntrySize,   // entry size too small to hold an entry
        TruncatedMemoryMap,      // memory-map bytes end in the middle of an entry
        ZeroLengthRegion,        // a memory-map entry of length 0 (dropped)
        OverlappingRegions,      // two entries cover the same bytes (trimmed; reserved wins)
        TooManyRegions,          // more entries than BootInfo.MaxRegions (rest ignored)
        TooManyModules,          // more modules than BootInfo.MaxModules (rest ignored)
        UnterminatedString,      // command line or name without NUL inside its bounds (cut there)
        BadModuleRange,          // a module that ends before it starts
    }

    /// <summary>Bytes the boot loader's information occupies (structures, tables, strings).</summary>
    public struct LoaderDataRange
    {
        public ulong Start;
        public ulong End;       // exclusive
    }

    public struct BootProblem
    {
        public BootProblemKind Kind;
        public ulong Where;      // the address or offset the problem was found at
    }

    public sealed class BootInfo
    {
        public const int MaxRegions = 128;
        public const int MaxModules = 16;
        public const int MaxProblems = 32;
        public const int MaxLoaderData = 48;

        public BootProtocol Protocol;
        public byte[] CommandLine = new byte[0];
        public byte[] BootloaderName = new byte[0];
        public bool HasBasicMemory;
        public uint MemoryLowerKiB;
        public uint MemoryUpperKiB;

        public readonly MemoryRegion[] Regions = new MemoryRegion[MaxRegions];
        public int RegionCount;
        public readonly BootModule[] Modules = new BootModule[MaxModules];
        public int ModuleCount;
        public readonly BootProblem[] Problems = new BootProblem[MaxProblems];
        public int ProblemCount;
        /// <summary>Where the loader's information lives, so the frame allocator leaves it alone.</summary>
        public readonly LoaderDataRange[] LoaderData = new LoaderDataRange[MaxLoaderData];
        public int LoaderDataCount;

        public void AddLoaderData(ulong start, ulong length)
        {
            if (length == 0 || LoaderDataCount == MaxLoaderData) return;
            ulong end = start + length < start ? ulong.MaxValue : start + length;
            LoaderData[LoaderDataCount++] = new LoaderDataRange { Start = start, End = end };
        }

        public void Report(BootProblemKind kind, ulong where)
        {
            if (ProblemCount < MaxProblems) Problems[ProblemCount++] = new BootProblem { Kind = kind, Where = where };
        }

        public bool HasProblem(BootProblemKind kind)
        {
            for (int i = 0; i < ProblemCount; i++) if (Problems[i].Kind == kind) return true;
            return false;
        }

        public ulong UsableBytes
        {
            get
            {
                ulong sum = 0;
                for (int i = 0; i < RegionCount; i++) if (Regions[i].IsUsable) sum += Regions[i].Length;
                return sum;
            }
        }

        public ulong ReservedBytes
        {
            get
            {
                ulong sum = 0;
                for (int i = 0; i < RegionCount; i++) if (!Regions[i].IsUsable) sum += Regions[i].Length;
                return sum;
            }
        }

        /// <summary>Highest usable address + 1.</summary>
        public ulong UsableTop
        {
            get
            {
                ulong top = 0;
                for (int i = 0; i < RegionCount; i++)
                    if (Regions[i].IsUsable && Regions[i].End > top) top = Regions[i].End;
                return top;
            }
        }
    }

    /// <summary>Read access to physical memory, given by the kernel (identity map) or by a test.</summary>
    public abstract class PhysicalMemory
    {
        /// <summary>Copies destination.Length bytes from address; false when any of it is unreadable.</summary>
        public abstract bool Read(ulong address, System.Span<byte> destination);
    }
}
