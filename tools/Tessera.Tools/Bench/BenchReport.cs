using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;

namespace Tessera.Tools.Bench;

/// <summary>
/// The result of one benchmark run, written the way DESIGN §6 asks of every benchmark: JSON for
/// machines, a Markdown table for the README, a PNG chart (<see cref="BenchChart"/>), and the
/// same table on the terminal. Rows are configurations; baseline rows are what the others are
/// compared against, by the ratios each row asks for (<see cref="Comparison"/>).
/// Lower values are taken to be better only in the chart's wording; targets say their own direction.
/// </summary>
public sealed class BenchReport
{
    /// <summary>File name stem: out/bench/&lt;Name&gt;.{json,md,png}.</summary>
    public required string Name { get; init; }
    public required string Title { get; init; }
    /// <summary>What one sample is, in words ("wall time from QEMU start to the banner").</summary>
    public required string Metric { get; init; }
    public string Unit { get; init; } = "s";
    /// <summary>Decimals shown for values in the table and the chart (JSON keeps full precision).</summary>
    public int Decimals { get; init; } = 3;
    public DateTimeOffset Date { get; init; } = DateTimeOffset.UtcNow;
    /// <summary>Where it ran (CPU, cores, QEMU version ...), in the order given.</summary>
    public List<KeyValuePair<string, string>> Machine { get; } = [];
    public List<string> Notes { get; } = [];
    public List<BenchRow> Rows { get; } = [];

    public BenchRow Add(BenchRow row)
    {
        if (Rows.Any(r => r.Name == row.Name)) throw new ArgumentException($"duplicate row '{row.Name}'", nameof(row));
        Rows.Add(row);
        return row;
    }

    public BenchRow Row(string name) =>
        Rows.FirstOrDefault(r => r.Name == name) ?? throw new ArgumentException($"no row named '{name}'", nameof(name));

    public IReadOnlyList<ComparisonResult> Compare(BenchRow row) =>
        row.Comparisons.Select(c =>
        {
            var baseline = Row(c.Baseline);
            return new ComparisonResult(c, SampleStats.Ratio(row.Median, baseline.Median), SampleStats.Ratio(row.Min, baseline.Min));
        }).ToList();

    /// <summary>The ratio columns: every comparison label in order of first appearance, the measured
    /// rows' labels first (baselines compared for context should not decide the column order).</summary>
    public IReadOnlyList<string> ComparisonLabels =>
        Rows.Where(r => !r.IsBaseline).Concat(Rows.Where(r => r.IsBaseline))
            .SelectMany(r => r.Comparisons).Select(c => c.Label).Distinct().ToList();

    /// <summary>True when every comparison that has a target meets it (and every row has samples).</summary>
    public bool AllTargetsMet =>
        Rows.All(r => r.Samples.Count > 0) && Rows.SelectMany(Compare).All(c => c.Met != false);

    public string FormatValue(double value) => FormatValue(value, Unit, Decimals);

    /// <summary>A value of this row, in the row's own unit and decimals where it has them.</summary>
    public string FormatValue(BenchRow row, double value) => FormatValue(value, UnitOf(row), row.Decimals ?? Decimals);

    public string UnitOf(BenchRow row) => row.Unit ?? Unit;

    private static string FormatValue(double value, string unit, int decimals) =>
        double.IsNaN(value) ? "—" : value.ToString("F" + decimals, CultureInfo.InvariantCulture) + (unit.Length > 0 ? " " + unit : "");

    /// <summary>The statistic columns (after median): every statistic label in order of first appearance.</summary>
    public IReadOnlyList<string> StatisticLabels =>
        Rows.SelectMany(r => r.Statistics).Select(s => s.Label).Distinct().ToList();

    private string StatisticCell(BenchRow row, string label)
    {
        var statistic = row.Statistics.FirstOrDefault(s => s.Label == label);
        return statistic is null ? "" : FormatValue(row, statistic.Value);
    }

    public static string FormatRatio(double ratio) =>
        double.IsNaN(ratio) ? "—" : ratio.ToString(ratio < 0.1 ? "0.000" : "0.00", CultureInfo.InvariantCulture) + "×";

