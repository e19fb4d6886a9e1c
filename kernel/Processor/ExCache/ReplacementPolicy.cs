// How a miss picks its victim when every way of the set is taken (`excache_policy=`).
// LegoOS offers the same three (managers/processor/pcache/evict_{lru,fifo,random}.c).
namespace Tessera.Processor.Cache
{
    public enum ReplacementPolicy : byte
    {
        /// <summary>The line least recently observed in use: filled, or reported accessed by the
        /// page-table sampler (ExCache.ObserveAccessed). The default.</summary>
        Lru,
        /// <summary>The line filled longest ago, whatever its use since.</summary>
        Fifo,
        /// <summary>A uniformly random line of those that may be evicted, from a seeded xorshift64.</summary>
        Random,
    }

    public static class ReplacementPolicies
    {
        public static string Name(ReplacementPolicy policy) =>
            policy == ReplacementPolicy.Lru ? "lru" : policy == ReplacementPolicy.Fifo ? "fifo" : "random";

        /// <summary>Parses lru, fifo or random (lower case, as on the command line).</summary>
        public static bool TryParse(System.ReadOnlySpan<byte> text, out ReplacementPolicy policy)
        {
            policy = ReplacementPolicy.Lru;
            if (Equals(text, "lru")) { policy = ReplacementPolicy.Lru; return true; }
            if (Equals(text, "fifo")) { policy = ReplacementPolicy.Fifo; return true; }
            if (Equals(text, "random")) { policy = ReplacementPolicy.Random; return true; }
            return false;
        }

        private static bool Equals(System.ReadOnlySpan<byte> text, string word)
        {
            if (text.Length != word.Length) return false;
            for (int i = 0; i < word.Length; i++) if (text[i] != word[i]) return false;
            return true;
        }
    }
}
