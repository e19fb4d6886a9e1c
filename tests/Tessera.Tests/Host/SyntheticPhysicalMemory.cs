using Tessera.Core.Boot;

namespace Tessera.Tests.Host;

/// <summary>
/// Physical memory for parser tests: a few blocks of bytes placed at chosen addresses.
/// Every byte outside a block is unreadable, so a read that touches one fails as a
/// read past the identity map does in the kernel (IdentityMappedMemory).
/// </summary>
public sealed class SyntheticPhysicalMemory : PhysicalMemory
{
    private readonly Dictionary<ulong, byte[]> _blocks = new();

    /// <summary>How many times Read was called: lets a test show the parser's work is bounded.</summary>
    public long ReadCalls { get; private set; }

    /// <summary>Places bytes at address (blocks must not overlap; adjacent blocks read as one).</summary>
    public SyntheticPhysicalMemory Map(ulong address, byte[] bytes)
    {
        foreach (var (start, block) in _blocks)
            if (address < start + (ulong)block.Length && start < address + (ulong)bytes.Length)
                throw new ArgumentException($"block at 0x{address:x} overlaps the block at 0x{start:x}");
        _blocks[address] = bytes;
        return this;
    }

    public override bool Read(ulong address, Span<byte> destination)
    {
        ReadCalls++;
        for (int i = 0; i < destination.Length; i++)
        {
            ulong at = address + (ulong)i;
            if (at < address) return false; // wrapped past 2^64: no such byte
            if (!TryByte(at, out destination[i])) return false;
        }
        return true;
    }

    private bool TryByte(ulong at, out byte value)
    {
        foreach (var (start, block) in _blocks)
            if (at >= start && at - start < (ulong)block.Length) { value = block[at - start]; return true; }
        value = 0;
        return false;
    }
}
