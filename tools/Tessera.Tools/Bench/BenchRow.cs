namespace Tessera.Tools.Bench;

/// <summary>
/// "Compare this row with that baseline row": the ratio row / baseline (of the medians, and of
/// the mins), shown in the column named <see cref="Label"/>. A target, when given, is a bound
/// on the ratio of the medians: at most (lower is better, e.g. time) or at least (e.g. throughput).
/// Several rows can share a label while naming different baselines (each Tessera boot path
/// against the floor of the same path, all in one "vs floor" column).
/// </summary>
public sealed record Comparison(string Label, string Baseline, double? AtMost = null, double? AtLeast = null)
{
    public string? TargetText => AtMost is double most ? $"≤ {most:0.###}×" : AtLeast is double least ? $"≥ {least:0.###}×" : null;

    /// <summary>Whether a ratio meets the target; null when there is no target or no ratio.</summary>
    public bool? IsMet(double ratio)
    {
        if (double.IsNaN(ratio) || (AtMost is null && AtLeast is null)) return null;
        return (AtMost is not double most || ratio <= most) && (AtLeast is not double least || ratio >= least);
    }
}

/// <summary>
/// One configuration of a benchmark and its samples (in the report's unit). Failed runs (a
/// timeout, a wrong exit code) are counted, never recorded as samples.
/// </summary>
public sealed class BenchRow
{
    public required string Name { get; init; }
    public bool IsBaseline { get; init; }
    /// <summary>What exactly was run: command line, boot path. Goes into the notes under the table.</summary>
    public string? Description { get; init; }
    public IReadOnlyList<Comparison> Comparisons { get; init; } = [];
    public List<double> Samples { get; } = [];
    public int Failures { get; set; }

    public double Min => SampleStats.Min(Samples);
    public double Median => SampleStats.Median(Samples);
}

/// <summary>A comparison worked out: ratios of medians and of mins, and the verdict on the target.</summary>
public sealed record ComparisonResult(Comparison Comparison, double MedianRatio, double MinRatio)
{
    public bool? Met => Comparison.IsMet(MedianRatio);
}
