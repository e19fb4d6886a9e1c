// The kernel panic: reason, registers, return-address chain, then QEMU exits
// with the failure code (DESIGN §4). Resolve the addresses with
//   addr2line -f -e iso/tessera-<kind>.elf ADDR...
//
// Two ways in:
//  - Halt(reason): a panic at the caller, with the caller's own registers.
//  - BeginReport(), then the caller writes its headline and details, then
//    HaltWithRegisters(registers) for a state captured elsewhere, such as the
//    interrupted frame of an unhandled exception (ExceptionReport), or
//    HaltHere() for the caller's own state.
using Tessera.Drivers;

namespace Tessera.Core
{
    public static unsafe class Panic
    {
        /// <summary>Slots in a register array: rax rbx rcx rdx rsi rdi rbp rsp r8-r15 rip rflags cr0 cr2 cr3 cr4.</summary>
        public const int RegisterCount = 22;
        public const int Rbp = 6, Rsp = 7, Rip = 16, Cr2 = 19;

        private static int s_depth;
        private static readonly string[] s_registerNames =
        {
            "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
            "r8 ", "r9 ", "r10", "r11", "r12", "r13", "r14", "r15",
            "rip", "rflags", "cr0", "cr2", "cr3", "cr4",
        };

        /// <summary>Ends the kernel: prints why and where, then exits QEMU with 35.</summary>
        public static void Halt(string reason)
        {
            Cpu.DisableInterrupts();
            ulong* regs = stackalloc ulong[RegisterCount];
            Cpu.CaptureRegisters(regs);
            BeginReport();
            Console.WriteLine(reason);
            WriteRegisters(regs);
            WriteBacktrace(regs[Rbp]);
            QemuDebugExit.Exit(QemuDebugExit.Failure);
        }

        /// <summary>
        /// Starts a panic report: interrupts off, then "PANIC: " on a fresh line. The caller writes
        /// the headline and details and ends with HaltWithRegisters or HaltHere.
        /// </summary>
        public static void BeginReport()
        {
            Cpu.DisableInterrupts();
            // A panic inside the panic (e.g. while printing) must not recurse forever.
            if (++s_depth > 1)
            {
                Console.WriteLine("\nPANIC (nested): giving up");
                QemuDebugExit.Exit(QemuDebugExit.Failure);
            }
            Console.Write("\nPANIC: ");
        }

        /// <summary>
        /// Ends a report begun with BeginReport with registers captured elsewhere (RegisterCount
        /// slots, in the order above): prints them, then the return-address chain starting at
        /// their rip and following their rbp, and exits QEMU with 35.
        /// </summary>
        public static void HaltWithRegisters(ulong* registers)
        {
            WriteRegisters(registers);
            WriteBacktrace(registers[Rip], registers[Rbp]);
            QemuDebugExit.Exit(QemuDebugExit.Failure);
        }

        /// <summary>Ends a report begun with BeginReport with the caller's own registers.</summary>
        public static void HaltHere()
        {
            ulong* regs = stackalloc ulong[RegisterCount];
            Cpu.CaptureRegisters(regs);
            WriteRegisters(regs);
            WriteBacktrace(regs[Rbp]);
            QemuDebugExit.Exit(QemuDebugExit.Failure);
        }

        public static void WriteRegisters(ulong* regs)
        {
            Console.WriteLine("registers:");
            for (int i = 0; i < RegisterCount; i++)
            {
                Console.Write("  ");
                Console.Write(s_registerNames[i]);
                Console.Write("=");
                Console.WriteHex(regs[i]);
                if (i % 4 == 3 || i == RegisterCount - 1) Console.WriteLine();
            }
        }

        /// <summary>
        /// Follows the frame-pointer chain: each frame starts [saved rbp][return address].
        /// Stops at rbp = 0 (set by boot/entry.asm), outside the kernel stack, or after 32 frames.
        /// </summary>
        public static void WriteBacktrace(ulong rbp)
        {
            Console.WriteLine("call trace (return addresses):");
            WriteFrames(rbp, 0);
        }

        /// <summary>The chain of an interrupted context: its rip as frame #0, then its rbp chain.</summary>
        public static void WriteBacktrace(ulong rip, ulong rbp)
        {
            Console.WriteLine("call trace (return addresses):");
            Console.Write("  #0 ");
            Console.WriteHex(rip);
            Console.WriteLine();
            WriteFrames(rbp, 1);
        }

        private static void WriteFrames(ulong rbp, int first)
        {
            ulong stackBottom = (ulong)KernelLayout.StackBottom();
            ulong stackTop = (ulong)KernelLayout.StackTop();
            ulong textStart = (ulong)KernelLayout.TextStart();
            ulong textEnd = (ulong)KernelLayout.TextEnd();
            for (int frame = first; frame < 32; frame++)
            {
                if (rbp < stackBottom || rbp + 16 > stackTop || (rbp & 7) != 0) break;
                ulong returnAddress = ((ulong*)rbp)[1];
                if (returnAddress < textStart || returnAddress >= textEnd) break;
                Console.Write("  #");
                Console.WriteDecimal((ulong)frame);
                Console.Write(' ');
                Console.WriteHex(returnAddress);
                Console.WriteLine();
                rbp = ((ulong*)rbp)[0];
            }
        }
    }
}
