using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Tessera.Processor.Cache;
using Xunit;

namespace Tessera.Tests.Host;

/// <summary>
/// The zero-fill record (kernel/Processor/ExCache/FreshPages.cs) against a set of pages: exact
/// while its range list has room, and when it overflows it only ever forgets - a page it calls
/// fresh is always fresh in the model, since believing a written page fresh would lose its data.
/// </summary>
public sealed class FreshPagesTests
{
    private static (ulong, ulong)[] Ranges(FreshPages f) =>
        Enumerable.Range(0, f.RangeCount).Select(i => { f.Range(i, out ulong s, out ulong e); return (s, e); }).ToArray();

    [Fact]
    public void AddMergesOverlappingAndAdjacentRanges()
    {
        var f = new FreshPages(8);
        f.Add(10, 5);          // [10, 15)
        f.Add(20, 5);          // [20, 25)
        f.Add(15, 2);          // touches the first: [10, 17)
        Assert.Equal(new[] { (10UL, 17UL), (20UL, 25UL) }, Ranges(f));
        f.Add(16, 5);          // bridges both: [10, 25)
        Assert.Equal(new[] { (10UL, 25UL) }, Ranges(f));
        f.Add(0, 3);
        f.Add(30, 0);          // empty: nothing
        Assert.Equal(new[] { (0UL, 3UL), (10UL, 25UL) }, Ranges(f));
        Assert.Equal(18UL, f.PageCount);
        Assert.True(f.Contains(0) && f.Contains(2) && f.Contains(10) && f.Contains(24));
        Assert.False(f.Contains(3) || f.Contains(9) || f.Contains(25));
    }

    [Fact]
    public void RemoveTrimsSplitsAndDeletes()
    {
        var f = new FreshPages(8);
        f.Add(0, 100);
        f.Remove(10, 1);       // a hole: split
        f.Remove(0, 5);        // the left end
        f.Remove(95, 10);      // past the right end
        Assert.Equal(new[] { (5UL, 10UL), (11UL, 95UL) }, Ranges(f));
        Assert.Equal(89UL, f.PageCount);
        f.Remove(0, 1000);
        Assert.Equal(0, f.RangeCount);
        Assert.Equal(0UL, f.PageCount);
    }

    [Fact]
    public void WhenFullTheSmallestRangeIsForgotten()
    {
        var f = new FreshPages(2);
        f.Add(0, 10);
        f.Add(100, 50);
        f.Add(20, 3);          // the smallest: forgotten
        Assert.Equal(new[] { (0UL, 10UL), (100UL, 150UL) }, Ranges(f));
        Assert.Equal(3UL, f.ForgottenPages);
        f.Add(200, 20);        // [0, 10) is now the smallest
        Assert.Equal(new[] { (100UL, 150UL), (200UL, 220UL) }, Ranges(f));
        Assert.Equal(13UL, f.ForgottenPages);
        f.Remove(110, 1);      // a split with no room: the smaller side goes
        Assert.Equal(new[] { (111UL, 150UL), (200UL, 220UL) }, Ranges(f));
        Assert.Equal(59UL, f.PageCount);
    }

    [Fact]
    public void RangesNearTheTopOfThePageNumbersDoNotWrap()
    {
        var f = new FreshPages(4);
        f.Add(ulong.MaxValue - 5, 100);
        Assert.True(f.Contains(ulong.MaxValue - 1));
        Assert.Equal(5UL, f.PageCount);
        f.Remove(ulong.MaxValue - 3, ulong.MaxValue);
        Assert.Equal(2UL, f.PageCount);
    }

    private static Gen<(bool Add, int Start, int Count)[]> Operations =>
        Gen.Choose(0, 120).SelectMany(n => Gen.ArrayOf(
            from add in Gen.Elements(true, true, false)
            from start in Gen.Choose(0, 63)
            from count in Gen.Frequency((4, Gen.Choose(0, 4)), (1, Gen.Choose(0, 40)))
            select (add, start, count), n));

    [Property(MaxTest = 1000)]
    public Property MatchesASetOfPagesOrOnlyForgets() =>
        Prop.ForAll(Operations.ToArbitrary(), Gen.Elements(1, 2, 3, 5, 64).ToArbitrary(), (ops, capacity) =>
        {
            var f = new FreshPages(capacity);
            var model = new HashSet<ulong>();
            foreach (var (add, start, count) in ops)
            {
                for (int p = start; p < start + count; p++)
                    if (add) model.Add((ulong)p); else model.Remove((ulong)p);
                if (add) f.Add((ulong)start, (ulong)count); else f.Remove((ulong)start, (ulong)count);

                // Well formed: sorted, disjoint, not touching, not empty, counted.
                var ranges = Ranges(f);
                ulong pages = 0;
                for (int i = 0; i < ranges.Length; i++)
                {
                    Assert.True(ranges[i].Item1 < ranges[i].Item2);
                    if (i > 0) Assert.True(ranges[i - 1].Item2 < ranges[i].Item1);
                    pages += ranges[i].Item2 - ranges[i].Item1;
                }
                Assert.True(ranges.Length <= capacity);
                Assert.Equal(pages, f.PageCount);

                var recorded = Enumerable.Range(0, 110).Select(p => (ulong)p).Where(f.Contains).ToHashSet();
                Assert.Equal(pages, (ulong)recorded.Count);
                Assert.Subset(model, recorded);                      // never fresh when it is not
                if (capacity == 64) Assert.Equal(model, recorded);   // 104 pages form at most 52 ranges: never full
            }
        });
}