    // ---------------------------------------------------------------- JSON

    private sealed record JsonComparison(string Label, string Baseline, double? AtMost, double? AtLeast, double? MedianRatio, double? MinRatio, bool? Met);
    private sealed record JsonStatistic(string Label, string Aggregate, double? Value, double[] Samples);
    private sealed record JsonRow(string Name, bool Baseline, string? Description, string? Unit, int Runs, int Failures, double? Min, double? Median, double[] Samples,
        JsonStatistic[]? Statistics, JsonComparison[] Comparisons);
    private sealed record JsonReport(string Name, string Title, string Metric, string Unit, DateTimeOffset Date, Dictionary<string, string> Machine,
        string[] Notes, bool AllTargetsMet, JsonRow[] Rows);

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private static double? OrNull(double value) => double.IsNaN(value) ? null : value;

    public string ToJson()
    {
        var report = new JsonReport(Name, Title, Metric, Unit, Date, Machine.ToDictionary(kv => kv.Key, kv => kv.Value), [.. Notes], AllTargetsMet,
            Rows.Select(r => new JsonRow(r.Name, r.IsBaseline, r.Description, r.Unit, r.Samples.Count, r.Failures, OrNull(r.Min), OrNull(r.Median), [.. r.Samples],
                r.Statistics.Count == 0 ? null : r.Statistics.Select(s => new JsonStatistic(s.Label, s.Aggregate.ToString().ToLowerInvariant(), OrNull(s.Value), [.. s.Samples])).ToArray(),
                Compare(r).Select(c => new JsonComparison(c.Comparison.Label, c.Comparison.Baseline, c.Comparison.AtMost, c.Comparison.AtLeast,
                    OrNull(c.MedianRatio), OrNull(c.MinRatio), c.Met)).ToArray())).ToArray());
        return JsonSerializer.Serialize(report, JsonOptions) + "\n";
    }

    // ---------------------------------------------------------------- Markdown

    /// <summary>The header of a ratio column, with the target when every row in it that has one has the same
    /// (rows without a target, typically baselines compared for context, get no verdict).</summary>
    private string ColumnHeader(string label) =>
        SharedTarget(label) is string target ? $"{label} (target {target})" : label;

    private string? SharedTarget(string label)
    {
        var targets = Rows.SelectMany(r => r.Comparisons).Where(c => c.Label == label && c.TargetText != null).Select(c => c.TargetText).Distinct().ToList();
        return targets.Count == 1 ? targets[0] : null;
    }

    private static string Verdict(bool? met, bool markdown) => met switch
    {
        true => markdown ? " ✓" : " [green]✓[/]",
        false => markdown ? " ✗" : " [red]✗[/]",
        null => "",
    };

    private string RunsText(BenchRow row) => row.Failures == 0 ? $"{row.Samples.Count}" : $"{row.Samples.Count} (+{row.Failures} failed)";

    /// <summary>The cell of one ratio: median ratio, the verdict, and the min ratio beside it.</summary>
    private string RatioCell(BenchRow row, string label, bool markdown)
    {
        var result = Compare(row).FirstOrDefault(c => c.Comparison.Label == label);
        if (result is null) return "";
        string target = SharedTarget(label) is null && result.Comparison.TargetText is string t ? $" (target {t})" : "";
        return $"{FormatRatio(result.MedianRatio)}{Verdict(result.Met, markdown)} (min {FormatRatio(result.MinRatio)}){target}";
    }

