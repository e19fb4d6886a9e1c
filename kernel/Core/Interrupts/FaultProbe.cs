// Instructions that are expected to fault, with a way back (boot/probes.asm).
// A probe returns false when its instruction faulted and an exception handler
// recovered it with TryRecover; with no such handler registered, the fault is
// reported like any other (that is what fault-test=de uses).
using System.Runtime;
using System.Runtime.CompilerServices;

namespace Tessera.Core
{
    public static unsafe class FaultProbe
    {
        private const int Read64Access = 0, Read64Recover = 1, DivideInstruction = 2, DivideRecover = 3, BreakpointResume = 4;

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("probe_read64")] private static extern ulong ProbeRead64(ulong address, ulong* value);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("probe_divide")] private static extern ulong ProbeDivide(ulong dividend, ulong divisor, ulong* quotient);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("probe_breakpoint")] private static extern ulong ProbeBreakpoint();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("probe_address")] private static extern ulong ProbeAddress(int which);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("probe_vector_registers_survive_breakpoint")] private static extern ulong ProbeVectorRegisters();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("probe_clobber_vector_registers")] private static extern void ProbeClobberVectorRegisters();

        /// <summary>Reads 8 bytes at address; false when the read faulted and was recovered.</summary>
        public static bool TryRead64(ulong address, out ulong value)
        {
            ulong v = 0;
            bool ok = ProbeRead64(address, &v) != 0;
            value = v;
            return ok;
        }

        /// <summary>Executes DIV; false when it raised #DE (zero divisor or quotient overflow) and was recovered.</summary>
        public static bool TryDivide(ulong dividend, ulong divisor, out ulong quotient)
        {
            ulong q = 0;
            bool ok = ProbeDivide(dividend, divisor, &q) != 0;
            quotient = q;
            return ok;
        }

        /// <summary>Executes int3 (#BP) and returns once a handler resumed it.</summary>
        public static void Breakpoint() => ProbeBreakpoint();

        /// <summary>
        /// Loads xmm0-15 with patterns, executes int3 and checks them afterwards: true when the
        /// interrupt path preserved all 16 (the #BP handler should clobber them to make it count).
        /// </summary>
        public static bool VectorRegistersSurviveBreakpoint() => ProbeVectorRegisters() != 0;

        /// <summary>Zeroes xmm0-15: for a handler that must look like one using SSE.</summary>
        public static void ClobberVectorRegisters() => ProbeClobberVectorRegisters();

        /// <summary>Where #BP from Breakpoint resumes (the instruction after int3).</summary>
        public static ulong BreakpointResumeAddress => ProbeAddress(BreakpointResume);

        /// <summary>The address of the probe's DIV instruction.</summary>
        public static ulong DivideInstructionAddress => ProbeAddress(DivideInstruction);

        /// <summary>
        /// For an exception handler: if frame stopped at a probe instruction, sends it to the
        /// probe's recovery path (the probe then returns false) and returns true.
        /// </summary>
        public static bool TryRecover(InterruptFrame* frame)
        {
            if (frame->Rip == ProbeAddress(Read64Access)) { frame->Rip = ProbeAddress(Read64Recover); return true; }
            if (frame->Rip == ProbeAddress(DivideInstruction)) { frame->Rip = ProbeAddress(DivideRecover); return true; }
            return false;
        }
    }
}
