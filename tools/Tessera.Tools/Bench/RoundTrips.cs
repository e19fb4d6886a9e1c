using Tessera.Core.Stats;

namespace Tessera.Tools.Bench;

/// <summary>
/// The summary of one run of round trips, the same for every row of `bench rpc`: how many were
/// measured and lost, and the fastest, median (p50), p99 and slowest, in microseconds. Percentiles
/// are nearest rank (kernel/Core/Stats/Percentiles.cs), computed in the kernel for Tessera and
/// here, by the same code, for the host's own samples (Linux ping, loopback UDP).
/// </summary>
public sealed record RoundTrips(int Count, int Lost, double MinMicroseconds, double MedianMicroseconds, double P99Microseconds, double MaxMicroseconds)
{
    /// <summary>Summarises samples in nanoseconds (the array is left as it was).</summary>
    public static RoundTrips FromNanoseconds(IReadOnlyList<ulong> samples, int lost)
    {
        var sorted = samples.ToArray();
        Percentiles.SortInPlace(sorted);
        double Us(int basisPoints) => sorted.Length == 0 ? double.NaN : Percentiles.OfSorted(sorted, basisPoints) / 1000.0;
        return new RoundTrips(sorted.Length, lost, Us(0), Us(5000), Us(9900), Us(Percentiles.Whole));
    }

    /// <summary>From a kernel's `bench: rtt ...` line (values in nanoseconds).</summary>
    public static RoundTrips FromBenchLine(BenchLine line)
    {
        if (line.Kind != "rtt") throw new FormatException($"expected a 'bench: rtt' line, got '{line.Kind}'");
        int count = (int)line.Number("samples");
        int lost = (int)(line.Number("failures") + line.Number("mismatches"));
        double Us(string key) => count == 0 ? double.NaN : line.Number(key) / 1000.0;
        return new RoundTrips(count, lost, Us("min"), Us("p50"), Us("p99"), Us("max"));
    }
}
