using System.Globalization;
using ScottPlot;

namespace Tessera.Tools.Bench;

/// <summary>
/// Draws a <see cref="BenchReport"/> as a PNG: one horizontal bar per configuration (its
/// median, the value written at the bar's end), a dot at its min, baselines in grey. ScottPlot
/// renders through SkiaSharp's self-contained Linux build (no X server, no fontconfig), so the
/// font is loaded from a file (HostTools.ChartFont) rather than looked up by name.
/// </summary>
public static class BenchChart
{
    private static readonly Color Measured = Color.FromHex("#1f77b4");
    private static readonly Color Baseline = Color.FromHex("#9a9a9a");
    private static readonly Color MinMarker = Color.FromHex("#202020");

    private const string FontName = "Tessera chart font";
    private static readonly Lock FontGate = new();
    private static bool _fontLoaded;

    // Markers for a row's statistics (RowStatistic), one shape each in column order.
    private static readonly MarkerShape[] StatisticShapes = [MarkerShape.OpenTriangleUp, MarkerShape.OpenDiamond, MarkerShape.OpenSquare, MarkerShape.Cross];

    /// <summary>The rows the chart draws: those in the report's unit (one axis, one unit).</summary>
    public static IReadOnlyList<BenchRow> ChartedRows(BenchReport report) =>
        report.Rows.Where(r => report.UnitOf(r) == report.Unit).ToList();

    public static void RenderPng(BenchReport report, string path, int width = 1100)
    {
        var plot = Create(report);
        int height = 140 + 46 * Math.Max(1, ChartedRows(report).Count);
        plot.SavePng(path, width, height);
    }

    public static Plot Create(BenchReport report)
    {
        EnsureFont();
        var plot = new Plot();
        plot.Font.Set(FontName);

        var rows = ChartedRows(report);
        int n = rows.Count;
        var bars = new List<Bar>();
        var tickPositions = new double[n];
        var tickLabels = new string[n];
        for (int i = 0; i < n; i++)
        {
            var row = rows[i];
            double position = n - 1 - i;   // first row on top
            tickPositions[i] = position;
            tickLabels[i] = row.IsBaseline ? row.Name + " (baseline)" : row.Name;
            if (double.IsNaN(row.Median)) continue;
            bars.Add(new Bar
            {
                Position = position,
                Value = row.Median,
                FillColor = row.IsBaseline ? Baseline : Measured,
                LineWidth = 0,
                Size = 0.7,
                Label = report.FormatValue(row.Median),
                LabelOffset = 8,   // clear of the min dot, which can sit at the bar's end
            });
        }

        var barPlot = plot.Add.Bars(bars);
        barPlot.Horizontal = true;
        barPlot.ValueLabelStyle.FontSize = 13;
        barPlot.ValueLabelStyle.FontName = FontName;

        var minRows = rows.Select((r, i) => (r, i)).Where(p => !double.IsNaN(p.r.Min)).ToList();
        if (minRows.Count > 0)
        {
            plot.Add.Markers(
                minRows.Select(p => p.r.Min).ToArray(),
                minRows.Select(p => (double)(n - 1 - p.i)).ToArray(),
                MarkerShape.FilledCircle, 7, MinMarker);
        }

        var statistics = rows.SelectMany(r => r.Statistics).Where(st => st.InChart).Select(st => st.Label).Distinct().ToList();
        for (int k = 0; k < statistics.Count; k++)
        {
            var points = rows.Select((r, i) => (value: r.Statistics.FirstOrDefault(st => st.Label == statistics[k])?.Value ?? double.NaN, i))
                .Where(p => !double.IsNaN(p.value)).ToList();
            if (points.Count == 0) continue;
            var shape = StatisticShapes[k % StatisticShapes.Length];
            plot.Add.Markers(points.Select(p => p.value).ToArray(), points.Select(p => (double)(n - 1 - p.i)).ToArray(), shape, 9, MinMarker);
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = statistics[k], MarkerShape = shape, MarkerLineColor = MinMarker, MarkerFillColor = MinMarker, MarkerSize = 9 });
        }

        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "median", FillColor = Measured });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "baseline median", FillColor = Baseline });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "min", MarkerShape = MarkerShape.FilledCircle, MarkerFillColor = MinMarker, MarkerLineColor = MinMarker, MarkerSize = 7 });
        plot.ShowLegend(Alignment.UpperRight);
        plot.Legend.FontName = FontName;

        plot.Axes.Left.SetTicks(tickPositions, tickLabels);
        plot.Axes.Left.MajorTickStyle.Length = 0;
        plot.Axes.Left.TickLabelStyle.FontSize = 13;
        plot.Axes.Bottom.Label.Text = report.Unit.Length > 0 ? $"{report.Metric} ({report.Unit})" : report.Metric;
        plot.Axes.Bottom.Label.FontSize = 13;
        plot.Title(report.Title + "  ·  " + report.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), 16);

        // Bars grow from zero; leave room on the right for the value labels.
        double max = rows.Select(r => r.Median).Concat(rows.SelectMany(r => r.Statistics).Where(st => st.InChart).Select(st => st.Value))
            .Where(v => !double.IsNaN(v)).DefaultIfEmpty(1).Max();
        plot.Axes.SetLimitsX(0, max * 1.18);
        plot.Axes.SetLimitsY(-0.6, n - 0.4);
        return plot;
    }

    private static void EnsureFont()
    {
        lock (FontGate)
        {
            if (_fontLoaded) return;
            if (!File.Exists(HostTools.ChartFont))
                throw new ToolMissingException($"{HostTools.ChartFont} is missing (package fonts-dejavu-core; ./build.sh build installs it)");
            Fonts.AddFontFile(FontName, HostTools.ChartFont);
            Fonts.Default = FontName;
            _fontLoaded = true;
        }
    }
}
