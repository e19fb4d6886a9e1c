// The report of an exception no handler took, then the panic. It names the
// exception, where it happened, decodes the error code where the SDM gives it a
// meaning, and prints the interrupted registers and their return-address chain:
//
//   PANIC: #PF page fault (vector 14) at rip 0xffffffff80101234
//     address 0x00007ffffffff000 (cr2): supervisor read of a not-present page
//     error code 0x0000 (P=0 W=0 U=0 RSVD=0 I=0)
//   registers: ...
//   call trace (return addresses): #0 is the faulting instruction
namespace Tessera.Core
{
    internal static unsafe class ExceptionReport
    {
        public static void Halt(InterruptFrame* frame)
        {
            int vector = (int)frame->Vector;
            Panic.BeginReport();
            Console.Write(InterruptVectors.Mnemonic(vector));
            Console.Write(' ');
            Console.Write(InterruptVectors.Name(vector));
            Console.Write(" (vector ");
            Console.WriteDecimal((ulong)vector);
            Console.Write(") at rip ");
            Console.WriteHex(frame->Rip);
            if ((frame->Cs & 3) != 0) Console.Write(" in user mode");
            Console.WriteLine();

            if (vector == InterruptVectors.PageFault) WritePageFault(frame);
            else if (InterruptVectors.HasSelectorErrorCode(vector)) WriteSelector(vector, frame->ErrorCode);
            else if (vector == InterruptVectors.DoubleFault) WriteDoubleFault(frame);
            else if (vector == 17 || vector == 21 || vector == 29 || vector == 30)
            {
                Console.Write("  error code ");
                Console.WriteHex(frame->ErrorCode, 8);
                Console.WriteLine();
            }
            Console.Write("  cs=");
            Console.WriteHex(frame->Cs, 4);
            Console.Write(" ss=");
            Console.WriteHex(frame->Ss, 4);
            Console.Write(" interrupted rsp=");
            Console.WriteHex(frame->Rsp);
            Console.WriteLine();

            ulong* regs = stackalloc ulong[Panic.RegisterCount];
            regs[0] = frame->Rax; regs[1] = frame->Rbx; regs[2] = frame->Rcx; regs[3] = frame->Rdx;
            regs[4] = frame->Rsi; regs[5] = frame->Rdi; regs[6] = frame->Rbp; regs[7] = frame->Rsp;
            regs[8] = frame->R8; regs[9] = frame->R9; regs[10] = frame->R10; regs[11] = frame->R11;
            regs[12] = frame->R12; regs[13] = frame->R13; regs[14] = frame->R14; regs[15] = frame->R15;
            regs[16] = frame->Rip; regs[17] = frame->Rflags;
            regs[18] = Cpu.ReadCr0(); regs[19] = frame->Cr2; regs[20] = Cpu.ReadCr3(); regs[21] = Cpu.ReadCr4();
            Panic.HaltWithRegisters(regs);
        }

        private static void WritePageFault(InterruptFrame* frame)
        {
            var code = new PageFaultErrorCode(frame->ErrorCode);
            Console.Write("  address ");
            Console.WriteHex(frame->Cr2);
            Console.Write(" (cr2): ");
            Console.Write(code.Mode);
            Console.Write(' ');
            Console.Write(code.Access);
            Console.Write(" of ");
            Console.Write(code.Cause);
            // Compiled C# dereferences null without a check and lets the hardware fault;
            // the address is then the field or element offset.
            if (!code.UserMode && frame->Cr2 < 0x1000) Console.Write(" (a null reference?)");
            Console.WriteLine();
            Console.Write("  error code ");
            Console.WriteHex(frame->ErrorCode, 4);
            Console.Write(" (P=");
            Console.Write(code.ProtectionViolation ? '1' : '0');
            Console.Write(" W=");
            Console.Write(code.Write ? '1' : '0');
            Console.Write(" U=");
            Console.Write(code.UserMode ? '1' : '0');
            Console.Write(" RSVD=");
            Console.Write(code.ReservedBit ? '1' : '0');
            Console.Write(" I=");
            Console.Write(code.InstructionFetch ? '1' : '0');
            Console.WriteLine(")");
        }

        private static void WriteSelector(int vector, ulong errorCode)
        {
            var code = new SelectorErrorCode(errorCode);
            Console.Write("  error code ");
            Console.WriteHex(errorCode, 4);
            if (!code.NamesSelector)
            {
                Console.WriteLine(vector == InterruptVectors.GeneralProtection
                    ? ": no selector involved (e.g. a non-canonical address or a privileged instruction)"
                    : ": no selector involved");
                return;
            }
            Console.Write(": ");
            Console.Write(code.Table);
            if (code.IdtEntry)
            {
                Console.Write(" vector ");
                Console.WriteDecimal((ulong)code.Index);
            }
            else
            {
                Console.Write(" selector ");
                Console.WriteHex(code.Selector, 4);
                Console.Write(" (index ");
                Console.WriteDecimal((ulong)code.Index);
                Console.Write(')');
            }
            if (code.External) Console.Write(", during delivery of an external event");
            Console.WriteLine();
        }

        private static void WriteDoubleFault(InterruptFrame* frame)
        {
            // SDM Vol. 3A §6.15, interrupt 8: the saved CS:RIP is undefined, the error code is 0.
            Console.WriteLine("  a fault while delivering another exception; the saved rip is undefined for #DF");
            ulong rsp = frame->Rsp;
            ulong bottom = (ulong)KernelLayout.StackBottom();
            if (rsp < bottom + 512 && rsp + 64 * 1024 >= bottom)
            {
                Console.Write("  interrupted rsp ");
                Console.WriteHex(rsp);
                Console.Write(" is at the bottom of the kernel stack (");
                Console.WriteHex(bottom);
                Console.WriteLine("): kernel stack overflow");
            }
        }
    }
}
