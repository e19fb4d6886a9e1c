// Exceptions raised by user code (CS.RPL = 3), handled before the kernel's panic report.
//
// Page faults on a not-present page go to the process's pager: the ExCache fills the line
// and maps it, and the program resumes at the faulting instruction. Everything else ends the
// program as Linux's default signal action would, and the kernel keeps running:
//   - a page fault the pager refuses (no area: -EFAULT; the area forbids it: -EACCES) or on a
//     present page (pages are mapped with exactly their area's permissions, so that is a
//     write to read-only or an instruction fetch from no-execute memory): SIGSEGV. The kernel
//     log gets the line
//         segfault at ADDR ip IP
//     with ADDR in hex without leading zeros and IP as 16 hex digits, as in Linux's
//     "prog[pid]: segfault at 0 ip 0000000000401000 sp ... error 4" (arch/x86/mm/fault.c,
//     show_signal_msg: "%lx" and "%016lx"), then a detail line. Exit status 139 (128 + 11).
//   - a fault the pager could not serve (the memory component did not answer): SIGBUS, 135.
//   - other exceptions: #DE, #MF, #XM SIGFPE; #UD SIGILL; #DB, #BP SIGTRAP; #AC, #NP, #SS SIGBUS;
//     #GP and the rest SIGSEGV (a user `int n` to a DPL-0 gate is a #GP), with the line
//         general protection fault ip IP        or        trap <exception name> ip IP
//     after Linux's "traps:" lines (arch/x86/kernel/traps.c).
// Faults in ring 0 are not handled here: the kernel never touches user addresses directly
// (UserAccess goes through the page table and the direct map), so one would be a kernel bug.
using Tessera.Core;
using Tessera.Processor.Cache;
using Tessera.Processor.Syscalls;

namespace Tessera.Processor
{
    public static unsafe class UserExceptions
    {
        /// <summary>Self-tests set this: programs that die on purpose print nothing (the test checks the process instead).</summary>
        public static bool Quiet;

        private static readonly int[] s_trapVectors = { 0, 1, 3, 4, 5, 6, 7, 10, 11, 12, 13, 16, 17, 19 };

        public static void Install()
        {
            Interrupts.RegisterExceptionHandler(InterruptVectors.PageFault, &OnPageFault);
            for (int i = 0; i < s_trapVectors.Length; i++) Interrupts.RegisterExceptionHandler(s_trapVectors[i], &OnTrap);
        }

        private static bool OnPageFault(InterruptFrame* frame)
        {
            Process? p = Processes.Current;
            if (p is null || (frame->Cs & 3) != 3) return false;
            var code = new PageFaultErrorCode(frame->ErrorCode);
            ulong address = frame->Cr2;
            int status = -Errno.EFAULT;
            if (!code.ProtectionViolation && !code.ReservedBit && UserMode.IsUserAddress(address))
            {
                FaultAccess access = code.InstructionFetch ? FaultAccess.Execute : code.Write ? FaultAccess.Write : FaultAccess.Read;
                status = p.Pager.Fault(p, address, access, frame->Rip);
                if (status == 0) return true;
            }
            p.FaultAddress = address;
            p.FaultIp = frame->Rip;
            bool segv = status == -Errno.EFAULT || status == -Errno.EACCES;
            if (segv && !Quiet) WriteLine(FaultReport.Segfault(Line(), address, frame->Rip));
            if (!Quiet && Log.Begin(segv ? LogLevel.Info : LogLevel.Error))
            {
                Console.Write("process ");
                Console.WriteDecimal((ulong)p.Pid);
                Console.Write(" (");
                Console.Write(p.Name);
                Console.Write("): ");
                Console.Write(code.Access);
                Console.Write(" of ");
                WriteHexCompact(address);
                Console.Write(segv ? (code.ProtectionViolation ? ": not allowed by its page" : status == -Errno.EACCES ? ": not allowed by its area" : ": outside any area")
                                   : ": the page could not be fetched, error ");
                if (!segv) Console.WriteDecimal((long)status);
                Console.Write(", sp ");
                WriteHex16(frame->Rsp);
                Console.Write(", error code ");
                Console.WriteDecimal(frame->ErrorCode);
                Console.WriteLine();
            }
            Processes.Kill(p, segv ? Processes.SigSegv : Processes.SigBus);
            return true;
        }

        private static bool OnTrap(InterruptFrame* frame)
        {
            Process? p = Processes.Current;
            if (p is null || (frame->Cs & 3) != 3) return false;
            int vector = (int)frame->Vector;
            int signal = SignalOf(vector);
            p.FaultIp = frame->Rip;
            if (!Quiet) WriteLine(FaultReport.Trap(Line(), vector, InterruptVectors.Name(vector), frame->Rip));
            if (!Quiet && Log.Begin(LogLevel.Info))
            {
                Console.Write("process ");
                Console.WriteDecimal((ulong)p.Pid);
                Console.Write(" (");
                Console.Write(p.Name);
                Console.Write("): ");
                Console.Write(InterruptVectors.Mnemonic(vector));
                Console.Write(", sp ");
                WriteHex16(frame->Rsp);
                Console.Write(", error code ");
                Console.WriteDecimal(frame->ErrorCode);
                Console.Write(", signal ");
                Console.WriteDecimal((ulong)signal);
                Console.WriteLine();
            }
            Processes.Kill(p, signal);
            return true;
        }

        /// <summary>The signal Linux sends for a user exception (arch/x86/kernel/traps.c).</summary>
        public static int SignalOf(int vector) => vector switch
        {
            0 or 16 or 19 => Processes.SigFpe,
            6 => Processes.SigIll,
            1 or 3 => Processes.SigTrap,
            11 or 12 or 17 => Processes.SigBus,
            _ => Processes.SigSegv,
        };

        /// <summary>%lx: lower-case hex, no leading zeros, no 0x.</summary>
        public static void WriteHexCompact(ulong value) => Console.WriteAscii(FaultReport.Hex(Line(), value, 0).Bytes);

        /// <summary>%016lx.</summary>
        public static void WriteHex16(ulong value) => Console.WriteAscii(FaultReport.Hex(Line(), value, 16).Bytes);

        // One buffer for the report lines, made at start-up: a fault allocates nothing.
        private static readonly AsciiText s_line = new AsciiText(160);

        private static AsciiText Line()
        {
            s_line.Clear();
            return s_line;
        }

        private static void WriteLine(AsciiText text)
        {
            Console.WriteAscii(text.Bytes);
            Console.WriteLine();
        }
    }
}
