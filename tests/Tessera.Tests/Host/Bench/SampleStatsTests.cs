using FsCheck.Xunit;
using Tessera.Tools.Bench;
using Xunit;

namespace Tessera.Tests.Host.Bench;

public sealed class SampleStatsTests
{
    [Fact]
    public void OddCountTakesTheMiddleOfTheSortedSamples()
    {
        double[] samples = [0.9, 0.2, 5.0, 0.4, 0.3];
        Assert.Equal(0.4, SampleStats.Median(samples));
        Assert.Equal(0.2, SampleStats.Min(samples));
        Assert.Equal(5.0, SampleStats.Max(samples));
    }

    [Fact]
    public void EvenCountAveragesTheTwoMiddleSamples()
    {
        Assert.Equal(2.5, SampleStats.Median([4.0, 1.0, 3.0, 2.0]));
        Assert.Equal(7.0, SampleStats.Median([7.0]));
    }

    [Fact]
    public void NoSamplesGiveNaNNotZero()
    {
        Assert.True(double.IsNaN(SampleStats.Min([])));
        Assert.True(double.IsNaN(SampleStats.Median([])));
        Assert.True(double.IsNaN(SampleStats.Ratio(1, double.NaN)));
        Assert.True(double.IsNaN(SampleStats.Ratio(1, 0)));
        Assert.Equal(0.25, SampleStats.Ratio(0.5, 2));
    }

    [Property(MaxTest = 500)]
    public bool MedianLiesBetweenMinAndMaxAndIgnoresOrder(int[] raw)
    {
        if (raw is null || raw.Length == 0) return true;
        double[] samples = raw.Select(x => (double)x).ToArray();
        double median = SampleStats.Median(samples);
        double[] reversed = samples.Reverse().ToArray();
        // At least half the samples are <= the median and at least half are >=.
        int below = samples.Count(s => s <= median), above = samples.Count(s => s >= median);
        return SampleStats.Min(samples) <= median && median <= SampleStats.Max(samples)
            && SampleStats.Median(reversed) == median
            && 2 * below >= samples.Length && 2 * above >= samples.Length;
    }
}
