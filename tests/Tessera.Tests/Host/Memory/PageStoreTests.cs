using System.Text;
using FsCheck.Xunit;
using Tessera.Memory;
using Xunit;

namespace Tessera.Tests.Host.Memory;

/// <summary>
/// The memory service's page store (kernel/Memory/PageStore.cs) on host frames: contents,
/// range drops, moves, ordered iteration, exhaustion, and that every frame — pages and tables
/// alike — goes back exactly once, checked against a dictionary model under random operations.
/// </summary>
public sealed unsafe class PageStoreTests : IDisposable
{
    private const ulong P = 4096;
    private readonly FakePageFrames _frames = new();

    public void Dispose() => _frames.Dispose();

    private static byte[] Page(int tag)
    {
        var page = new byte[P];
        for (int i = 0; i < page.Length; i++) page[i] = (byte)(tag * 7 + i);
        return page;
    }

    // The tag a page was made with: byte 0 = tag * 7 (mod 256) and byte 1 = tag * 7 + 1; the
    // tests use tags below 36 so tag * 7 fits a byte.
    private static int Tag(byte* page) => page[0] / 7;

    private static void AssertPage(PageStore store, ulong address, int tag)
    {
        byte* p = store.Find(address);
        Assert.True(p != null, $"page {address:x} missing");
        byte[] expected = Page(tag);
        Assert.True(new ReadOnlySpan<byte>(p, (int)P).SequenceEqual(expected), $"page {address:x} holds other bytes");
    }

    [Fact]
    public void APageNeverStoredIsNotFoundAndStoredPagesComeBackWhole()
    {
        var store = new PageStore(_frames);
        Assert.True(store.Find(0x400000) == null);
        Assert.Equal(0, store.FramesInUse);
        ulong[] addresses = [0x10000, 0x400000, 0x401000, 0x5ff000, 0x600000, 0x3ffff000, 0x40000000, 0x7f8000000000, 0x7ffffffff000 - P];
        for (int i = 0; i < addresses.Length; i++) Assert.Equal(0, store.Store(addresses[i], Page(i)));
        for (int i = 0; i < addresses.Length; i++)
        {
            AssertPage(store, addresses[i], i);
            AssertPage(store, addresses[i] + 0xfff, i); // any address inside the page
        }
        Assert.True(store.Find(0x402000) == null);
        Assert.Equal(addresses.Length, store.StoredPages);
        Assert.Equal(_frames.Outstanding, store.FramesInUse);
        // Storing again reuses the frame.
        long before = _frames.Allocations;
        Assert.Equal(0, store.Store(0x400000, Page(30)));
        AssertPage(store, 0x400000, 30);
        Assert.Equal(before, _frames.Allocations);
        store.Clear();
        Assert.Equal(0, _frames.Outstanding);
        Assert.Equal(0, store.StoredPages);
        Assert.Equal(0, store.TableFrames);
    }

    [Fact]
    public void NearbyPagesShareTablesAndATypicalProgramNeedsAFewTables()
    {
        var store = new PageStore(_frames);
        for (ulong a = 0x400000; a < 0x400000 + 100 * P; a += P) store.Store(a, Page(1));
        Assert.Equal(4, store.TableFrames); // one table per level
        store.Store(0x7ffffffde000, Page(2));
        store.Store(0x7ffff7ff0000, Page(3));
        Assert.True(store.TableFrames <= 10, $"{store.TableFrames} tables");
    }

    [Fact]
    public void DropFreesThePagesOfTheRangeAndTheTablesLeftEmpty()
    {
        var store = new PageStore(_frames);
        for (ulong a = 0x1f0000; a < 0x210000; a += P) store.Store(a, Page(3)); // across a 2 MiB boundary
        store.Store(0x40000000, Page(4));
        store.Drop(0x1f8000, 0x208001); // unaligned end: rounds out to the page holding it
        for (ulong a = 0x1f0000; a < 0x210000; a += P)
            Assert.Equal(a < 0x1f8000 || a >= 0x209000, store.Find(a) != null);
        store.Drop(0, 0x40000000);
        Assert.Equal(1, store.StoredPages);
        Assert.Equal(4, store.TableFrames); // the emptied tables went back
        store.Drop(0, ulong.MaxValue);
        Assert.Equal(0, _frames.Outstanding);
        store.Drop(0, ulong.MaxValue); // nothing there: fine
    }

    [Fact]
    public void NextStoredWalksThePagesInAddressOrder()
    {
        var store = new PageStore(_frames);
        ulong[] addresses = [0x7ffffffde000, 0x400000, 0x200000, 0x1ff000, 0x40000000, 0x8000000000];
        foreach (var a in addresses) store.Store(a, Page(0));
        var seen = new List<ulong>();
        for (ulong a = store.NextStored(0, ulong.MaxValue); a != PageStore.NotFound; a = store.NextStored(a + P, ulong.MaxValue)) seen.Add(a);
        Assert.Equal(addresses.Order(), seen);
        Assert.Equal(0x1ff000UL, store.NextStored(0x1ff001, ulong.MaxValue)); // the page holding the address
        Assert.Equal(0x200000UL, store.NextStored(0x1ff000 + P, ulong.MaxValue));
        Assert.Equal(PageStore.NotFound, store.NextStored(0x401000, 0x40000000));
    }

