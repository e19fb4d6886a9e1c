using System.Text;

namespace Tessera.Tests.Host;

/// <summary>
/// Lays out a multiboot1 information structure (Multiboot Specification 0.6.96 §3.3) and what
/// it points to in a SyntheticPhysicalMemory. Each part sits at a fixed address so a test can
/// name the address a problem must be reported at.
/// </summary>
public sealed class Multiboot1InfoBuilder
{
    public const ulong InfoAddress = 0x10000;
    public const uint CommandLineAddress = 0x20000;
    public const uint LoaderNameAddress = 0x28000;   // room for a command line past MaxStringBytes
    public const uint ModuleArrayAddress = 0x30000;
    public const uint ModuleNamesAddress = 0x31000;
    public const uint MemoryMapAddress = 0x40000;

    // Flag bits of §3.3.
    public const uint FlagMemory = 1 << 0, FlagCommandLine = 1 << 2, FlagModules = 1 << 3,
                      FlagMemoryMap = 1 << 6, FlagLoaderName = 1 << 9;

    // The full structure up to the framebuffer fields is 116 bytes (§3.3).
    private const int InfoSize = 116;

    private uint _flags, _memLower, _memUpper;
    private byte[]? _commandLine, _loaderName;
    private uint _commandLinePointer = CommandLineAddress, _loaderNamePointer = LoaderNameAddress;
    private readonly List<(uint Start, uint End, string Name)> _modules = new();
    private uint? _moduleCount;
    private readonly LittleEndianWriter _memoryMap = new();
    private uint? _memoryMapLength;

    public Multiboot1InfoBuilder BasicMemory(uint lowerKiB, uint upperKiB)
    {
        _flags |= FlagMemory; _memLower = lowerKiB; _memUpper = upperKiB;
        return this;
    }

    /// <summary>The command line as NUL-terminated ASCII at CommandLineAddress.</summary>
    public Multiboot1InfoBuilder CommandLine(string text) => CommandLineBytes(CString(text));

    /// <summary>Raw bytes at CommandLineAddress (no NUL added: the test decides).</summary>
    public Multiboot1InfoBuilder CommandLineBytes(byte[] raw) { _flags |= FlagCommandLine; _commandLine = raw; return this; }

    /// <summary>Sets the command-line flag and pointer only; the test maps (or does not map) the bytes.</summary>
    public Multiboot1InfoBuilder CommandLinePointer(uint address)
    {
        _flags |= FlagCommandLine; _commandLinePointer = address; _commandLine = null;
        return this;
    }

    public Multiboot1InfoBuilder LoaderName(string text) { _flags |= FlagLoaderName; _loaderName = CString(text); return this; }

    public Multiboot1InfoBuilder LoaderNamePointer(uint address)
    {
        _flags |= FlagLoaderName; _loaderNamePointer = address; _loaderName = null;
        return this;
    }

    public Multiboot1InfoBuilder Module(uint start, uint end, string name)
    {
        _flags |= FlagModules; _modules.Add((start, end, name));
        return this;
    }

    /// <summary>Claims a mods_count other than the number of modules laid out.</summary>
    public Multiboot1InfoBuilder ModuleCount(uint count) { _flags |= FlagModules; _moduleCount = count; return this; }

    /// <summary>
    /// One memory-map entry. sizeField is the entry's "size" member, which counts the bytes
    /// after itself (§3.3: "size ... can be greater than the minimum of 20"); the entry is
    /// padded to match, and the next entry starts at entry + sizeField + 4.
    /// </summary>
    public Multiboot1InfoBuilder MemoryMapEntry(ulong baseAddress, ulong length, uint type, uint sizeField = 20)
    {
        _flags |= FlagMemoryMap;
        _memoryMap.U32(sizeField).U64(baseAddress).U64(length).U32(type);
        if (sizeField > 20) _memoryMap.Zeros((int)(sizeField - 20));
        return this;
    }

    /// <summary>Raw memory-map bytes appended as they are.</summary>
    public Multiboot1InfoBuilder MemoryMapBytes(byte[] raw) { _flags |= FlagMemoryMap; _memoryMap.Bytes(raw); return this; }

    /// <summary>Claims an mmap_length other than the bytes laid out.</summary>
    public Multiboot1InfoBuilder MemoryMapLength(uint length) { _flags |= FlagMemoryMap; _memoryMapLength = length; return this; }

    /// <summary>Replaces the flags word (to test flags that disagree with what is laid out).</summary>
    public Multiboot1InfoBuilder Flags(uint flags) { _flags = flags; return this; }

    /// <summary>Address of memory-map entry bytes at offset into the map.</summary>
    public static ulong MemoryMapAt(int offset) => MemoryMapAddress + (ulong)offset;

    /// <summary>Address of the index-th module entry (16 bytes each, §3.3).</summary>
    public static ulong ModuleEntryAt(int index) => ModuleArrayAddress + (ulong)index * 16;

    public SyntheticPhysicalMemory Build() => Build(new SyntheticPhysicalMemory());

    public SyntheticPhysicalMemory Build(SyntheticPhysicalMemory memory)
    {
        var info = new LittleEndianWriter();
        info.U32(_flags).U32(_memLower).U32(_memUpper)
            .U32(0xFFFFFFFF)                                           // boot_device: none
            .U32(_commandLinePointer)
            .U32(_moduleCount ?? (uint)_modules.Count).U32(ModuleArrayAddress)
            .Zeros(16)                                                 // syms
            .U32(_memoryMapLength ?? (uint)_memoryMap.Length).U32(MemoryMapAddress)
            .U32(0).U32(0)                                             // drives
            .U32(0)                                                    // config_table
            .U32(_loaderNamePointer);
        info.Zeros(InfoSize - info.Length);
        memory.Map(InfoAddress, info.ToArray());

        if (_commandLine != null) memory.Map(_commandLinePointer, _commandLine);
        if (_loaderName != null) memory.Map(_loaderNamePointer, _loaderName);
        if (_modules.Count > 0)
        {
            var array = new LittleEndianWriter();
            var names = new LittleEndianWriter();
            foreach (var (start, end, name) in _modules)
            {
                array.U32(start).U32(end).U32(ModuleNamesAddress + (uint)names.Length).U32(0);
                names.CString(name);
            }
            memory.Map(ModuleArrayAddress, array.ToArray());
            memory.Map(ModuleNamesAddress, names.ToArray());
        }
        if (_memoryMap.Length > 0) memory.Map(MemoryMapAddress, _memoryMap.ToArray());
        return memory;
    }

    private static byte[] CString(string text) => Encoding.ASCII.GetBytes(text + "\0");
}
