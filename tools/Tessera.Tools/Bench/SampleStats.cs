namespace Tessera.Tools.Bench;

/// <summary>
/// The statistics every benchmark reports (DESIGN §6): min and median over the runs. The min is
/// the least disturbed run (noise on a shared machine only ever adds time); the median is the
/// typical one. Both are NaN for no samples, so a configuration that never succeeded shows as
/// missing rather than as zero.
/// </summary>
public static class SampleStats
{
    public static double Min(IReadOnlyList<double> samples) => samples.Count == 0 ? double.NaN : samples.Min();

    public static double Max(IReadOnlyList<double> samples) => samples.Count == 0 ? double.NaN : samples.Max();

    /// <summary>The middle sample; for an even count the mean of the two middle ones.</summary>
    public static double Median(IReadOnlyList<double> samples)
    {
        if (samples.Count == 0) return double.NaN;
        var sorted = samples.Order().ToArray();
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /// <summary>value / baseline, NaN when either is missing or the baseline is zero.</summary>
    public static double Ratio(double value, double baseline) =>
        double.IsNaN(value) || double.IsNaN(baseline) || baseline == 0 ? double.NaN : value / baseline;
}
