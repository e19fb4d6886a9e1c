// struct utsname as uname(2) fills it on Linux: six NUL-padded 65-byte fields
// (include/uapi/linux/utsname.h, __NEW_UTS_LEN + 1). Tessera reports itself as a Linux
// kernel, because static C libraries look at the sysname and release (musl's and glibc's
// version checks, busybox's uname): sysname "Linux", release "6.1.0-tessera", machine
// "x86_64", nodename "tessera".
// Pure logic: compiled into the processor image and the host tests.
using System;

namespace Tessera.Processor.Syscalls
{
    public static class Utsname
    {
        public const int FieldLength = 65;
        public const int Size = 6 * FieldLength;

        public const string SysName = "Linux";
        public const string NodeName = "tessera";
        public const string Release = "6.1.0-tessera";
        public const string Version = "#1 SMP Tessera splitkernel";
        public const string Machine = "x86_64";
        public const string DomainName = "(none)";

        /// <summary>Fills the Size bytes of a struct utsname.</summary>
        public static void Fill(Span<byte> b)
        {
            b.Slice(0, Size).Clear();
            Put(b, 0, SysName);
            Put(b, 1, NodeName);
            Put(b, 2, Release);
            Put(b, 3, Version);
            Put(b, 4, Machine);
            Put(b, 5, DomainName);
        }

        private static void Put(Span<byte> b, int field, string value)
        {
            for (int i = 0; i < value.Length && i < FieldLength - 1; i++) b[field * FieldLength + i] = (byte)value[i];
        }
    }
}
