// Time from the TSC, calibrated against the PIT at boot.
using Tessera.Drivers;

namespace Tessera.Core
{
    public static class Clock
    {
        // Until calibration, assume 1 GHz; calibration replaces it before the first log line.
        public static ulong TscHz = 1000000000;
        public static bool Calibrated;

        /// <summary>Measures TSC ticks over 10 ms of PIT time, three times, keeping the smallest.</summary>
        public static void Calibrate()
        {
            const ushort pitTicks = (ushort)(Pit8254.FrequencyHz / 100); // 10 ms
            ulong best = ulong.MaxValue;
            for (int attempt = 0; attempt < 3; attempt++)
            {
                Pit8254.StartOneShot(pitTicks);
                ulong start = Cpu.ReadTimestampCounter();
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

        /// <summary>Spins for the given number of microseconds.</summary>
        public static void BusyDelayMicroseconds(ulong us)
        {
            ulong end = Cpu.ReadTimestampCounter() + us * TscHz / 1000000UL;
            while (Cpu.ReadTimestampCounter() < end) Cpu.Pause();
        }
    }
}
