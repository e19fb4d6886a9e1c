using System.Text;

namespace Tessera.Tests.Host;

/// <summary>
/// Lays out multiboot2 boot information (Multiboot2 Specification 2.0 §3.6): the 8-byte
/// header (total_size, reserved) then tags, each u32 type, u32 size (header included,
/// padding excluded), padded so the next tag starts 8-byte aligned (§3.6.1).
/// </summary>
public sealed class Multiboot2InfoBuilder
{
    public const ulong InfoAddress = 0x10000;

    public const uint TagEnd = 0, TagCommandLine = 1, TagLoaderName = 2, TagModule = 3,
                      TagBasicMemory = 4, TagMemoryMap = 6;

    private readonly LittleEndianWriter _bytes = new LittleEndianWriter().U32(0).U32(0);

    /// <summary>Where the next tag will start.</summary>
    public ulong NextTagAddress => InfoAddress + (ulong)_bytes.Length;

    /// <summary>A tag with the given body; sizeField overrides the size member (to corrupt it).</summary>
    public Multiboot2InfoBuilder Tag(uint type, byte[] body, uint? sizeField = null)
    {
        _bytes.U32(type).U32(sizeField ?? (uint)(8 + body.Length)).Bytes(body).AlignTo(8);
        return this;
    }

    public Multiboot2InfoBuilder CommandLine(string text) => Tag(TagCommandLine, CString(text));

    public Multiboot2InfoBuilder LoaderName(string text) => Tag(TagLoaderName, CString(text));

    public Multiboot2InfoBuilder Module(uint start, uint end, string name) =>
        Tag(TagModule, new LittleEndianWriter().U32(start).U32(end).CString(name).ToArray());

    public Multiboot2InfoBuilder BasicMemory(uint lowerKiB, uint upperKiB) =>
        Tag(TagBasicMemory, new LittleEndianWriter().U32(lowerKiB).U32(upperKiB).ToArray());

    /// <summary>
    /// A memory-map tag (§3.6.8): u32 entry_size, u32 entry_version, then entries of
    /// u64 base_addr, u64 length, u32 type, u32 reserved, each padded to entry_size.
    /// </summary>
    public Multiboot2InfoBuilder MemoryMap(params (ulong Base, ulong Length, uint Type)[] entries) =>
        MemoryMap(24, 0, entries);

    public Multiboot2InfoBuilder MemoryMap(uint entrySize, uint entryVersion, params (ulong Base, ulong Length, uint Type)[] entries)
    {
        if (entrySize < 24) throw new ArgumentException("entries shorter than 24 bytes: use Tag with raw bytes");
        var body = new LittleEndianWriter().U32(entrySize).U32(entryVersion);
        foreach (var (b, length, type) in entries)
        {
            body.U64(b).U64(length).U32(type).U32(0);
            body.Zeros((int)entrySize - 24);
        }
        return Tag(TagMemoryMap, body.ToArray());
    }

    public Multiboot2InfoBuilder End() => Tag(TagEnd, []);

    /// <summary>Raw bytes after the tags so far (e.g. half a tag).</summary>
    public Multiboot2InfoBuilder RawBytes(byte[] bytes) { _bytes.Bytes(bytes); return this; }

    /// <summary>The information bytes; total_size is their length unless overridden.</summary>
    public byte[] Build(uint? totalSize = null)
    {
        _bytes.PatchU32(0, totalSize ?? (uint)_bytes.Length);
        return _bytes.ToArray();
    }

    /// <summary>The information mapped at InfoAddress; nothing beyond its bytes is readable.</summary>
    public SyntheticPhysicalMemory Memory(uint? totalSize = null) =>
        new SyntheticPhysicalMemory().Map(InfoAddress, Build(totalSize));

    private static byte[] CString(string text) => Encoding.ASCII.GetBytes(text + "\0");
}