    [Theory]
    [InlineData(0x400000, 0x40000000)]      // far apart, different top-level tables
    [InlineData(0x400000, 0x402000)]        // overlapping, moving up
    [InlineData(0x402000, 0x400000)]        // overlapping, moving down
    [InlineData(0x1fe000, 0x7ffff7e00000)]  // across a 2 MiB boundary, to the mmap area
    public void MoveTakesThePagesAlongAndLeavesNothingBehind(ulong from, ulong to)
    {
        var store = new PageStore(_frames);
        const ulong length = 8 * P;
        for (int i = 0; i < 8; i += 2) store.Store(from + (ulong)i * P, Page(i + 1)); // every other page
        Assert.Equal(0, store.Move(from, length, to));
        for (int i = 0; i < 8; i++)
        {
            ulong a = to + (ulong)i * P;
            if (i % 2 == 0) AssertPage(store, a, i + 1);
            else Assert.True(store.Find(a) == null, $"page {a:x} appeared");
        }
        for (ulong a = from; a < from + length; a += P)
            if (a < to || a >= to + length) Assert.True(store.Find(a) == null, $"page {a:x} left behind");
        Assert.Equal(4, store.StoredPages);
        store.Clear();
        Assert.Equal(0, _frames.Outstanding);
    }

    [Fact]
    public void APageMovedOntoAStoredPageReplacesIt()
    {
        var store = new PageStore(_frames);
        store.Store(0x400000, Page(1));
        store.Store(0x800000, Page(2));
        store.Store(0x801000, Page(3));
        Assert.Equal(0, store.Move(0x400000, 2 * P, 0x800000));
        AssertPage(store, 0x800000, 1);
        AssertPage(store, 0x801000, 3); // nothing moved onto it
        Assert.Equal(2, store.StoredPages);
        Assert.Equal(store.FramesInUse, _frames.Outstanding); // the replaced frame went back
    }

    [Fact]
    public void OutOfFramesIsENOMEMAndLeaksNothing()
    {
        var store = new PageStore(_frames);
        _frames.Limit = 6; // four tables, two pages
        Assert.Equal(0, store.Store(0x400000, Page(1)));
        Assert.Equal(0, store.Store(0x401000, Page(2)));
        Assert.Equal(-Errno.ENOMEM, store.Store(0x402000, Page(3)));
        Assert.True(store.Find(0x402000) == null);
        // A move that needs new tables at its destination loses what it cannot place, and says so.
        Assert.Equal(2, store.Move(0x400000, 2 * P, 0x40000000));
        store.Clear();
        Assert.Equal(0, _frames.Outstanding);
    }

    [Fact]
    public void BadInputIsRefused()
    {
        var store = new PageStore(_frames);
        Assert.Equal(-Errno.EINVAL, store.Store(PageStore.AddressLimit, Page(0)));
        Assert.Equal(-Errno.EINVAL, store.Store(0x400000, new byte[100]));
        Assert.True(store.Find(ulong.MaxValue) == null);
        Assert.Equal(0, store.Move(0x400000, ulong.MaxValue - 0x1000, 0));
        Assert.Equal(0, _frames.Outstanding);
    }

    /// <summary>
    /// Random stores, drops, moves and clears over addresses clustered around table
    /// boundaries, against a dictionary: after every step the same pages with the same bytes,
    /// the same order from NextStored, and exactly StoredPages + TableFrames frames out.
    /// </summary>
    [Property(MaxTest = 60)]
    public void PageStoreAgreesWithADictionary(int seed)
    {
        var random = new Random(seed);
        using var frames = new FakePageFrames();
        var store = new PageStore(frames);
        var model = new Dictionary<ulong, int>();
        ulong[] bases = [0x10000, 0x1f0000, 0x3ff00000, 0x7fffff0000, 0x7ffffffe0000];
        ulong Address() => bases[random.Next(bases.Length)] + (ulong)random.Next(0, 48) * P;
        var log = new StringBuilder();

        for (int step = 0; step < 200; step++)
        {
            int what = random.Next(100);
            if (what < 55)
            {
                ulong a = Address();
                int tag = random.Next(36);
                log.AppendLine($"store {a:x} {tag}");
                Assert.Equal(0, store.Store(a, Page(tag)));
                model[a] = tag;
            }
            else if (what < 75)
            {
                ulong a = Address(), end = a + (ulong)random.Next(0, 40) * P;
                log.AppendLine($"drop {a:x} {end:x}");
                store.Drop(a, end);
                foreach (var k in model.Keys.Where(k => k >= a && k < end).ToList()) model.Remove(k);
            }
            else if (what < 97)
            {
                ulong from = Address(), to = Address(), length = (ulong)random.Next(1, 20) * P;
                log.AppendLine($"move {from:x} {length:x} {to:x}");
                Assert.Equal(0, store.Move(from, length, to));
                var moving = model.Where(kv => kv.Key >= from && kv.Key < from + length).ToList();
                foreach (var kv in moving) model.Remove(kv.Key);
                foreach (var kv in moving) model[kv.Key - from + to] = kv.Value;
            }
            else
            {
                log.AppendLine("clear");
                store.Clear();
                model.Clear();
            }

            Assert.True(model.Count == store.StoredPages, log.ToString());
            Assert.True(frames.Outstanding == store.FramesInUse, log.ToString());
            foreach (var (a, tag) in model) Assert.True(store.Find(a) != null && Tag(store.Find(a)) == tag, log + $"page {a:x}");
            var walked = new List<ulong>();
            for (ulong a = store.NextStored(0, ulong.MaxValue); a != PageStore.NotFound; a = store.NextStored(a + P, ulong.MaxValue)) walked.Add(a);
            Assert.True(model.Keys.Order().SequenceEqual(walked), log.ToString());
        }
        store.Drop(0, ulong.MaxValue);
        Assert.Equal(0, frames.Outstanding);
    }
}
