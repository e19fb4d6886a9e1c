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
        /// Measures TSC ticks over 10 ms of PIT time, three times, keeping the smallest. The TSC is
        /// read before the PIT starts and after it is seen expired, so a pause of the (virtual) CPU
        /// anywhere in between can only make an attempt longer, never shorter: the smallest is
        /// the one least disturbed.
        /// </summary>
        public static void Calibrate()
        {
            const ushort pitTicks = (ushort)(Pit8254.FrequencyHz / 100); // 10 ms
            ulong best = ulong.MaxValue;
            for (int attempt = 0; attempt < 3; attempt++)
            {
                ulong start = Cpu.ReadTimestampCounter();
                Pit8254.StartOneShot(pitTicks);
                ulong guard = 0;
                while (!Pit8254.OneShotExpired && ++guard < 100000000) { }
                ulong elapsed = Cpu.ReadTimestampCounter() - start;
                if (guard < 100000000 && elapsed < best) best = elapsed;
            }
            if (best == ulong.MaxValue || best == 0) return; // no PIT: keep the guess
            TscHz = best * 100;
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
