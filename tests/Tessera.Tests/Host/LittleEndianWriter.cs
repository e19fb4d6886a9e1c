using System.Buffers.Binary;
using System.Text;

namespace Tessera.Tests.Host;

/// <summary>A growable little-endian byte buffer: the builders' way of laying out boot structures.</summary>
public sealed class LittleEndianWriter
{
    private readonly List<byte> _bytes = new();

    public int Length => _bytes.Count;

    public LittleEndianWriter U8(byte value) { _bytes.Add(value); return this; }

    public LittleEndianWriter U32(uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        foreach (byte x in b) _bytes.Add(x);
        return this;
    }

    public LittleEndianWriter U64(ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        foreach (byte x in b) _bytes.Add(x);
        return this;
    }

    public LittleEndianWriter Bytes(ReadOnlySpan<byte> bytes) { foreach (byte x in bytes) _bytes.Add(x); return this; }

    /// <summary>ASCII text followed by a NUL, as both multiboot versions store strings.</summary>
    public LittleEndianWriter CString(string text) => Bytes(Encoding.ASCII.GetBytes(text)).U8(0);

    public LittleEndianWriter Zeros(int count) { for (int i = 0; i < count; i++) _bytes.Add(0); return this; }

    /// <summary>Pads with zeros to a multiple of alignment.</summary>
    public LittleEndianWriter AlignTo(int alignment) => Zeros((alignment - _bytes.Count % alignment) % alignment);

    /// <summary>Overwrites a u32 already written (a size known only at the end).</summary>
    public void PatchU32(int offset, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        for (int i = 0; i < 4; i++) _bytes[offset + i] = b[i];
    }

    public byte[] ToArray() => _bytes.ToArray();
}
