// What boot/interrupts.asm saves on every interrupt and exception, lowest
// address first. Handlers receive a pointer to it and may change any field:
// the stub reloads the general registers and returns with iretq through
// Rip/Cs/Rflags/Rsp/Ss, so setting Rip resumes somewhere else.
using System.Runtime.InteropServices;

namespace Tessera.Core
{
    [StructLayout(LayoutKind.Sequential)]
    public struct InterruptFrame
    {
        /// <summary>CR2 at entry: for a page fault (vector 14), the linear address that faulted.</summary>
        public ulong Cr2;
        public ulong R15, R14, R13, R12, R11, R10, R9, R8;
        public ulong Rbp, Rdi, Rsi, Rdx, Rcx, Rbx, Rax;
        public ulong Vector;
        /// <summary>The processor's error code, or 0 for vectors that have none.</summary>
        public ulong ErrorCode;
        // Pushed by the processor (Intel SDM Vol. 3A §6.14.2).
        public ulong Rip, Cs, Rflags, Rsp, Ss;
    }
}
