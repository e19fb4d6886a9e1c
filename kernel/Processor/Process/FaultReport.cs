// The lines the kernel log gets when a program dies of an exception, worded after Linux's
// (arch/x86/mm/fault.c show_signal_msg, arch/x86/kernel/traps.c do_trap):
//   segfault at ADDR ip IP                    a page fault: ADDR as %lx, IP as %016lx
//   general protection fault ip IP            #GP
//   trap <exception name> ip IP               any other exception (e.g. "trap invalid opcode")
// Linux puts "prog[pid]: " in front and sp, error code and the mapping after; Tessera prints
// those on the next log line, so these lines can be matched exactly.
// Pure logic: compiled into the processor image and the host tests.
using Tessera.Processor.Cache;

namespace Tessera.Processor
{
    public static class FaultReport
    {
        public const int GeneralProtection = 13;

        public static AsciiText Segfault(AsciiText text, ulong address, ulong ip)
        {
            text.Append("segfault at ");
            Hex(text, address, 0);
            text.Append(" ip ");
            return Hex(text, ip, 16);
        }

        public static AsciiText Trap(AsciiText text, int vector, string? name, ulong ip)
        {
            if (vector == GeneralProtection) text.Append("general protection fault");
            else text.Append("trap ").Append(name);
            text.Append(" ip ");
            return Hex(text, ip, 16);
        }

        /// <summary>Lower-case hex without 0x: exactly digits digits, or as many as value needs when digits is 0.</summary>
        public static AsciiText Hex(AsciiText text, ulong value, int digits)
        {
            if (digits <= 0)
            {
                digits = 1;
                while (digits < 16 && (value >> (digits * 4)) != 0) digits++;
            }
            for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4)
            {
                int nibble = (int)((value >> shift) & 0xF);
                text.Append((char)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10));
            }
            return text;
        }
    }
}
