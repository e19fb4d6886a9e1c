// The ExCache's command-line words (DESIGN §1, issue 5 item 3):
//   excache=SIZE          bytes of reserved DRAM for lines, K/M/G suffixes; default 16M
//   excache_ways=N        lines per set; default 64 (LegoOS's default associativity)
//   excache_policy=P      lru (default), fifo or random
//   excache_seed=N        the random policy's xorshift seed; default 1
// A word that is present but malformed is an error, never silently the default: a rig run
// with a typo must not measure the wrong cache.
// Pure logic: compiled into the processor image and the host tests.
using Tessera.Core.Boot;

namespace Tessera.Processor.Cache
{
    public enum ConfigError
    {
        None,
        /// <summary>excache= is not a number with an optional K, M or G suffix.</summary>
        BadSize,
        /// <summary>excache_ways= is not a number.</summary>
        BadWays,
        /// <summary>excache_policy= is not lru, fifo or random.</summary>
        BadPolicy,
        /// <summary>excache_seed= is not a number.</summary>
        BadSeed,
        /// <summary>Size and ways parse but make no cache (see Geometry).</summary>
        BadGeometry,
    }

    public struct ExCacheConfig
    {
        public const ulong DefaultSize = 16UL << 20;
        public const ulong DefaultWays = 64;
        public const ulong DefaultSeed = 1;

        public ulong SizeBytes;
        public ulong Ways;
        public ReplacementPolicy Policy;
        public ulong Seed;
        /// <summary>Set when Parse returns None (or BadGeometry's reason in GeometryError).</summary>
        public ExCacheGeometry Geometry;
        public GeometryError GeometryError;

        public static ExCacheConfig Defaults()
        {
            ExCacheConfig c = default;
            c.SizeBytes = DefaultSize;
            c.Ways = DefaultWays;
            c.Policy = ReplacementPolicy.Lru;
            c.Seed = DefaultSeed;
            c.GeometryError = ExCacheGeometry.TryCreate(c.SizeBytes, c.Ways, out c.Geometry);
            return c;
        }

        /// <summary>Reads the excache words of a command line; absent words keep their defaults.</summary>
        public static ConfigError Parse(CommandLine line, out ExCacheConfig config)
        {
            config = Defaults();
            if (line.Has("excache") && !line.TryGetSize("excache", out config.SizeBytes)) return ConfigError.BadSize;
            if (line.Has("excache_ways") && !TryGetNumber(line, "excache_ways", out config.Ways)) return ConfigError.BadWays;
            if (line.TryGetValue("excache_policy", out System.ReadOnlySpan<byte> policy) &&
                !ReplacementPolicies.TryParse(policy, out config.Policy)) return ConfigError.BadPolicy;
            if (line.Has("excache_seed") && !TryGetNumber(line, "excache_seed", out config.Seed)) return ConfigError.BadSeed;
            config.GeometryError = ExCacheGeometry.TryCreate(config.SizeBytes, config.Ways, out config.Geometry);
            return config.GeometryError == GeometryError.None ? ConfigError.None : ConfigError.BadGeometry;
        }

        /// <summary>A plain decimal number (TryGetSize would also take a K/M/G suffix, wrong for a count).</summary>
        private static bool TryGetNumber(CommandLine line, string name, out ulong value)
        {
            value = 0;
            if (!line.TryGetValue(name, out System.ReadOnlySpan<byte> v) || v.Length == 0) return false;
            for (int i = 0; i < v.Length; i++) if (v[i] < '0' || v[i] > '9') return false;
            return line.TryGetSize(name, out value);
        }

        /// <summary>One line saying what is wrong, naming the word and its value.</summary>
        public static void Describe(ConfigError error, CommandLine line, in ExCacheConfig config, AsciiText text)
        {
            switch (error)
            {
                case ConfigError.None:
                    text.Append("excache: ").AppendSize(config.SizeBytes).Append(", ").Append(config.Geometry.Lines)
                        .Append(" lines, ").Append(config.Geometry.Sets).Append(" sets x ").Append(config.Geometry.Ways)
                        .Append(" ways, ").Append(ReplacementPolicies.Name(config.Policy));
                    return;
                case ConfigError.BadSize: Word(line, "excache", text).Append(" is not a size (a number with an optional K, M or G suffix)"); return;
                case ConfigError.BadWays: Word(line, "excache_ways", text).Append(" is not a number of ways"); return;
                case ConfigError.BadPolicy: Word(line, "excache_policy", text).Append(" is not a policy (lru, fifo or random)"); return;
                case ConfigError.BadSeed: Word(line, "excache_seed", text).Append(" is not a number"); return;
                case ConfigError.BadGeometry: ExCacheGeometry.Describe(config.GeometryError, config.SizeBytes, config.Ways, text); return;
            }
        }

        private static AsciiText Word(CommandLine line, string name, AsciiText text)
        {
            text.Append(name).Append('=');
            if (line.TryGetValue(name, out System.ReadOnlySpan<byte> v))
                for (int i = 0; i < v.Length; i++) text.Append((char)v[i]);
            return text;
        }
    }
}
