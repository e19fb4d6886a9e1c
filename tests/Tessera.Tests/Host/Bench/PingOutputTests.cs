using Tessera.Tools.Bench;
using Xunit;

namespace Tessera.Tests.Host.Bench;

/// <summary>Reading ping's output back (the Linux baseline of `bench rpc`).</summary>
public sealed class PingOutputTests
{
    // BusyBox 1.35's ping, as the Linux guest prints it (captured from `busybox ping -A`).
    private static readonly string[] BusyBox =
    [
        "PING 169.254.99.2 (169.254.99.2): 56 data bytes",
        "64 bytes from 169.254.99.2: seq=0 ttl=64 time=0.512 ms",
        "64 bytes from 169.254.99.2: seq=1 ttl=64 time=1.024 ms",
        "64 bytes from 169.254.99.2: seq=1 ttl=64 time=9.000 ms (DUP!)",
        "64 bytes from 169.254.99.2: seq=2 ttl=64 time=0.300 ms",
        "",
        "--- 169.254.99.2 ping statistics ---",
        "4 packets transmitted, 3 packets received, +1 duplicates, 25% packet loss",
        "round-trip min/avg/max = 0.300/0.612/1.024 ms",
    ];

    [Fact]
    public void BusyBoxRepliesBecomeNanosecondsInOrder()
    {
        var ping = PingOutput.Parse(BusyBox);
        Assert.Equal([512_000ul, 1_024_000ul, 300_000ul], ping.RoundTripsNanoseconds);
        Assert.Equal(1, ping.Duplicates);   // a second answer is not a round trip of its own
        Assert.Equal(4, ping.Transmitted);
        Assert.Equal(3, ping.Received);
        Assert.Equal(1, ping.Lost);
        Assert.Equal(0.300, ping.SummaryMinMilliseconds);
        Assert.Equal(0.612, ping.SummaryAverageMilliseconds);
        Assert.Equal(1.024, ping.SummaryMaxMilliseconds);
    }

    [Fact]
    public void IputilsWordingIsReadToo()
    {
        var ping = PingOutput.Parse(
        [
            "PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data.",
            "64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=0.045 ms",
            "64 bytes from 10.0.0.2: icmp_seq=2 ttl=64 time=12 ms",
            "--- 10.0.0.2 ping statistics ---",
            "2 packets transmitted, 2 received, 0% packet loss, time 1001ms",
            "rtt min/avg/max/mdev = 0.045/6.022/12.000/5.977 ms",
        ]);
        Assert.Equal([45_000ul, 12_000_000ul], ping.RoundTripsNanoseconds);
        Assert.Equal(0, ping.Lost);
        Assert.Equal(12.0, ping.SummaryMaxMilliseconds);
    }

    [Fact]
    public void FourKilobytePingsAndSerialNoiseAndCarriageReturns()
    {
        var ping = PingOutput.Parse(
        [
            "4104 bytes from 169.254.99.2: seq=0 ttl=64 time=0.667 ms\r",
            "[   12.345678] random: crng init done",   // a kernel message between the lines
            "4104 bytes from 169.254.99.2: seq=1 ttl=64 time=0.700 ms",
        ]);
        Assert.Equal([667_000ul, 700_000ul], ping.RoundTripsNanoseconds);
        Assert.Null(ping.Transmitted);   // no statistics seen: unknown, not zero
        Assert.Null(ping.Lost);
    }

    [Fact]
    public void NothingToReadGivesNothing()
    {
        var ping = PingOutput.Parse(["ping: sendto: Network unreachable"]);
        Assert.Empty(ping.RoundTripsNanoseconds);
        Assert.Null(ping.SummaryMinMilliseconds);
    }

    [Theory]
    [InlineData("0.512", 512_000ul)]
    [InlineData("0.001", 1_000ul)]
    [InlineData("12", 12_000_000ul)]
    [InlineData("1234.567", 1_234_567_000ul)]
    public void MillisecondsConvertExactly(string text, ulong nanoseconds) =>
        Assert.Equal(nanoseconds, PingOutput.MillisecondsToNanoseconds(text));

    [Fact]
    public void TheBlockOfOneSizeIsCutFromThePingersSerialLog()
    {
        string[] log =
        [
            "linux-bench: peer answered",
            "linux-bench: begin size=56", "a", "b", "linux-bench: end size=56",
            "linux-bench: begin size=4096", "c", "linux-bench: end size=4096",
            "linux-bench: begin size=9", "never ended",
        ];
        Assert.Equal(["a", "b"], LinuxPingPair.Block(log, 56));
        Assert.Equal(["c"], LinuxPingPair.Block(log, 4096));
        Assert.Null(LinuxPingPair.Block(log, 9));
        Assert.Null(LinuxPingPair.Block(log, 100));
    }
}
