using System.Text.Json;
using Tessera.Tools.Bench;
using Xunit;

namespace Tessera.Tests.Host.Bench;

/// <summary>
/// The benchmark report writer (shared by every `./build.sh bench ...`): ratios against the
/// named baselines, targets judged on medians, and the three files it writes.
/// </summary>
public sealed class BenchReportTests
{
    private static BenchReport Sample()
    {
        var report = new BenchReport { Name = "sample", Title = "Sample | report", Metric = "time to the line", Date = new DateTimeOffset(2026, 1, 2, 3, 4, 0, TimeSpan.Zero) };
        report.Machine.Add(new("CPU", "test CPU"));
        report.Notes.Add("a note");
        report.Add(new BenchRow { Name = "floor", IsBaseline = true }).Samples.AddRange([0.20, 0.22, 0.30]);
        report.Add(new BenchRow { Name = "linux", IsBaseline = true, Description = "`console=ttyS0`" }).Samples.AddRange([2.0, 2.2, 1.9]);
        var fast = report.Add(new BenchRow
        {
            Name = "fast",
            Comparisons = [new Comparison("vs floor", "floor", AtMost: 1.3), new Comparison("vs linux", "linux", AtMost: 0.2)],
        });
        fast.Samples.AddRange([0.25, 0.24, 0.26, 0.9]);
        var slow = report.Add(new BenchRow
        {
            Name = "slow | piped",
            Comparisons = [new Comparison("vs floor", "floor", AtMost: 1.3), new Comparison("vs linux", "linux", AtMost: 0.2)],
        });
        slow.Samples.AddRange([0.60, 0.70]);
        slow.Failures = 1;
        return report;
    }

    [Fact]
    public void RatiosAreOfMediansAndOfMins()
    {
        var report = Sample();
        var fast = report.Compare(report.Row("fast"));
        // fast: median (0.25 + 0.26) / 2 = 0.255, min 0.24; floor: median 0.22, min 0.20; linux: median 2.0, min 1.9.
        Assert.Equal(0.255 / 0.22, fast[0].MedianRatio, 12);
        Assert.Equal(0.24 / 0.20, fast[0].MinRatio, 12);
        Assert.True(fast[0].Met);
        Assert.Equal(0.255 / 2.0, fast[1].MedianRatio, 12);
        Assert.True(fast[1].Met);

        var slow = report.Compare(report.Row("slow | piped"));
        Assert.False(slow[0].Met);   // 0.65 / 0.22 > 1.3
        Assert.False(slow[1].Met);   // 0.65 / 2.0 > 0.2
        Assert.False(report.AllTargetsMet);
    }

    [Fact]
    public void TargetsCanBeUpperOrLowerBounds()
    {
        Assert.True(new Comparison("x", "b", AtMost: 2).IsMet(2));
        Assert.False(new Comparison("x", "b", AtMost: 2).IsMet(2.01));
        Assert.True(new Comparison("x", "b", AtLeast: 3).IsMet(3.5));
        Assert.False(new Comparison("x", "b", AtLeast: 3).IsMet(2.5));
        Assert.Null(new Comparison("x", "b").IsMet(100));
        Assert.Null(new Comparison("x", "b", AtMost: 1).IsMet(double.NaN));
    }

