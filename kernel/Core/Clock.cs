// Time from the TSC, calibrated against the PIT at boot: the monotonic clock
// and busy-waiting. Timer callbacks and sleep are in Time/Timers.cs.
//
// The TSC counts at a constant rate on every CPU QEMU emulates and on any CPU
// with an invariant TSC (CPUID.80000007H:EDX[8], Intel SDM Vol. 3B §18.17.1).
using Tessera.Drivers;

namespace Tessera.Core
{
    public static unsafe class Clock
    {
        // Until calibration, assume 1 GHz; calibration replaces it before the first log line.
        public static ulong TscHz = 1000000000;
        public static bool Calibrated;

        /// <summary>
        /// Measures the TSC against the PIT over 10 ms windows. Each end of a window reads the
        /// PIT's counter between two TSC reads; when either pair is far apart, the (virtual) CPU
        /// stalled in the middle of the reading, which under TCG on a busy host happens often,
        /// and the attempt is discarded. Of the first three good attempts, the median counts.
        /// </summary>
        public static void Calibrate()
        {
            const uint window = Pit8254.FrequencyHz / 100;       // 10 ms in PIT ticks
            ulong* good = stackalloc ulong[3];
            int count = 0;
            for (int attempt = 0; attempt < 20 && count < 3; attempt++)
            {
                Pit8254.StartOneShot(0xFFFF);                    // counts down for 55 ms: no wrap in a window
                ulong t0 = Cpu.ReadTimestampCounter();
                ushort c0 = Pit8254.ReadChannel2();
                ulong t1 = Cpu.ReadTimestampCounter();
                ushort c1 = c0;
                for (ulong guard = 0; (ushort)(c0 - c1) < window && guard < 10000000; guard++) c1 = Pit8254.ReadChannel2();
                ulong t2 = Cpu.ReadTimestampCounter();
                c1 = Pit8254.ReadChannel2();
                ulong t3 = Cpu.ReadTimestampCounter();
                uint pitTicks = (ushort)(c0 - c1);
                if (pitTicks < window) continue;                 // the PIT did not count: absent or stuck
                ulong tscTicks = (t2 + t3) / 2 - (t0 + t1) / 2;
                // Readings longer than 0.5 % of the window: the CPU was paused while reading.
                if ((t1 - t0) * 200 > tscTicks || (t3 - t2) * 200 > tscTicks) continue;
                ulong hz = tscTicks * Pit8254.FrequencyHz / pitTicks;
                int at = count++;
                while (at > 0 && good[at - 1] > hz) { good[at] = good[at - 1]; at--; }
                good[at] = hz;
            }
            if (count == 0) return;                              // no PIT: keep the guess
            TscHz = good[count / 2];
            Calibrated = true;
        }

        public static ulong Ticks => Cpu.ReadTimestampCounter();

        public static ulong TicksToNanoseconds(ulong ticks) =>
            ticks / TscHz * 1000000000UL + ticks % TscHz * 1000000000UL / TscHz;

        public static ulong MicrosecondsSinceReset()
        {
            ulong t = Cpu.ReadTimestampCounter();
            return t / TscHz * 1000000UL + t % TscHz * 1000000UL / TscHz;
        }

        public static ulong NanosecondsSinceReset() => TicksToNanoseconds(Cpu.ReadTimestampCounter());

        private static long s_lastMonotonic;

        /// <summary>
        /// Nanoseconds since the CPU's reset, never smaller than any value returned before (on
        /// any CPU): the clock for deadlines and intervals. Read it after Calibrate.
        /// </summary>
        public static ulong MonotonicNanoseconds()
        {
            ulong now = NanosecondsSinceReset();
            fixed (long* last = &s_lastMonotonic)
            {
                while (true)
                {
                    ulong seen = (ulong)Atomic.Load(last);
                    if (seen >= now) return seen;
                    if (Atomic.CompareExchange(last, (long)seen, (long)now) == (long)seen) return now;
                }
            }
        }

        /// <summary>Spins for the given number of nanoseconds (interrupts keep their state).</summary>
        public static void BusyDelayNanoseconds(ulong ns)
        {
            ulong ticks = ns / 1000000000UL * TscHz + ns % 1000000000UL * TscHz / 1000000000UL;
            ulong start = Cpu.ReadTimestampCounter();
            while (Cpu.ReadTimestampCounter() - start < ticks) Cpu.Pause();
        }

        /// <summary>Spins for the given number of microseconds.</summary>
        public static void BusyDelayMicroseconds(ulong us) => BusyDelayNanoseconds(us * 1000);
    }
}
