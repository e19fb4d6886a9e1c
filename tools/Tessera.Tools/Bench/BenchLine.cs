using System.Globalization;

namespace Tessera.Tools.Bench;

/// <summary>
/// One line a benchmarking kernel prints on its serial port: `bench: KIND key=value key=value ...`
/// (kernel/Processor/RpcBenchmark.cs writes them). Values are words without spaces; numbers are
/// unsigned decimal integers. Anything before "bench: " (a log prefix) is not allowed: the
/// kernel writes these lines whole, at the start of a line.
/// </summary>
public sealed record BenchLine(string Kind, IReadOnlyDictionary<string, string> Fields)
{
    public const string Prefix = "bench: ";

    /// <summary>The line parsed, or null when it is not a bench line (or a malformed one: a word without '=').</summary>
    public static BenchLine? Parse(string line)
    {
        if (!line.StartsWith(Prefix, StringComparison.Ordinal)) return null;
        var words = line[Prefix.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0 || words[0].Contains('=')) return null;
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var word in words.Skip(1))
        {
            int eq = word.IndexOf('=');
            if (eq <= 0) return null;
            fields[word[..eq]] = word[(eq + 1)..];
        }
        return new BenchLine(words[0], fields);
    }

    public string Text(string key) =>
        Fields.TryGetValue(key, out var value) ? value : throw new FormatException($"bench line '{Kind}' has no {key}=");

    public ulong Number(string key) =>
        ulong.TryParse(Text(key), NumberStyles.None, CultureInfo.InvariantCulture, out ulong n)
            ? n : throw new FormatException($"bench line '{Kind}': {key}={Text(key)} is not a number");

    /// <summary>The first line of this kind whose name= is name, parsed, from a serial log.</summary>
    public static BenchLine? Find(IEnumerable<string> lines, string kind, string name) =>
        lines.Select(Parse).FirstOrDefault(l => l != null && l.Kind == kind && l.Fields.TryGetValue("name", out var n) && n == name);
}
