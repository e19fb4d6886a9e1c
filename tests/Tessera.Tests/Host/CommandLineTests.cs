using System.Numerics;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Tessera.Core.Boot;
using Xunit;

namespace Tessera.Tests.Host;

/// <summary>
/// The kernel command line (kernel/Core/Boot/CommandLine.cs): space-separated words, each
/// `name` or `name=value`; sizes with K/M/G suffixes; joining the loader's line with fw_cfg's.
/// </summary>
public sealed class CommandLineTests
{
    private static CommandLine Line(string text) => new(Encoding.ASCII.GetBytes(text));

    private static string? Value(CommandLine line, string name) =>
        line.TryGetValue(name, out ReadOnlySpan<byte> value) ? Encoding.ASCII.GetString(value) : null;

    private static ulong? Size(string text, string name = "excache") =>
        Line(text).TryGetSize(name, out ulong bytes) ? bytes : null;

    // ---------------- words ----------------

    [Fact]
    public void FindsBareNamesAndNamedValues()
    {
        var line = Line("selftest node=2 role=memory peers=1,3");
        Assert.True(line.Has("selftest"));
        Assert.True(line.Has("node"));
        Assert.True(line.Has("peers"));
        Assert.Equal("2", Value(line, "node"));
        Assert.Equal("memory", Value(line, "role"));
        Assert.Equal("1,3", Value(line, "peers"));
        Assert.Equal("", Value(line, "selftest"));   // a bare name has an empty value
        Assert.Null(Value(line, "excache"));
        Assert.False(line.Has("quiet"));
    }

    [Fact]
    public void PrefixesAndSuffixesOfANameDoNotMatch()
    {
        var line = Line("excache=16M selftest myrole=x");
        Assert.False(line.Has("ex"));
        Assert.False(line.Has("excach"));
        Assert.False(line.Has("excache1"));
        Assert.False(line.Has("self"));
        Assert.False(line.Has("test"));
        Assert.False(line.Has("role"));
        Assert.False(line.Has("16M"));
        Assert.True(line.Has("excache"));

        // And the other way round: a short word does not answer for a longer name.
        var shortWords = Line("ex=1 e");
        Assert.False(shortWords.Has("excache"));
        Assert.True(shortWords.Has("ex"));
        Assert.Equal("1", Value(shortWords, "ex"));
        Assert.True(shortWords.Has("e"));
    }

    [Fact]
    public void NamesAreCaseSensitive()
    {
        var line = Line("SelfTest");
        Assert.False(line.Has("selftest"));
        Assert.True(line.Has("SelfTest"));
    }

    [Fact]
    public void RepeatedLeadingAndTrailingSpacesAreSkipped()
    {
        var line = Line("   selftest    node=2       role=memory   ");
        Assert.True(line.Has("selftest"));
        Assert.Equal("2", Value(line, "node"));
        Assert.Equal("memory", Value(line, "role"));
        Assert.False(line.Has(""));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("      ")]
    public void EmptyOrBlankLineHasNothing(string text)
    {
        var line = Line(text);
        Assert.False(line.Has("selftest"));
        Assert.Null(Value(line, "node"));
        Assert.False(line.TryGetSize("excache", out _));
    }

    [Fact]
    public void ValueRunsToTheNextSpaceAndMayContainEquals()
    {
        var line = Line("a=b=c empty= last=x");
        Assert.Equal("b=c", Value(line, "a"));
        Assert.Equal("", Value(line, "empty"));
        Assert.True(line.Has("empty"));
        Assert.Equal("x", Value(line, "last"));
    }

    [Fact]
    public void TheFirstOccurrenceOfANameWins()
    {
        var line = Line("node=1 node=2 excache=8M excache=16M");
        Assert.Equal("1", Value(line, "node"));
        Assert.Equal(8UL << 20, Size("node=1 excache=8M excache=16M"));
    }

    [Fact]
    public void ValueSpanPointsIntoTheText()
    {
        var text = Encoding.ASCII.GetBytes("role=memory");
        var line = new CommandLine(text);
        Assert.Same(text, line.Text);
        Assert.True(line.TryGetValue("role", out ReadOnlySpan<byte> value));
        Assert.Equal(6, value.Length);
        Assert.True(value.SequenceEqual("memory"u8));
    }

    // ---------------- sizes ----------------

    [Theory]
    [InlineData("excache=0", 0UL)]
    [InlineData("excache=4096", 4096UL)]
    [InlineData("excache=16K", 16UL << 10)]
    [InlineData("excache=16k", 16UL << 10)]
    [InlineData("excache=16M", 16UL << 20)]
    [InlineData("excache=16m", 16UL << 20)]
    [InlineData("excache=2G", 2UL << 30)]
    [InlineData("excache=2g", 2UL << 30)]
    [InlineData("excache=007M", 7UL << 20)]
    [InlineData("selftest excache=1G node=2", 1UL << 30)]
    [InlineData("excache=18446744073709551615", ulong.MaxValue)]
    [InlineData("excache=17179869183G", 17179869183UL << 30)]       // 2^34 - 1 GiB: fits
    [InlineData("excache=17592186044415M", 17592186044415UL << 20)] // 2^44 - 1 MiB: fits
    public void SizesWithSuffixes(string text, ulong expected) => Assert.Equal(expected, Size(text));

