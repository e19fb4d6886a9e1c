using Tessera.Core.Memory;
using Xunit;

namespace Tessera.Tests.Host;

/// <summary>The kernel heap's size classes (kernel/Core/Memory/HeapSizeClasses.cs) as their header describes them.</summary>
public sealed class HeapSizeClassesTests
{
    [Fact]
    public void ClassesAreTheDocumentedSizes()
    {
        int[] expected =
        [
            16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256,
            320, 384, 448, 512, 640, 768, 896, 1024, 1280, 1536, 1792, 2048,
        ];
        Assert.Equal(HeapSizeClasses.Count, expected.Length);
        Assert.Equal(expected, Enumerable.Range(0, HeapSizeClasses.Count).Select(HeapSizeClasses.BlockSize).ToArray());
    }

    [Fact]
    public void EveryRequestGetsTheSmallestClassThatHoldsIt()
    {
        for (nuint size = 0; size <= HeapSizeClasses.LargestBlock; size++)
        {
            int c = HeapSizeClasses.ClassOf(size);
            Assert.InRange(c, 0, HeapSizeClasses.Count - 1);
            Assert.True((nuint)HeapSizeClasses.BlockSize(c) >= Math.Max(size, 1), $"class {c} too small for {size}");
            if (c > 0) Assert.True((nuint)HeapSizeClasses.BlockSize(c - 1) < size, $"{size} could use class {c - 1}");
            Assert.Equal(0, HeapSizeClasses.BlockSize(c) % HeapSizeClasses.Alignment);
            // Above 128 bytes a block wastes less than a fifth of itself (the header's claim).
            if (size > 128) Assert.True(HeapSizeClasses.BlockSize(c) - (int)size < HeapSizeClasses.BlockSize(c) / 5);
        }
    }

    [Fact]
    public void SlabsWasteAtMostAnEighthAndFitTheBitmaps()
    {
        for (int c = 0; c < HeapSizeClasses.Count; c++)
        {
            int bytes = HeapSizeClasses.SlabPages(c) * HeapSizeClasses.PageBytes;
            int blocks = HeapSizeClasses.BlocksPerSlab(c);
            Assert.InRange(blocks, 2, HeapSizeClasses.MaxBlocksPerSlab);
            Assert.True(bytes - blocks * HeapSizeClasses.BlockSize(c) <= bytes / 8, $"class {HeapSizeClasses.BlockSize(c)} wastes too much");
        }
        Assert.Equal(2, HeapSizeClasses.SlabPages(HeapSizeClasses.ClassOf(1536)));
        Assert.Equal(1, HeapSizeClasses.SlabPages(HeapSizeClasses.ClassOf(2048)));
    }
}