    public string ToMarkdown()
    {
        var labels = ComparisonLabels;
        var md = new StringBuilder();
        md.Append("## ").Append(Title).Append("\n\n");
        md.Append(Metric).Append(". Min and median over the runs; ratios are of medians (of mins in brackets), ")
          .Append("a target applies to the median ratio.\n\n");
        var statistics = StatisticLabels;
        md.Append("| configuration | runs | min | median |");
        foreach (var s in statistics) md.Append(' ').Append(s).Append(" |");
        foreach (var l in labels) md.Append(' ').Append(ColumnHeader(l)).Append(" |");
        md.Append("\n|---|---:|---:|---:|");
        foreach (var _ in statistics) md.Append("---:|");
        foreach (var _ in labels) md.Append("---:|");
        md.Append('\n');
        foreach (var r in Rows)
        {
            string name = r.Name.Replace("|", "\\|");   // a pipe would end the cell
            md.Append("| ").Append(r.IsBaseline ? $"*{name}* (baseline)" : name)
              .Append(" | ").Append(RunsText(r))
              .Append(" | ").Append(FormatValue(r, r.Min))
              .Append(" | ").Append(FormatValue(r, r.Median)).Append(" |");
            foreach (var s in statistics) md.Append(' ').Append(StatisticCell(r, s)).Append(" |");
            foreach (var l in labels) md.Append(' ').Append(RatioCell(r, l, markdown: true)).Append(" |");
            md.Append('\n');
        }
        md.Append('\n');
        if (Rows.Any(r => r.Comparisons.Any(c => c.TargetText != null)))
            md.Append(AllTargetsMet ? "Every target met.\n\n" : "**Not every target met** (✗ above).\n\n");
        md.Append("Run on ").Append(Date.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture));
        foreach (var kv in Machine) md.Append("; ").Append(kv.Key).Append(": ").Append(kv.Value);
        md.Append(".\n\n");
        var described = Rows.Where(r => r.Description != null).ToList();
        if (described.Count > 0)
        {
            md.Append("Configurations:\n\n");
            foreach (var r in described) md.Append("- ").Append(r.Name).Append(": ").Append(r.Description).Append('\n');
            md.Append('\n');
        }
        if (Notes.Count > 0)
        {
            md.Append("Notes:\n\n");
            foreach (var n in Notes) md.Append("- ").Append(n).Append('\n');
            md.Append('\n');
        }
        return md.ToString();
    }

    // ---------------------------------------------------------------- terminal

    public Table ToConsoleTable()
    {
        var labels = ComparisonLabels;
        var table = new Table().Title(Markup.Escape(Title));
        table.AddColumn("configuration");
        table.AddColumn(new TableColumn("runs").RightAligned());
        table.AddColumn(new TableColumn("min").RightAligned());
        table.AddColumn(new TableColumn("median").RightAligned());
        var statistics = StatisticLabels;
        foreach (var s in statistics) table.AddColumn(new TableColumn(Markup.Escape(s)).RightAligned());
        foreach (var l in labels) table.AddColumn(new TableColumn(Markup.Escape(ColumnHeader(l))).RightAligned());
        foreach (var r in Rows)
        {
            var cells = new List<string>
            {
                r.IsBaseline ? $"[grey]{Markup.Escape(r.Name)} (baseline)[/]" : Markup.Escape(r.Name),
                r.Failures == 0 ? RunsText(r) : $"[yellow]{Markup.Escape(RunsText(r))}[/]",
                FormatValue(r, r.Min), FormatValue(r, r.Median),
            };
            foreach (var s in statistics) cells.Add(Markup.Escape(StatisticCell(r, s)));
            foreach (var l in labels)
            {
                var result = Compare(r).FirstOrDefault(c => c.Comparison.Label == l);
                // Medians only: the terminal is narrow; the Markdown and JSON also have the ratios of the mins.
                cells.Add(result is null ? "" : Markup.Escape(FormatRatio(result.MedianRatio)) + Verdict(result.Met, markdown: false));
            }
            table.AddRow(cells.ToArray());
        }
        return table;
    }

    // ---------------------------------------------------------------- files

    public sealed record Written(string Json, string Markdown, string Png);

    /// <summary>Writes &lt;directory&gt;/&lt;Name&gt;.json, .md and .png.</summary>
    public Written WriteAll(string directory)
    {
        Directory.CreateDirectory(directory);
        var written = new Written(Path.Combine(directory, Name + ".json"), Path.Combine(directory, Name + ".md"), Path.Combine(directory, Name + ".png"));
        File.WriteAllText(written.Json, ToJson());
        File.WriteAllText(written.Markdown, ToMarkdown());
        BenchChart.RenderPng(this, written.Png);
        return written;
    }
}