    [Theory]
    [InlineData("excache=18446744073709551616")]   // 2^64
    [InlineData("excache=99999999999999999999")]
    [InlineData("excache=20496382304121724020")]   // wraps to 2049638230412172404, which is larger than its prefix
    [InlineData("excache=36893488147419103232")]   // 2^65
    [InlineData("excache=184467440737095516150")]
    [InlineData("excache=17179869184G")]           // 2^64
    [InlineData("excache=17592186044416M")]        // 2^64
    [InlineData("excache=18014398509481984K")]     // 2^64
    public void SizesThatOverflowAreRejected(string text) => Assert.Null(Size(text));

    [Theory]
    [InlineData("excache")]          // bare name: no number
    [InlineData("excache=")]
    [InlineData("excache=M")]
    [InlineData("excache=16MB")]
    [InlineData("excache=16MiB")]
    [InlineData("excache=16T")]
    [InlineData("excache=16X")]
    [InlineData("excache=-1")]
    [InlineData("excache=+1")]
    [InlineData("excache=0x10")]
    [InlineData("excache=1.5G")]
    [InlineData("excache=16M16")]
    [InlineData("node=16M")]         // the name is missing
    public void SizesWithJunkAreRejected(string text) => Assert.Null(Size(text));

    // ---------------- joining ----------------

    [Fact]
    public void JoinPutsOneSpaceBetweenNonEmptyLines()
    {
        byte[] joined = CommandLine.Join("selftest node=2"u8.ToArray(), "role=memory"u8.ToArray());
        Assert.Equal("selftest node=2 role=memory", Encoding.ASCII.GetString(joined));
        var line = new CommandLine(joined);
        Assert.Equal("2", Value(line, "node"));
        Assert.Equal("memory", Value(line, "role"));
    }

    [Fact]
    public void JoinWithAnEmptySideIsTheOtherSide()
    {
        byte[] a = "selftest"u8.ToArray();
        Assert.Equal(a, CommandLine.Join(a, []));
        Assert.Equal(a, CommandLine.Join([], a));
        Assert.Empty(CommandLine.Join([], []));
    }

    [Fact]
    public void JoinDoesNotGlueTheLastWordToTheFirst()
    {
        var line = new CommandLine(CommandLine.Join("ex"u8.ToArray(), "cache=1"u8.ToArray()));
        Assert.False(line.Has("excache"));
        Assert.True(line.Has("ex"));
        Assert.True(line.Has("cache"));
    }

    // ---------------- properties ----------------

    private static readonly string[] Words = ["a", "ab", "b", "a=1", "ab=2", "a=", "=x", "b=a=b", "aa", "ba=3"];

    private static Gen<string> Lines =>
        Gen.Choose(0, 8).SelectMany(n => Gen.ArrayOf(
            Gen.Elements(Words).SelectMany(_ => Gen.Choose(1, 3), (w, spaces) => w + new string(' ', spaces)), n))
            .SelectMany(_ => Gen.Choose(0, 2), (parts, lead) => new string(' ', lead) + string.Concat(parts));

    /// <summary>Matches a word-by-word model: a name is found when some word is the name or starts with name=; the first such word gives the value.</summary>
    [Property(MaxTest = 500)]
    public Property MatchesTheWordModel() =>
        Prop.ForAll(Lines.ToArbitrary(), Gen.Elements("a", "ab", "b", "aa", "ba", "x").ToArbitrary(), (text, name) =>
        {
            string? expected = null;
            foreach (string word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (word == name) { expected = ""; break; }
                if (word.StartsWith(name + "=", StringComparison.Ordinal)) { expected = word[(name.Length + 1)..]; break; }
            }
            var line = Line(text);
            Assert.Equal(expected != null, line.Has(name));
            Assert.Equal(expected, Value(line, name));
        });

    private static Gen<string> Digits =>
        Gen.Choose(1, 24).SelectMany(n => Gen.ArrayOf(Gen.Choose('0', '9').Select(c => (char)c), n), (_, ds) => new string(ds));

    /// <summary>Agrees with arbitrary-precision arithmetic: accepted exactly when the value fits in 64 bits.</summary>
    [Property(MaxTest = 2000)]
    public Property SizeAgreesWithBigIntegerArithmetic() =>
        Prop.ForAll(Digits.ToArbitrary(), Gen.Elements("", "K", "k", "M", "m", "G", "g").ToArbitrary(), (digits, suffix) =>
        {
            BigInteger scale = suffix.ToUpperInvariant() switch { "K" => 1 << 10, "M" => 1 << 20, "G" => 1 << 30, _ => 1 };
            BigInteger value = BigInteger.Parse(digits) * scale;
            ulong? expected = value <= ulong.MaxValue ? (ulong)value : null;
            Assert.Equal(expected, Size("excache=" + digits + suffix));
        });

    /// <summary>
    /// A prefix near j/9 or j/10 of 2^64 with one more digit appended: where prefix * 10 wraps
    /// past 2^64 to a value that can still look larger than the prefix. Also 2^64 itself.
    /// </summary>
    [Property(MaxTest = 2000)]
    public Property SizeNearTheTopAgreesWithBigIntegerArithmetic() =>
        Prop.ForAll(Gen.Elements(9, 10).SelectMany(den => Gen.Choose(1, den), (den, j) => (den, j)).ToArbitrary(),
            Gen.Choose(-2000, 2000).ToArbitrary(), Gen.Choose(-1, 9).ToArbitrary(), (fraction, delta, digit) =>
        {
            BigInteger prefix = (BigInteger.One << 64) * fraction.j / fraction.den + delta;
            string digits = BigInteger.Max(prefix, 0).ToString() + (digit >= 0 ? digit.ToString() : "");
            BigInteger value = BigInteger.Parse(digits);
            ulong? expected = value <= ulong.MaxValue ? (ulong)value : null;
            Assert.Equal(expected, Size("excache=" + digits));
        });
}
