// The ExCache's pure logic run inside the processor image (it is host-tested in depth by
// tests/Tessera.Tests/Host/ExCache*.cs; this proves the same source works compiled by ILC
// against our core library): the kernel's own excache words, then one set driven through
// fills, a dirty victim written back with the miss, a zero-fill, invalidation, the random
// policy's generator, and the summary text. No line memory is touched: the region base is
// only arithmetic here.
using Tessera.Core;
using Tessera.Processor.Cache;

namespace Tessera
{
    internal sealed class ExCacheSelfTest : SelfTestCase
    {
        public override string Name => "excache.logic";

        public override string? Run()
        {
            if (ExCacheConfig.Parse(KernelMain.CommandLine, out ExCacheConfig config) != ConfigError.None)
                return "the excache words on the command line are invalid";
            if (!KernelMain.CommandLine.Has("excache") && (config.Geometry.Lines != 4096 || config.Geometry.Sets != 64))
                return "default geometry is not 4096 lines in 64 sets";
            if (ExCacheGeometry.TryCreate(20UL << 20, 64, out _) != GeometryError.SetsNotPowerOfTwo) return "80 sets accepted";

            const ulong regionBase = 0x1_0000_0000;
            ExCacheGeometry geometry;
            if (ExCacheGeometry.TryCreate(8 * ExCacheGeometry.LineSize, 2, out geometry) != GeometryError.None) return "8 lines x 2 ways refused";
            var cache = new ExCache(geometry, ReplacementPolicy.Lru, regionBase);
            cache.AnnounceFresh(1, 0x400, 16);

            // Three pages of one set (4 sets: pages 4 apart share one): the first is fresh, zero-filled
            // and written; the second, outside the fresh range, is fetched and used; the third, fresh too,
            // evicts the first: a zero-fill, so the dirty victim is written back on its own.
            ulong a = 0x400, b = a + 0x100, c = a + 8;
            if (cache.SetOf(1, a) != cache.SetOf(1, b) || cache.SetOf(1, b) != cache.SetOf(1, c)) return "pages 4 apart not in one set";
            MissPlan pa = cache.OnMiss(1, a, true);
            if (pa.Action != MissAction.Fill || pa.Source != FillSource.ZeroFill || pa.HasVictim) return "first miss not a zero-fill";
            if (pa.LineAddress != regionBase + (ulong)pa.Line * ExCacheGeometry.LineSize) return "line address wrong";
            if (!cache.OnFillComplete(pa.Line)) return "fill refused";
            MissPlan pb = cache.OnMiss(1, b, false);
            if (pb.Source != FillSource.Fetch || !cache.OnFillComplete(pb.Line, true)) return "fetch not planned";
            if (!cache.ObserveAccessed(pb.Line)) return "accessed bit not taken";
            MissPlan pc = cache.OnMiss(1, c, false);
            if (!pc.HasVictim || pc.VictimPage != a || !pc.VictimKnownDirty) return "LRU did not pick the dirty, least recent page";
            cache.OnVictimUnmapped(ref pc, false);
            if (!pc.WriteBackVictim || cache.IsFresh(1, a)) return "dirty victim not written back";
            if (!cache.OnFillComplete(pc.Line)) return "second fill refused";
            if (cache.Find(1, c, out int line) != LineLookup.Resident || line != pc.Line) return "filled page not found";

            if (cache.InvalidateAddressSpace(1) < 2 || cache.ResidentLines() != 0) return "exit left lines behind";
            if (!cache.Counters.Consistent || cache.Counters.ProtocolErrors != 0 || cache.Counters.StandaloneWriteBacks != 1) return "counters inconsistent";

            var random = new XorShift64(1);
            if (random.Next() != 0x40822041UL) return "xorshift64 sequence wrong";

            var text = new AsciiText(1024);
            cache.WriteSummary(text);
            if (!text.Contains("excache: 32 KiB at 0x100000000, 8 lines, 4 sets x 2 ways, lru") || !text.Contains("misses 3 (zero-filled 2, fetched 1, of which zero replies 1)"))
                return "summary text wrong";
            return null;
        }
    }
}
