// Marsaglia's xorshift64 (J. Stat. Software 8(14), 2003, the 13/7/17 triple): the random
// replacement policy's generator. Seeded from `excache_seed=` so a run, and a test, can be
// repeated exactly; a zero seed (a fixed point of the generator) is replaced by a constant.
namespace Tessera.Processor.Cache
{
    public struct XorShift64
    {
        private ulong _state;

        public XorShift64(ulong seed) { _state = seed != 0 ? seed : 0x9E3779B97F4A7C15UL; }

        public ulong Next()
        {
            ulong x = _state;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            _state = x;
            return x;
        }

        /// <summary>A value in [0, bound) (bound > 0); the modulo bias is below 2^-40 for bounds under 2^24.</summary>
        public int Below(int bound) => (int)(Next() % (ulong)bound);
    }
}
