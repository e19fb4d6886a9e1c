using System.Globalization;
using System.Text.RegularExpressions;

namespace Tessera.Tools.Bench;

/// <summary>
/// What `ping` printed, read back: one round trip per reply line and the closing statistics.
/// Written for BusyBox's ping (the Linux baseline's initramfs runs it) and also reads iputils'
/// wording, which differs in the field names:
///   busybox: `64 bytes from 10.0.0.2: seq=0 ttl=64 time=0.512 ms`
///            `3 packets transmitted, 3 packets received, 0% packet loss`
///            `round-trip min/avg/max = 0.010/0.036/0.089 ms`
///   iputils: `64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=0.045 ms`
///            `3 packets transmitted, 3 received, 0% packet loss, time 2003ms`
///            `rtt min/avg/max/mdev = 0.040/0.045/0.050/0.004 ms`
/// Times are kept in nanoseconds, converted from the decimal text exactly (ping prints
/// milliseconds with 3 decimals, i.e. whole microseconds). A reply marked `(DUP!)` is a second
/// answer to a sequence number already counted and is not a round trip of its own.
/// </summary>
public sealed record PingOutput(IReadOnlyList<ulong> RoundTripsNanoseconds, int Duplicates, int? Transmitted, int? Received,
    double? SummaryMinMilliseconds, double? SummaryAverageMilliseconds, double? SummaryMaxMilliseconds)
{
    private static readonly Regex Reply = new(
        @"(?<bytes>\d+) bytes from [^:]+: (?:icmp_)?seq=(?<seq>\d+) ttl=\d+ time=(?<time>\d+(?:\.\d+)?) ms(?<dup> \(DUP!\))?",
        RegexOptions.CultureInvariant);
    private static readonly Regex Counts = new(@"(?<tx>\d+) packets transmitted, (?<rx>\d+) (?:packets )?received", RegexOptions.CultureInvariant);
    private static readonly Regex Summary = new(@"(?:round-trip|rtt) min/avg/max(?:/mdev)? = (?<min>[\d.]+)/(?<avg>[\d.]+)/(?<max>[\d.]+)", RegexOptions.CultureInvariant);

    /// <summary>Packets sent but never answered, when the statistics line was seen.</summary>
    public int? Lost => Transmitted is int tx && Received is int rx ? tx - rx : null;

    public static PingOutput Parse(IEnumerable<string> lines)
    {
        var times = new List<ulong>();
        int duplicates = 0;
        int? transmitted = null, received = null;
        double? min = null, avg = null, max = null;
        foreach (var raw in lines)
        {
            string line = raw.TrimEnd('\r');
            var reply = Reply.Match(line);
            if (reply.Success)
            {
                if (reply.Groups["dup"].Success) duplicates++;
                else times.Add(MillisecondsToNanoseconds(reply.Groups["time"].Value));
                continue;
            }
            var counts = Counts.Match(line);
            if (counts.Success)
            {
                transmitted = int.Parse(counts.Groups["tx"].Value, CultureInfo.InvariantCulture);
                received = int.Parse(counts.Groups["rx"].Value, CultureInfo.InvariantCulture);
                continue;
            }
            var summary = Summary.Match(line);
            if (summary.Success)
            {
                min = double.Parse(summary.Groups["min"].Value, CultureInfo.InvariantCulture);
                avg = double.Parse(summary.Groups["avg"].Value, CultureInfo.InvariantCulture);
                max = double.Parse(summary.Groups["max"].Value, CultureInfo.InvariantCulture);
            }
        }
        return new PingOutput(times, duplicates, transmitted, received, min, avg, max);
    }

    /// <summary>"0.512" (ms) → 512000 (ns), exactly: decimal arithmetic, no binary rounding.</summary>
    public static ulong MillisecondsToNanoseconds(string milliseconds) =>
        (ulong)(decimal.Parse(milliseconds, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture) * 1_000_000m);
}