    [Fact]
    public void ARowWithoutSamplesIsReportedAsMissingAndFailsTheTargets()
    {
        var report = Sample();
        report.Add(new BenchRow { Name = "never", Comparisons = [new Comparison("vs floor", "floor", AtMost: 100)] }).Failures = 5;
        Assert.False(report.AllTargetsMet);
        using var json = JsonDocument.Parse(report.ToJson());
        var never = json.RootElement.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("name").GetString() == "never");
        Assert.False(never.TryGetProperty("median", out _));   // NaN is written as absent, never as 0
        Assert.Equal(5, never.GetProperty("failures").GetInt32());
        Assert.Contains("| never | 0 (+5 failed) | — | — |", report.ToMarkdown());
    }

    [Fact]
    public void JsonHoldsSamplesStatisticsAndComparisons()
    {
        var report = Sample();
        using var json = JsonDocument.Parse(report.ToJson());
        var root = json.RootElement;
        Assert.Equal("sample", root.GetProperty("name").GetString());
        Assert.Equal("test CPU", root.GetProperty("machine").GetProperty("CPU").GetString());
        Assert.False(root.GetProperty("allTargetsMet").GetBoolean());
        var rows = root.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(["floor", "linux", "fast", "slow | piped"], rows.Select(r => r.GetProperty("name").GetString()));
        var fast = rows[2];
        Assert.Equal(4, fast.GetProperty("samples").GetArrayLength());
        Assert.Equal(0.255, fast.GetProperty("median").GetDouble(), 12);
        Assert.Equal(0.24, fast.GetProperty("min").GetDouble(), 12);
        var vsFloor = fast.GetProperty("comparisons")[0];
        Assert.Equal("floor", vsFloor.GetProperty("baseline").GetString());
        Assert.Equal(1.3, vsFloor.GetProperty("atMost").GetDouble());
        Assert.True(vsFloor.GetProperty("met").GetBoolean());
        Assert.Equal(1, rows[3].GetProperty("failures").GetInt32());
    }

    [Fact]
    public void MarkdownIsOneTableRowPerConfigurationWithVerdicts()
    {
        string md = Sample().ToMarkdown();
        var lines = md.Split('\n');
        string header = lines.Single(l => l.StartsWith("| configuration |"));
        Assert.Equal("| configuration | runs | min | median | vs floor (target ≤ 1.3×) | vs linux (target ≤ 0.2×) |", header);
        int at = Array.IndexOf(lines, header);
        Assert.Equal("|---|---:|---:|---:|---:|---:|", lines[at + 1]);
        var body = lines.Skip(at + 2).TakeWhile(l => l.StartsWith('|')).ToList();
        Assert.Equal(4, body.Count);
        // Every row has as many cells as the header (a pipe in a name is escaped).
        int cells = header.Count(c => c == '|');
        Assert.All(body, row => Assert.Equal(cells, row.Replace("\\|", "").Count(c => c == '|')));
        Assert.StartsWith("| *floor* (baseline) | 3 | 0.200 s | 0.220 s |", body[0]);
        Assert.Equal("| fast | 4 | 0.240 s | 0.255 s | 1.16× ✓ (min 1.20×) | 0.13× ✓ (min 0.13×) |", body[2]);
        Assert.StartsWith("| slow \\| piped | 2 (+1 failed) |", body[3]);
        Assert.Contains("✗", body[3]);
        Assert.Contains("**Not every target met**", md);
        Assert.Contains("- linux: `console=ttyS0`", md);
        Assert.Contains("- a note", md);
        Assert.Contains("Run on 2026-01-02 03:04 UTC; CPU: test CPU.", md);
    }

    [Fact]
    public void WritesJsonMarkdownAndARealPng()
    {
        string dir = Directory.CreateTempSubdirectory("tessera-bench-").FullName;
        try
        {
            var written = Sample().WriteAll(dir);
            Assert.Equal(Path.Combine(dir, "sample.json"), written.Json);
            JsonDocument.Parse(File.ReadAllText(written.Json)).Dispose();
            Assert.StartsWith("## Sample | report", File.ReadAllText(written.Markdown));
            byte[] png = File.ReadAllBytes(written.Png);
            // PNG signature (RFC 2083 §3.1), then the IHDR chunk with the image size.
            Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
            Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(png, 12, 4));
            int width = (png[16] << 24) | (png[17] << 16) | (png[18] << 8) | png[19];
            int height = (png[20] << 24) | (png[21] << 16) | (png[22] << 8) | png[23];
            Assert.Equal(1100, width);
            Assert.Equal(140 + 46 * 4, height);
            Assert.True(png.Length > 10_000, $"a chart with bars and text is more than {png.Length} bytes");
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void MeasuredRowsDecideTheColumnOrder()
    {
        var report = new BenchReport { Name = "order", Title = "t", Metric = "m" };
        report.Add(new BenchRow { Name = "floor", IsBaseline = true, Comparisons = [new Comparison("vs linux", "linux")] }).Samples.Add(1);
        report.Add(new BenchRow { Name = "linux", IsBaseline = true }).Samples.Add(10);
        report.Add(new BenchRow { Name = "os", Comparisons = [new Comparison("vs floor", "floor"), new Comparison("vs linux", "linux")] }).Samples.Add(2);
        Assert.Equal(["vs floor", "vs linux"], report.ComparisonLabels);
        Assert.Contains("| *floor* (baseline) | 1 | 1.000 s | 1.000 s |  | 0.10× (min 0.10×) |", report.ToMarkdown());
    }

    [Fact]
    public void RowNamesAreUniqueAndComparisonsNeedTheirBaseline()
    {
        var report = Sample();
        Assert.Throws<ArgumentException>(() => report.Add(new BenchRow { Name = "floor" }));
        report.Add(new BenchRow { Name = "orphan", Comparisons = [new Comparison("vs x", "missing")] });
        Assert.Throws<ArgumentException>(() => report.Compare(report.Row("orphan")));
    }
}
