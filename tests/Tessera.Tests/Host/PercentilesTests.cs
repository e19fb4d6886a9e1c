using FsCheck;
using FsCheck.Xunit;
using Tessera.Core.Stats;
using Xunit;

namespace Tessera.Tests.Host;

/// <summary>
/// kernel/Core/Stats/Percentiles.cs: the in-place heapsort the kernel sorts its 10,000 round
/// trips with, and nearest-rank percentiles, which the kernel and the host baselines share.
/// </summary>
public sealed class PercentilesTests
{
    [Property(MaxTest = 300)]
    public void HeapsortSortsLikeArraySort(ulong[] samples)
    {
        var expected = (ulong[])samples.Clone();
        Array.Sort(expected);
        Percentiles.SortInPlace(samples);
        Assert.Equal(expected, samples);
    }

    [Fact]
    public void SortsTenThousandSamplesWithManyDuplicates()
    {
        var random = new Random(42);
        var samples = new ulong[10000];
        for (int i = 0; i < samples.Length; i++) samples[i] = (ulong)random.Next(0, 50);   // lots of equal keys
        var expected = (ulong[])samples.Clone();
        Array.Sort(expected);
        Percentiles.SortInPlace(samples);
        Assert.Equal(expected, samples);
    }

    [Property(MaxTest = 300)]
    public void NearestRankIsTheSmallestSampleWithAtLeastPPercentAtOrBelowIt(NonEmptyArray<ulong> input, byte rawPoints)
    {
        var sorted = input.Get.Order().ToArray();
        int basisPoints = rawPoints * 10000 / 255;   // 0 .. 100 % inclusive
        ulong value = Percentiles.OfSorted(sorted, basisPoints);
        Assert.Contains(value, sorted);
        // The definition: at least p % of the samples are <= value, and the rank before it has fewer.
        int rank = Percentiles.Rank(sorted.Length, basisPoints);
        Assert.InRange(rank, 1, sorted.Length);
        Assert.True((long)rank * 10000 >= (long)basisPoints * sorted.Length, "rank covers p %");
        Assert.True(rank == 1 || (long)(rank - 1) * 10000 < (long)basisPoints * sorted.Length, "rank is the smallest that covers p %");
        Assert.Equal(sorted[rank - 1], value);
    }

    [Fact]
    public void KnownValues()
    {
        ulong[] ten = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
        Assert.Equal(10ul, Percentiles.OfSorted(ten, 0));        // p0 = min
        Assert.Equal(10ul, Percentiles.OfSorted(ten, 1000));     // ceil(0.1 × 10) = rank 1
        Assert.Equal(50ul, Percentiles.OfSorted(ten, 5000));     // ceil(0.5 × 10) = rank 5: the lower middle, never an average
        Assert.Equal(60ul, Percentiles.OfSorted(ten, 5001));
        Assert.Equal(100ul, Percentiles.OfSorted(ten, 9900));    // ceil(9.9) = rank 10
        Assert.Equal(100ul, Percentiles.OfSorted(ten, 10000));   // p100 = max

        var thousand = Enumerable.Range(1, 1000).Select(i => (ulong)i).ToArray();
        Assert.Equal(990ul, Percentiles.OfSorted(thousand, 9900));
        Assert.Equal(999ul, Percentiles.OfSorted(thousand, 9990));
        Assert.Equal(500ul, Percentiles.OfSorted(thousand, 5000));

        Assert.Equal(0ul, Percentiles.OfSorted([], 5000));
        Assert.Equal(0, Percentiles.Rank(0, 5000));
        Assert.Equal(7ul, Percentiles.OfSorted([7], 9900));
    }

    [Fact]
    public void MeanRoundsDown()
    {
        Assert.Equal(2ul, Percentiles.Mean([1, 2, 4]));   // 7 / 3
        Assert.Equal(0ul, Percentiles.Mean([]));
    }
}
