using System.Runtime.InteropServices;
using Tessera.Memory;

namespace Tessera.Tests.Host.Memory;

/// <summary>
/// Frames for the page store on the host: 4096-aligned native blocks, the block's address
/// being the frame number. Every frame is tracked, so a test can assert that each one came
/// back exactly once (a double free or a foreign frame throws), and a limit makes allocation
/// fail on purpose. Fresh frames are filled with garbage, as real ones may be.
/// </summary>
public sealed unsafe class FakePageFrames : PageFrames, IDisposable
{
    private readonly HashSet<ulong> _live = [];
    public long Limit { get; set; } = long.MaxValue;
    public long Allocations { get; private set; }
    public long Outstanding => _live.Count;

    public override bool TryAllocate(out ulong frame)
    {
        frame = 0;
        if (_live.Count >= Limit) return false;
        byte* block = (byte*)NativeMemory.AlignedAlloc(FrameSize, FrameSize);
        new Span<byte>(block, FrameSize).Fill(0xCD);
        frame = (ulong)block;
        _live.Add(frame);
        Allocations++;
        return true;
    }

    public override void Free(ulong frame)
    {
        if (!_live.Remove(frame)) throw new InvalidOperationException($"frame {frame:x} freed but not allocated");
        NativeMemory.AlignedFree((void*)frame);
    }

    public override byte* Address(ulong frame)
    {
        if (!_live.Contains(frame)) throw new InvalidOperationException($"frame {frame:x} used but not allocated");
        return (byte*)frame;
    }

    public void Dispose()
    {
        foreach (ulong frame in _live) NativeMemory.AlignedFree((void*)frame);
        _live.Clear();
    }
}
