using Tessera.Tools.Bench;
using Xunit;

namespace Tessera.Tests.Host.Bench;

/// <summary>The lines `bench=rpc` prints on the processor's serial port, read on the host.</summary>
public sealed class BenchLineTests
{
    // As kernel/Processor/RpcBenchmark.cs writes it.
    private const string Rtt =
        "bench: rtt name=echo-64 payload=64 reply=64 calls=10000 failures=1 mismatches=2 retransmissions=3 samples=9997 " +
        "min=83443 p1=95536 p10=113983 p25=119012 p50=160774 p75=357309 p90=2080120 p99=11091647 p999=29509702 max=102202838 mean=843040";

    [Fact]
    public void AnRttLineGivesItsFields()
    {
        var line = BenchLine.Parse(Rtt)!;
        Assert.Equal("rtt", line.Kind);
        Assert.Equal("echo-64", line.Text("name"));
        Assert.Equal(9997ul, line.Number("samples"));
        Assert.Equal(11091647ul, line.Number("p99"));
    }

    [Fact]
    public void RoundTripsComeInMicroseconds()
    {
        var trips = RoundTrips.FromBenchLine(BenchLine.Parse(Rtt)!);
        Assert.Equal(9997, trips.Count);
        Assert.Equal(3, trips.Lost);   // failures + mismatches
        Assert.Equal(83.443, trips.MinMicroseconds, 9);
        Assert.Equal(160.774, trips.MedianMicroseconds, 9);
        Assert.Equal(11091.647, trips.P99Microseconds, 9);
        Assert.Equal(102202.838, trips.MaxMicroseconds, 9);
        Assert.Throws<FormatException>(() => RoundTrips.FromBenchLine(BenchLine.Parse("bench: throughput name=page bytes=1 ns=1")!));
    }

    [Fact]
    public void RoundTripsOfHostSamplesUseTheSamePercentiles()
    {
        var samples = Enumerable.Range(1, 1000).Select(i => (ulong)i * 1000).Reverse().ToArray();
        var trips = RoundTrips.FromNanoseconds(samples, lost: 2);
        Assert.Equal(1000, trips.Count);
        Assert.Equal(2, trips.Lost);
        Assert.Equal(1.0, trips.MinMicroseconds);
        Assert.Equal(500.0, trips.MedianMicroseconds);   // nearest rank: the 500th of 1000
        Assert.Equal(990.0, trips.P99Microseconds);
        Assert.Equal(1000.0, trips.MaxMicroseconds);
        Assert.Equal(1_000_000ul, samples[0]);           // the caller's array is left as it was
        Assert.True(double.IsNaN(RoundTrips.FromNanoseconds([], 0).MedianMicroseconds));
    }

    [Theory]
    [InlineData("info: bench: rtt name=x")]      // not at the start of the line
    [InlineData("bench:")]
    [InlineData("bench: ")]
    [InlineData("bench: name=x")]                // no kind
    [InlineData("bench: rtt name")]              // a word without '='
    [InlineData("cluster: 1 of 1 peers answered")]
    public void OtherLinesAreNotBenchLines(string text) => Assert.Null(BenchLine.Parse(text));

    [Fact]
    public void MissingOrNonNumericFieldsAreFormatErrors()
    {
        var line = BenchLine.Parse("bench: throughput name=page bytes=12x")!;
        Assert.Throws<FormatException>(() => line.Number("bytes"));
        Assert.Throws<FormatException>(() => line.Number("ns"));
        Assert.Equal("done", BenchLine.Parse("bench: done")!.Kind);
    }

    [Fact]
    public void FindPicksTheLineByKindAndName()
    {
        string[] log = ["tessera processor 0.1.0", Rtt.Replace("echo-64", "echo-4096"), Rtt, "bench: throughput name=page bytes=8 ns=2", "bench: done"];
        Assert.Equal("echo-64", BenchLine.Find(log, "rtt", "echo-64")!.Text("name"));
        Assert.Equal(8ul, BenchLine.Find(log, "throughput", "page")!.Number("bytes"));
        Assert.Null(BenchLine.Find(log, "rtt", "page"));
    }
}
