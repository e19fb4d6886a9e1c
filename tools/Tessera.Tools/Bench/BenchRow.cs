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
    /// <summary>This row's unit when it is not the report's (a throughput row in a latency report).
    /// Such a row is left out of the chart, whose axis has one unit.</summary>
    public string? Unit { get; init; }
    /// <summary>Decimals for this row's values when not the report's.</summary>
    public int? Decimals { get; init; }
    /// <summary>More numbers per run than the one in Samples (e.g. the fastest call and the p99 of
    /// each run, beside its median): each becomes a column of its own, see <see cref="RowStatistic"/>.</summary>
    public List<RowStatistic> Statistics { get; } = [];

    public double Min => SampleStats.Min(Samples);
    public double Median => SampleStats.Median(Samples);

    /// <summary>The statistic with this label, added (empty) on first use.</summary>
    public RowStatistic Statistic(string label, StatisticAggregate aggregate, bool inChart = true)
    {
        var existing = Statistics.FirstOrDefault(s => s.Label == label);
        if (existing != null) return existing;
        var created = new RowStatistic(label, aggregate, inChart);
        Statistics.Add(created);
        return created;
    }
}

/// <summary>How a statistic's per-run values make the one number the table shows.</summary>
public enum StatisticAggregate { Min, Median, Max }

/// <summary>
/// A further number recorded once per run, in the row's unit, shown in a column named
/// <see cref="Label"/> as the <see cref="Aggregate"/> of the runs' values: for a round-trip
/// row whose Samples are each run's median call, "fastest call" (Min of each run's quickest
/// call) and "p99" (Median of each run's 99th percentile).
/// </summary>
public sealed class RowStatistic(string label, StatisticAggregate aggregate, bool inChart = true)
{
    public string Label { get; } = label;
    public StatisticAggregate Aggregate { get; } = aggregate;
    /// <summary>Drawn as a marker in the chart; off for a tail (p99) far beyond the medians, which
    /// would stretch the axis until the bars are too short to compare.</summary>
    public bool InChart { get; } = inChart;
    public List<double> Samples { get; } = [];

    public double Value => Aggregate switch
    {
        StatisticAggregate.Min => SampleStats.Min(Samples),
        StatisticAggregate.Max => SampleStats.Max(Samples),
        _ => SampleStats.Median(Samples),
    };
}

/// <summary>A comparison worked out: ratios of medians and of mins, and the verdict on the target.</summary>
public sealed record ComparisonResult(Comparison Comparison, double MedianRatio, double MinRatio)
{
    public bool? Met => Comparison.IsMet(MedianRatio);
}
