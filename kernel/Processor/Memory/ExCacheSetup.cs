// The processor's ExCache at boot: its words parsed (excache=, excache_ways=,
// excache_policy=, excache_seed=; ExCacheConfig.cs), its lines reserved as one contiguous run
// of physical frames taken from PhysicalFrames, so they are never handed to anything else;
// ExCacheMemory.OverflowLines more lines (64 KiB) make the overflow set that guarantees
// forward progress. A malformed word or a size that does not fit leaves the processor without a cache: it
// says so and runs no program (a run with a typo must not measure the wrong cache).
using Tessera.Core;
using Tessera.Core.Memory;
using Tessera.Processor.Cache;

namespace Tessera.Processor
{
    public static class ExCacheSetup
    {
        /// <summary>The processor's ExCache and its pager; null when it could not be set up.</summary>
        public static ExCacheMemory? Memory;
        public static bool Attempted;

        public static void Initialize()
        {
            if (Attempted) return;
            Attempted = true;
            ConfigError error = ExCacheConfig.Parse(KernelMain.CommandLine, out ExCacheConfig config);
            var text = new AsciiText(512);
            ExCacheConfig.Describe(error, KernelMain.CommandLine, config, text);
            if (error != ConfigError.None)
            {
                if (Log.Begin(LogLevel.Error)) { Console.WriteAscii(text.Bytes); Console.WriteLine(); }
                return;
            }
            ulong frames = (ulong)config.Geometry.Lines;
            if (!PhysicalFrames.TryAllocateContiguous(frames, 1, out ulong region))
            {
                if (Log.Begin(LogLevel.Error))
                {
                    Console.Write("excache: no ");
                    Console.WriteSize(config.Geometry.SizeBytes);
                    Console.WriteLine(" of contiguous physical memory for the lines (give the VM more memory or a smaller excache=)");
                }
                return;
            }
            // The overflow set (ExCacheMemory.cs, forward progress): its own few lines, fully associative.
            ExCacheGeometry.TryCreate((ulong)ExCacheMemory.OverflowLines * ExCacheGeometry.LineSize, ExCacheMemory.OverflowLines, out ExCacheGeometry overflowGeometry);
            if (!PhysicalFrames.TryAllocateContiguous(ExCacheMemory.OverflowLines, 1, out ulong overflowRegion))
            {
                PhysicalFrames.FreeContiguous(region, frames);
                Log.Error("excache: no memory for the overflow lines");
                return;
            }
            Memory = new ExCacheMemory(new ExCache(config, region), new ExCache(overflowGeometry, ReplacementPolicy.Lru, overflowRegion));
            if (Log.Begin(LogLevel.Info))
            {
                Console.WriteAscii(text.Bytes);
                Console.Write(", lines at physical ");
                Console.WriteHex(region);
                Console.Write(", ");
                Console.WriteDecimal((ulong)ExCacheMemory.OverflowLines);
                Console.Write(" overflow lines at ");
                Console.WriteHex(overflowRegion);
                Console.WriteLine();
            }
        }
    }
}
