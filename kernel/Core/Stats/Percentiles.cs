// Order statistics of measured samples (round trips in TSC ticks or nanoseconds): sort in
// place, then read percentiles by the nearest-rank method. The kernel's RPC benchmark and the
// host's baselines (Linux ping, loopback UDP) both use this file, so "p99" means the same
// thing in every row of `./build.sh bench rpc`.
//
// Nearest rank (the definition in NIST's Engineering Statistics Handbook, §7.2.6.2 and most
// textbooks): the p-th percentile of n sorted samples is the sample of rank ceil(p/100 × n),
// ranks counted from 1. It is always one of the samples (never an interpolation), p = 0 is
// taken as the minimum and p = 100 is the maximum.
//
// Sorting is heapsort (Knuth, TAOCP Vol. 3 §5.2.3): O(n log n) in the worst case, in place,
// no recursion and no allocation, which suits a kernel sorting 10,000 samples on its stack's
// budget. Percentiles are given in hundredths of a percent (basis points: 9900 = p99,
// 9990 = p99.9) so that integer arithmetic suffices.
// Pure logic: compiled into the kernels and the host tools and tests.
using System;

namespace Tessera.Core.Stats
{
    public static class Percentiles
    {
        /// <summary>The whole range in basis points (100 %).</summary>
        public const int Whole = 10000;

        /// <summary>Sorts samples into ascending order, in place.</summary>
        public static void SortInPlace(Span<ulong> samples)
        {
            int n = samples.Length;
            // Build a max-heap: every parent at least as large as its children.
            for (int start = n / 2 - 1; start >= 0; start--) SiftDown(samples, start, n);
            // Move the largest to the end, shrink the heap, restore it.
            for (int end = n - 1; end > 0; end--)
            {
                ulong top = samples[0];
                samples[0] = samples[end];
                samples[end] = top;
                SiftDown(samples, 0, end);
            }
        }

        private static void SiftDown(Span<ulong> heap, int root, int count)
        {
            ulong value = heap[root];
            while (true)
            {
                int child = 2 * root + 1;
                if (child >= count) break;
                if (child + 1 < count && heap[child + 1] > heap[child]) child++;
                if (heap[child] <= value) break;
                heap[root] = heap[child];
                root = child;
            }
            heap[root] = value;
        }

        /// <summary>
        /// The 1-based nearest rank of percentile basisPoints/100 among count samples:
        /// ceil(basisPoints × count / 10000), at least 1. 0 when there are no samples.
        /// </summary>
        public static int Rank(int count, int basisPoints)
        {
            if (count <= 0) return 0;
            if (basisPoints <= 0) return 1;
            if (basisPoints >= Whole) return count;
            long product = (long)basisPoints * count;
            long rank = (product + Whole - 1) / Whole;
            return rank < 1 ? 1 : (int)rank;
        }

        /// <summary>The nearest-rank percentile of ascending samples; 0 when there are none.</summary>
        public static ulong OfSorted(ReadOnlySpan<ulong> sorted, int basisPoints)
        {
            int rank = Rank(sorted.Length, basisPoints);
            return rank == 0 ? 0 : sorted[rank - 1];
        }

        /// <summary>The mean, rounded down; 0 when there are no samples. Sums in 64 bits: fine for
        /// nanosecond round trips (10,000 samples of up to 1.8e15 ns each).</summary>
        public static ulong Mean(ReadOnlySpan<ulong> samples)
        {
            if (samples.Length == 0) return 0;
            ulong sum = 0;
            for (int i = 0; i < samples.Length; i++) sum += samples[i];
            return sum / (ulong)samples.Length;
        }
    }
}
