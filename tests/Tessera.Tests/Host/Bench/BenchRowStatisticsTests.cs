using System.Text.Json;
using Tessera.Tools.Bench;
using Xunit;

namespace Tessera.Tests.Host.Bench;

/// <summary>
/// What `bench rpc` added to the report writer: rows with a unit of their own (throughput in a
/// latency table) and further per-run statistics shown as columns (fastest call, p99).
/// </summary>
public sealed class BenchRowStatisticsTests
{
    private static BenchReport Sample()
    {
        var report = new BenchReport { Name = "rpc-sample", Title = "t", Metric = "m", Unit = "µs", Decimals = 1, Date = new DateTimeOffset(2026, 1, 2, 3, 4, 0, TimeSpan.Zero) };
        var floor = report.Add(new BenchRow { Name = "floor", IsBaseline = true });
        floor.Samples.AddRange([10, 12, 11]);
        floor.Statistic("fastest call", StatisticAggregate.Min).Samples.AddRange([9, 8, 9.5]);
        var rpc = report.Add(new BenchRow { Name = "rpc", Comparisons = [new Comparison("vs floor", "floor", AtMost: 5)] });
        rpc.Samples.AddRange([100, 50, 60]);
        rpc.Statistic("fastest call", StatisticAggregate.Min).Samples.AddRange([40, 45, 41]);
        rpc.Statistic("p99", StatisticAggregate.Median, inChart: false).Samples.AddRange([900, 300, 500]);
        report.Add(new BenchRow { Name = "throughput", Unit = "MiB/s", Decimals = 2 }).Samples.AddRange([17.5, 18.25]);
        return report;
    }

    [Fact]
    public void StatisticsAggregateTheirRunsAsTold()
    {
        var rpc = Sample().Row("rpc");
        Assert.Equal(40, rpc.Statistics.Single(s => s.Label == "fastest call").Value);
        Assert.Equal(500, rpc.Statistics.Single(s => s.Label == "p99").Value);
        Assert.Same(rpc.Statistics[0], rpc.Statistic("fastest call", StatisticAggregate.Max));   // found, not added again
        var max = new RowStatistic("worst", StatisticAggregate.Max);
        max.Samples.AddRange([1, 3, 2]);
        Assert.Equal(3, max.Value);
        Assert.True(double.IsNaN(new RowStatistic("none", StatisticAggregate.Median).Value));
    }

    [Fact]
    public void MarkdownHasAColumnPerStatisticAndEachRowsOwnUnit()
    {
        var lines = Sample().ToMarkdown().Split('\n');
        string header = lines.Single(l => l.StartsWith("| configuration |"));
        Assert.Equal("| configuration | runs | min | median | fastest call | p99 | vs floor (target ≤ 5×) |", header);
        int at = Array.IndexOf(lines, header);
        Assert.Equal("|---|---:|---:|---:|---:|---:|---:|", lines[at + 1]);
        Assert.Equal("| *floor* (baseline) | 3 | 10.0 µs | 11.0 µs | 8.0 µs |  |  |", lines[at + 2]);
        Assert.Equal("| rpc | 3 | 50.0 µs | 60.0 µs | 40.0 µs | 500.0 µs | 5.45× ✗ (min 5.00×) |", lines[at + 3]);
        Assert.Equal("| throughput | 2 | 17.50 MiB/s | 17.88 MiB/s |  |  |  |", lines[at + 4]);
    }

    [Fact]
    public void JsonKeepsEveryRunOfEveryStatisticAndTheRowUnit()
    {
        using var json = JsonDocument.Parse(Sample().ToJson());
        var rows = json.RootElement.GetProperty("rows").EnumerateArray().ToList();
        var p99 = rows[1].GetProperty("statistics").EnumerateArray().Single(s => s.GetProperty("label").GetString() == "p99");
        Assert.Equal("median", p99.GetProperty("aggregate").GetString());
        Assert.Equal(500, p99.GetProperty("value").GetDouble());
        Assert.Equal([900.0, 300.0, 500.0], p99.GetProperty("samples").EnumerateArray().Select(e => e.GetDouble()));
        Assert.Equal("MiB/s", rows[2].GetProperty("unit").GetString());
        Assert.False(rows[1].TryGetProperty("unit", out _));          // the report's unit: not repeated
        Assert.False(rows[2].TryGetProperty("statistics", out _));    // none: absent
    }

    [Fact]
    public void TheChartLeavesOutRowsInAnotherUnit()
    {
        var report = Sample();
        Assert.Equal(["floor", "rpc"], BenchChart.ChartedRows(report).Select(r => r.Name));
        string dir = Directory.CreateTempSubdirectory("tessera-bench-").FullName;
        try
        {
            byte[] png = File.ReadAllBytes(report.WriteAll(dir).Png);
            int height = (png[20] << 24) | (png[21] << 16) | (png[22] << 8) | png[23];
            Assert.Equal(140 + 46 * 2, height);   // two bars, not three
        }
        finally { Directory.Delete(dir, true); }
    }
}
