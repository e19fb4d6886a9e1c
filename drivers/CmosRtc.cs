// The MC146818-compatible real-time clock in the PC's CMOS (ports 0x70 index, 0x71 data):
// seconds 0x00, minutes 0x02, hours 0x04, day 0x07, month 0x08, year 0x09, status A 0x0A
// (bit 7: update in progress), status B 0x0B (bit 2: binary instead of BCD, bit 1: 24-hour),
// century 0x32 (the ACPI FADT's usual century register; QEMU keeps it there). Reading while
// the clock updates can mix two seconds, so the time is read until two reads agree
// (the classic approach, e.g. Linux's mach_get_cmos_time). QEMU's RTC runs in UTC by default.
using Tessera.Core;

namespace Tessera.Drivers
{
    public static class CmosRtc
    {
        private const ushort Index = 0x70, Data = 0x71;

        /// <summary>Reads the date and time; false when the clock never settled or reads nonsense.</summary>
        public static bool TryRead(out long unixSeconds)
        {
            unixSeconds = 0;
            ulong previous = ulong.MaxValue;
            for (int attempt = 0; attempt < 8; attempt++)
            {
                for (int spins = 0; spins < 100000 && (ReadRegister(0x0A) & 0x80) != 0; spins++) Cpu.Pause();
                ulong now = ReadRaw();
                if (now == previous) return Decode(now, out unixSeconds);
                previous = now;
            }
            return false;
        }

        /// <summary>Seconds since the Unix epoch (UTC) now, or 0 when the clock reads as nonsense.</summary>
        public static ulong ReadUnixSeconds() => TryRead(out long seconds) && seconds > 0 ? (ulong)seconds : 0;

        private static ulong ReadRaw()
        {
            ulong v = ReadRegister(0x00);
            v |= (ulong)ReadRegister(0x02) << 8;
            v |= (ulong)ReadRegister(0x04) << 16;
            v |= (ulong)ReadRegister(0x07) << 24;
            v |= (ulong)ReadRegister(0x08) << 32;
            v |= (ulong)ReadRegister(0x09) << 40;
            v |= (ulong)ReadRegister(0x32) << 48;
            v |= (ulong)ReadRegister(0x0B) << 56;
            return v;
        }

        private static bool Decode(ulong raw, out long unixSeconds)
        {
            unixSeconds = 0;
            byte statusB = (byte)(raw >> 56);
            bool binary = (statusB & 0x04) != 0, twentyFour = (statusB & 0x02) != 0;
            int second = Field(raw, 0, binary), minute = Field(raw, 8, binary);
            byte hourByte = (byte)(raw >> 16);
            bool pm = !twentyFour && (hourByte & 0x80) != 0;
            int hour = binary ? hourByte & 0x7F : FromBcd((byte)(hourByte & 0x7F));
            if (!twentyFour) hour = hour % 12 + (pm ? 12 : 0);
            int day = Field(raw, 24, binary), month = Field(raw, 32, binary), year = Field(raw, 40, binary);
            int century = Field(raw, 48, binary);
            long fullYear = century >= 19 && century <= 99 ? century * 100 + year : 2000 + year;
            if (!CivilTime.IsValid(fullYear, month, day, hour, minute, second)) return false;
            unixSeconds = CivilTime.ToUnixSeconds(fullYear, month, day, hour, minute, second);
            return true;
        }

        private static int Field(ulong raw, int shift, bool binary)
        {
            byte b = (byte)(raw >> shift);
            return binary ? b : FromBcd(b);
        }

        private static int FromBcd(byte b) => (b >> 4) * 10 + (b & 0xF);

        private static byte ReadRegister(byte register)
        {
            // Bit 7 of the index port also gates NMI; keep it clear (NMI enabled), as the BIOS leaves it.
            Cpu.OutByte(Index, register);
            return Cpu.InByte(Data);
        }
    }
}
