// The kernel console: text to the serial port, formatted without allocating,
// so it works before the heap and inside a panic.
using Tessera.Drivers;

namespace Tessera.Core
{
    public static unsafe class Console
    {
        public static void Write(char c)
        {
            if (c == '\n') Serial16550.Write((byte)'\r');
            Serial16550.Write(c < 128 ? (byte)c : (byte)'?');
        }

        public static void Write(string? s)
        {
            if (s is null) return;
            for (int i = 0; i < s.Length; i++) Write(s[i]);
        }

        public static void WriteLine(string? s) { Write(s); Write('\n'); }
        public static void WriteLine() => Write('\n');

        public static void WriteAscii(byte* bytes, int length)
        {
            for (int i = 0; i < length; i++) Write((char)bytes[i]);
        }

        public static void WriteAscii(System.ReadOnlySpan<byte> bytes)
        {
            for (int i = 0; i < bytes.Length; i++) Write((char)bytes[i]);
        }

        public static void WriteDecimal(ulong value) => WriteDecimal(value, 0, ' ');

        public static void WriteDecimal(long value)
        {
            if (value < 0) { Write('-'); WriteDecimal((ulong)(-value)); }
            else WriteDecimal((ulong)value);
        }

        /// <summary>Writes value in decimal, padded on the left to width with pad.</summary>
        public static void WriteDecimal(ulong value, int width, char pad)
        {
            char* digits = stackalloc char[20];
            int n = 0;
            do { digits[n++] = (char)('0' + (int)(value % 10)); value /= 10; } while (value != 0);
            for (int i = n; i < width; i++) Write(pad);
            while (n > 0) Write(digits[--n]);
        }

        /// <summary>Writes value as 0x followed by exactly digits hex digits.</summary>
        public static void WriteHex(ulong value, int digits = 16)
        {
            Write('0'); Write('x');
            for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4)
            {
                int nibble = (int)((value >> shift) & 0xF);
                Write((char)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10));
            }
        }

        /// <summary>Writes a byte count in the largest whole unit (B, KiB, MiB, GiB).</summary>
        public static void WriteSize(ulong bytes)
        {
            if (bytes >= (1UL << 30) && bytes % (1UL << 30) == 0) { WriteDecimal(bytes >> 30); Write(" GiB"); }
            else if (bytes >= (1UL << 20)) { WriteDecimal(bytes >> 20); Write(" MiB"); }
            else if (bytes >= (1UL << 10)) { WriteDecimal(bytes >> 10); Write(" KiB"); }
            else { WriteDecimal(bytes); Write(" B"); }
        }
    }

    public enum LogLevel { Debug, Info, Warn, Error }

    // Kernel log lines: "[   0.123456] info: message", the time being seconds since
    // the CPU's reset from the calibrated TSC (so firmware time is included).
    public static class Log
    {
        public static LogLevel MinimumLevel = LogLevel.Info;

        public static bool Begin(LogLevel level)
        {
            if (level < MinimumLevel) return false;
            ulong us = Clock.MicrosecondsSinceReset();
            Console.Write('[');
            Console.WriteDecimal(us / 1000000, 4, ' ');
            Console.Write('.');
            Console.WriteDecimal(us % 1000000, 6, '0');
            Console.Write("] ");
            Console.Write(level == LogLevel.Debug ? "debug: " : level == LogLevel.Info ? "info: " : level == LogLevel.Warn ? "warn: " : "error: ");
            return true;
        }

        public static void Line(LogLevel level, string message)
        {
            if (!Begin(level)) return;
            Console.WriteLine(message);
        }

        public static void Debug(string message) => Line(LogLevel.Debug, message);
        public static void Info(string message) => Line(LogLevel.Info, message);
        public static void Warn(string message) => Line(LogLevel.Warn, message);
        public static void Error(string message) => Line(LogLevel.Error, message);
    }
}
