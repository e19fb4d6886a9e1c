// The kernel panic: reason, registers, return-address chain, then QEMU exits
// with the failure code (DESIGN §4). Resolve the addresses with
//   addr2line -f -e iso/tessera-<kind>.elf ADDR...
using Tessera.Drivers;

namespace Tessera.Core
{
    public static unsafe class Panic
    {
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
            ulong* regs = stackalloc ulong[22];
            Cpu.CaptureRegisters(regs);
            // A panic inside the panic (e.g. while printing) must not recurse forever.
            if (++s_depth > 1)
            {
                Console.WriteLine("\nPANIC (nested): giving up");
                QemuDebugExit.Exit(QemuDebugExit.Failure);
            }

            Console.Write("\nPANIC: ");
            Console.WriteLine(reason);
            WriteRegisters(regs);
            WriteBacktrace(regs[6]);
            QemuDebugExit.Exit(QemuDebugExit.Failure);
        }

        public static void WriteRegisters(ulong* regs)
        {
            Console.WriteLine("registers:");
            for (int i = 0; i < 22; i++)
            {
                Console.Write("  ");
                Console.Write(s_registerNames[i]);
                Console.Write("=");
                Console.WriteHex(regs[i]);
                if (i % 4 == 3 || i == 21) Console.WriteLine();
            }
        }

        /// <summary>
        /// Follows the frame-pointer chain: each frame starts [saved rbp][return address].
        /// Stops at rbp = 0 (set by boot/entry.asm), outside the kernel stack, or after 32 frames.
        /// </summary>
        public static void WriteBacktrace(ulong rbp)
        {
            ulong stackBottom = (ulong)KernelLayout.StackBottom();
            ulong stackTop = (ulong)KernelLayout.StackTop();
            ulong textStart = (ulong)KernelLayout.TextStart();
            ulong textEnd = (ulong)KernelLayout.TextEnd();
            Console.WriteLine("call trace (return addresses):");
            for (int frame = 0; frame < 32; frame++)
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
