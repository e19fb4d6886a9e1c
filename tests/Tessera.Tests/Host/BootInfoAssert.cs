using System.Text;
using Tessera.Core.Boot;
using Xunit;

namespace Tessera.Tests.Host;

/// <summary>Assertions on a parsed BootInfo shared by the example tests and the properties.</summary>
public static class BootInfoAssert
{
    public static string Ascii(byte[] bytes) => Encoding.ASCII.GetString(bytes);

    public static (ulong Base, ulong End, MemoryRegionType Type)[] Regions(BootInfo info)
    {
        var result = new (ulong, ulong, MemoryRegionType)[info.RegionCount];
        for (int i = 0; i < info.RegionCount; i++) result[i] = (info.Regions[i].Base, info.Regions[i].End, info.Regions[i].Type);
        return result;
    }

    public static string DescribeProblems(BootInfo info)
    {
        var text = new StringBuilder();
        for (int i = 0; i < info.ProblemCount; i++) text.Append($"{info.Problems[i].Kind}@0x{info.Problems[i].Where:x} ");
        return text.Length == 0 ? "(none)" : text.ToString();
    }

    public static void NoProblems(BootInfo info) =>
        Assert.True(info.ProblemCount == 0, "unexpected problems: " + DescribeProblems(info));

    /// <summary>A problem of this kind was reported at exactly this address.</summary>
    public static void Problem(BootInfo info, BootProblemKind kind, ulong where)
    {
        for (int i = 0; i < info.ProblemCount; i++)
            if (info.Problems[i].Kind == kind && info.Problems[i].Where == where) return;
        Assert.Fail($"expected {kind}@0x{where:x}, got: {DescribeProblems(info)}");
    }

    /// <summary>The only problems reported are of these kinds (each at least once).</summary>
    public static void OnlyProblemKinds(BootInfo info, params BootProblemKind[] kinds)
    {
        foreach (var kind in kinds) Assert.True(info.HasProblem(kind), $"expected a {kind}, got: {DescribeProblems(info)}");
        for (int i = 0; i < info.ProblemCount; i++)
            Assert.True(Array.IndexOf(kinds, info.Problems[i].Kind) >= 0, "unexpected problem: " + DescribeProblems(info));
    }

    /// <summary>
    /// What every parse must leave behind, however bad its input: counts within the arrays,
    /// regions with a length, not wrapping past 2^64, sorted by base and pairwise disjoint,
    /// modules that do not end before they start.
    /// </summary>
    public static void WellFormed(BootInfo info)
    {
        Assert.InRange(info.RegionCount, 0, BootInfo.MaxRegions);
        Assert.InRange(info.ModuleCount, 0, BootInfo.MaxModules);
        Assert.InRange(info.ProblemCount, 0, BootInfo.MaxProblems);
        Assert.NotNull(info.CommandLine);
        Assert.NotNull(info.BootloaderName);
        Assert.InRange(info.CommandLine.Length, 0, BootInfoParser.MaxStringBytes);
        for (int i = 0; i < info.RegionCount; i++)
        {
            MemoryRegion r = info.Regions[i];
            Assert.True(r.Length > 0, $"region {i} has length 0");
            Assert.True(r.Base + r.Length >= r.Base, $"region {i} wraps past 2^64");
            Assert.True(Enum.IsDefined(r.Type), $"region {i} has undefined type {(uint)r.Type}");
            if (i > 0)
                Assert.True(r.Base >= info.Regions[i - 1].End,
                    $"region {i} [0x{r.Base:x}, 0x{r.End:x}) overlaps or precedes [0x{info.Regions[i - 1].Base:x}, 0x{info.Regions[i - 1].End:x})");
        }
        for (int i = 0; i < info.ModuleCount; i++)
        {
            Assert.True(info.Modules[i].End >= info.Modules[i].Start, $"module {i} ends before it starts");
            Assert.NotNull(info.Modules[i].Name);
        }
    }
}
