// The PC's real-time clock (Motorola MC146818 and compatibles, QEMU's "mc146818rtc"), read
// once so the storage component can stamp inodes with wall-clock time. Registers go through
// the CMOS index port 0x70 and data port 0x71: 0x00 seconds, 0x02 minutes, 0x04 hours,
// 0x07 day of month, 0x08 month, 0x09 year (two digits), 0x32 century (the ACPI FADT's
// default CENTURY index, which QEMU fills), 0x0A status A (bit 7: update in progress),
// 0x0B status B (bit 2: binary instead of BCD, bit 1: 24-hour mode; bit 7 of the hour is PM
// in 12-hour mode). QEMU runs the RTC in UTC unless told otherwise (-rtc base=utc is the default).
// Reading while an update is in progress can tear a value, so the registers are read until
// two passes agree (the usual method, as in Linux's mc146818_get_time).
using Tessera.Core;

namespace Tessera.Drivers
{
    public static class CmosRtc
    {
        private const ushort IndexPort = 0x70, DataPort = 0x71;
        // Bit 7 of the index port masks NMIs; keep them enabled (0).
        private const byte Seconds = 0x00, Minutes = 0x02, Hours = 0x04, Day = 0x07, Month = 0x08, Year = 0x09,
            StatusA = 0x0A, StatusB = 0x0B, Century = 0x32;

        private static byte Read(byte register)
        {
            Cpu.OutByte(IndexPort, register);
            return Cpu.InByte(DataPort);
        }

        private static bool UpdateInProgress() => (Read(StatusA) & 0x80) != 0;

        /// <summary>Seconds since the Unix epoch (UTC) now, or 0 when the clock reads as nonsense.</summary>
        public static ulong ReadUnixSeconds()
        {
            byte s, m, h, d, mo, y, c;
            byte s2, m2, h2, d2, mo2, y2, c2;
            int tries = 0;
            do
            {
                while (UpdateInProgress() && tries++ < 1000000) Cpu.Pause();
                s = Read(Seconds); m = Read(Minutes); h = Read(Hours); d = Read(Day); mo = Read(Month); y = Read(Year); c = Read(Century);
                while (UpdateInProgress() && tries++ < 1000000) Cpu.Pause();
                s2 = Read(Seconds); m2 = Read(Minutes); h2 = Read(Hours); d2 = Read(Day); mo2 = Read(Month); y2 = Read(Year); c2 = Read(Century);
            } while ((s != s2 || m != m2 || h != h2 || d != d2 || mo != mo2 || y != y2 || c != c2) && tries++ < 1000000);

            byte statusB = Read(StatusB);
            bool binary = (statusB & 0x04) != 0;
            bool pm = (h & 0x80) != 0;
            h = (byte)(h & 0x7F);
            if (!binary)
            {
                s = FromBcd(s); m = FromBcd(m); h = FromBcd(h); d = FromBcd(d); mo = FromBcd(mo); y = FromBcd(y); c = FromBcd(c);
            }
            if ((statusB & 0x02) == 0)
            {
                // 12-hour mode: 12 AM is 0, 12 PM is 12.
                if (h == 12) h = 0;
                if (pm) h += 12;
            }
            int year = (c >= 19 && c <= 30 ? c : 20) * 100 + y;
            if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || m > 59 || s > 59) return 0;
            return (ulong)DaysSinceEpoch(year, mo, d) * 86400UL + (ulong)h * 3600UL + (ulong)m * 60UL + s;
        }

        private static byte FromBcd(byte v) => (byte)((v >> 4) * 10 + (v & 0x0F));

        /// <summary>
        /// Days from 1970-01-01 to the given civil date (proleptic Gregorian), counting years
        /// from March so the leap day is the last day of the year (H. Hinnant, "chrono-compatible
        /// low-level date algorithms", days_from_civil).
        /// </summary>
        public static long DaysSinceEpoch(int year, int month, int day)
        {
            int y = month <= 2 ? year - 1 : year;
            int era = (y >= 0 ? y : y - 399) / 400;
            int yearOfEra = y - era * 400;                                       // [0, 399]
            int dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1; // [0, 365]
            int dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear;
            return (long)era * 146097 + dayOfEra - 719468;
        }
    }
}
