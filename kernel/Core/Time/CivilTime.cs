// Calendar dates to seconds since the Unix epoch (1970-01-01 00:00:00 UTC), proleptic
// Gregorian, no leap seconds - what CLOCK_REALTIME counts (POSIX "Seconds Since the Epoch",
// XBD §4.16). Days are counted from 0000-03-01 in 400-year eras: with March as the first
// month of the year, February's leap day is the era's last day of a year, so day-of-year
// is a fixed function of the month: (153 * m + 2) / 5 for m = 0 (March) .. 11 (February).
// Pure logic: compiled into the kernels and the host tests.
namespace Tessera.Core
{
    public static class CivilTime
    {
        /// <summary>Days from 1970-01-01 to year-month-day (month 1-12, day 1-31); negative before 1970.</summary>
        public static long DaysFromEpoch(long year, int month, int day)
        {
            long y = month <= 2 ? year - 1 : year;
            long era = (y >= 0 ? y : y - 399) / 400;
            long yearOfEra = y - era * 400;                                   // 0 .. 399
            int m = month > 2 ? month - 3 : month + 9;                        // March = 0
            long dayOfYear = (153 * m + 2) / 5 + day - 1;                     // 0 .. 365
            long dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear;  // 0 .. 146096
            return era * 146097 + dayOfEra - 719468;                          // 719468: 0000-03-01 to 1970-01-01
        }

        public static long ToUnixSeconds(long year, int month, int day, int hour, int minute, int second) =>
            DaysFromEpoch(year, month, day) * 86400 + hour * 3600L + minute * 60L + second;

        /// <summary>A plausible calendar time (what an RTC read is checked against before it is trusted).</summary>
        public static bool IsValid(long year, int month, int day, int hour, int minute, int second)
        {
            if (year < 1970 || year > 9999 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return false;
            if (hour < 0 || minute < 0 || second < 0) return false;
            return day <= DaysInMonth(year, month);
        }

        public static int DaysInMonth(long year, int month)
        {
            if (month == 2) return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28;
            return month == 4 || month == 6 || month == 9 || month == 11 ? 30 : 31;
        }
    }
}
