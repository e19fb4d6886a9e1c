using System.Runtime.InteropServices;
using Tessera.Core.Memory;

namespace Tessera.Tests.Host;

/// <summary>
/// A page source where every run is its own NativeMemory.AlignedAlloc: addresses scattered
/// as the host's allocator likes (so the heap's page map is sparse), and a ledger of every
/// run handed out, so a test can see exactly what the heap gave back and with what count.
/// </summary>
public sealed unsafe class NativePages : IDisposable
{
    private readonly Dictionary<nuint, int> _runs = [];

    /// <summary>The source refuses runs that would take more pages than this outstanding.</summary>
    public int PageLimit { get; set; } = int.MaxValue;
    public int PagesOutstanding { get; private set; }
    /// <summary>FreePages calls with an address or count the source never handed out.</summary>
    public int BadFrees { get; private set; }
    public List<(nuint Address, int Count)> Returned { get; } = [];

    public NativePageSource Source => new(this);

    public byte* Allocate(int count)
    {
        if (count <= 0 || PagesOutstanding + count > PageLimit) return null;
        byte* run = (byte*)NativeMemory.AlignedAlloc((nuint)count * 4096, 4096);
        _runs.Add((nuint)run, count);
        PagesOutstanding += count;
        return run;
    }

    public void Free(byte* address, int count)
    {
        if (!_runs.TryGetValue((nuint)address, out int had) || had != count) { BadFrees++; return; }
        _runs.Remove((nuint)address);
        PagesOutstanding -= count;
        Returned.Add(((nuint)address, count));
        NativeMemory.AlignedFree(address);
    }

    public bool IsOutstanding(void* address, int count) => _runs.TryGetValue((nuint)address, out int had) && had == count;

    public void Dispose()
    {
        foreach (var run in _runs.Keys) NativeMemory.AlignedFree((void*)run);
        _runs.Clear();
    }
}

/// <summary>The struct handle SlabHeap takes (IPageSource.cs): forwards to a NativePages ledger.</summary>
public readonly unsafe struct NativePageSource(NativePages pages) : IPageSource
{
    public byte* AllocatePages(int count) => pages.Allocate(count);
    public void FreePages(byte* address, int count) => pages.Free(address, count);
}

/// <summary>One native block handed to a RegionPageSource: the kernel's own page source, on the host.</summary>
public sealed unsafe class NativeRegion : IDisposable
{
    public byte* Start { get; }
    public nuint Bytes { get; }
    public RegionPageSource Source { get; }

    public NativeRegion(nuint bytes)
    {
        Bytes = bytes;
        Start = (byte*)NativeMemory.AlignedAlloc(bytes, 4096);
        Source = new RegionPageSource(Start, Start + bytes);
    }

    public void Dispose() => NativeMemory.AlignedFree(Start);
}
