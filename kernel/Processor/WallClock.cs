// CLOCK_REALTIME: the CMOS clock read once at boot (whole seconds, UTC), advanced by the
// TSC-based monotonic clock since. Without a readable RTC the realtime clock starts at the
// epoch, which programs still see as a valid, advancing time.
using Tessera.Core;
using Tessera.Drivers;

namespace Tessera.Processor
{
    public static class WallClock
    {
        private static ulong s_epochAtBoot;       // ns since the Unix epoch when s_monotonicAtBoot was read
        private static ulong s_monotonicAtBoot;
        public static bool FromRtc;

        public static void Initialize()
        {
            s_monotonicAtBoot = Clock.MonotonicNanoseconds();
            FromRtc = CmosRtc.TryRead(out long seconds) && seconds > 0;
            s_epochAtBoot = FromRtc ? (ulong)seconds * 1000000000UL : 0;
        }

        public static ulong NowNanoseconds() => s_epochAtBoot + (Clock.MonotonicNanoseconds() - s_monotonicAtBoot);
    }
}
