// Miss latency in log2 buckets of nanoseconds: bucket 0 holds [0, 2) ns, bucket k (k >= 1)
// holds [2^k, 2^(k+1)) ns. Fed by the caller (the fault handler measures from the fault to
// the mapped line with the TSC); recording is a few instructions and allocates nothing.
// Percentiles come from the buckets, so they are bounds, not exact values: Percentile gives
// the upper end of the bucket holding the requested rank (the true value is below it and at
// least half of it), clamped to the largest value seen.
// Pure logic: compiled into the processor image and the host tests.
namespace Tessera.Processor.Cache
{
    public sealed class LatencyHistogram
    {
        public const int BucketCount = 64;

        private readonly ulong[] _buckets = new ulong[BucketCount];
        private ulong _count, _sum, _min = ulong.MaxValue, _max;

        public ulong Count => _count;
        /// <summary>Sum of all samples (wraps only after 584 years of total latency).</summary>
        public ulong Sum => _sum;
        public ulong Min => _count == 0 ? 0 : _min;
        public ulong Max => _max;
        public ulong Mean => _count == 0 ? 0 : _sum / _count;
        public ulong Bucket(int k) => _buckets[k];

        /// <summary>The bucket of a value: floor(log2(ns)), and 0 for 0 and 1.</summary>
        public static int BucketOf(ulong ns)
        {
            int k = 0;
            while (ns > 1) { ns >>= 1; k++; }
            return k;
        }

        /// <summary>The smallest value of bucket k (0 for bucket 0).</summary>
        public static ulong BucketStart(int k) => k == 0 ? 0 : 1UL << k;

        /// <summary>The largest value of bucket k.</summary>
        public static ulong BucketEnd(int k) => k >= 63 ? ulong.MaxValue : (1UL << (k + 1)) - 1;

        public void Record(ulong ns)
        {
            _buckets[BucketOf(ns)]++;
            _count++;
            _sum += ns;
            if (ns < _min) _min = ns;
            if (ns > _max) _max = ns;
        }

        public void Clear()
        {
            for (int k = 0; k < BucketCount; k++) _buckets[k] = 0;
            _count = 0; _sum = 0; _min = ulong.MaxValue; _max = 0;
        }

        public void CopyFrom(LatencyHistogram other)
        {
            for (int k = 0; k < BucketCount; k++) _buckets[k] = other._buckets[k];
            _count = other._count; _sum = other._sum; _min = other._min; _max = other._max;
        }

        /// <summary>
        /// An upper bound on the value at the given rank, perMille of 1000 (500: the median,
        /// 990: p99): the end of the bucket holding the ceil(count x perMille / 1000)-th sample.
        /// </summary>
        public ulong Percentile(int perMille)
        {
            if (_count == 0) return 0;
            if (perMille < 0) perMille = 0;
            if (perMille > 1000) perMille = 1000;
            ulong rank = (_count * (ulong)perMille + 999) / 1000;
            if (rank == 0) rank = 1;
            ulong seen = 0;
            for (int k = 0; k < BucketCount; k++)
            {
                seen += _buckets[k];
                if (seen >= rank) return BucketEnd(k) < _max ? BucketEnd(k) : _max;
            }
            return _max;
        }

        /// <summary>A summary line, then one line per non-empty bucket with a bar of up to 40 '#'.</summary>
        public void WriteTo(AsciiText text, string indent)
        {
            text.Append(indent).Append("miss latency: ").Append(_count).Append(" samples");
            if (_count == 0) { text.Append('\n'); return; }
            text.Append(", min ").Append(Min).Append(" ns, mean ").Append(Mean).Append(" ns, p50 <= ").Append(Percentile(500))
                .Append(" ns, p99 <= ").Append(Percentile(990)).Append(" ns, max ").Append(_max).Append(" ns\n");
            ulong most = 0;
            for (int k = 0; k < BucketCount; k++) if (_buckets[k] > most) most = _buckets[k];
            for (int k = 0; k < BucketCount; k++)
            {
                if (_buckets[k] == 0) continue;
                text.Append(indent).Append("  [").Append(BucketStart(k), 11, ' ').Append(", ");
                if (k >= 63) text.Append("        max]"); else text.Append(BucketEnd(k) + 1, 11, ' ').Append(')');
                text.Append(" ns ").Append(_buckets[k], 9, ' ').Append(' ');
                int bar = (int)((_buckets[k] * 40 + most - 1) / most);
                for (int i = 0; i < bar; i++) text.Append('#');
                text.Append('\n');
            }
        }
    }
}
