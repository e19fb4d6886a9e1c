// The storage kernel's wall clock for inode and superblock times: the CMOS real-time clock
// read once at boot (drivers/CmosRtc.cs, whole seconds, UTC), advanced by the TSC-based
// monotonic clock from then on, so times never go backwards and the RTC's slow port reads
// stay off the file operations' path.
using Tessera.Core;
using Tessera.Drivers;

namespace Tessera.Storage
{
    public sealed class RtcFileSystemClock : FileSystemClock
    {
        private readonly ulong _bootSeconds;
        private readonly ulong _bootNanoseconds;

        public RtcFileSystemClock()
        {
            _bootSeconds = CmosRtc.ReadUnixSeconds();
            _bootNanoseconds = Clock.MonotonicNanoseconds();
        }

        /// <summary>Whether the RTC gave a plausible time (otherwise times count from 1970).</summary>
        public bool Valid => _bootSeconds != 0;

        public override uint UnixSeconds()
        {
            ulong elapsed = (Clock.MonotonicNanoseconds() - _bootNanoseconds) / 1000000000UL;
            return (uint)(_bootSeconds + elapsed);
        }
    }
}
