// Self-tests of the interrupt machinery: exceptions taken by registered
// handlers and resumed, the interrupt stacks, device vectors through the local
// and I/O APIC, and interrupt-safe spinlocks.
using Tessera.Drivers;

namespace Tessera.Core
{
    internal sealed unsafe class BreakpointHandlerSelfTest : SelfTestCase
    {
        private static int s_taken;
        private static ulong s_rip;

        public override string Name => "interrupts.breakpoint-handler";

        private static bool OnBreakpoint(InterruptFrame* frame)
        {
            s_taken++;
            s_rip = frame->Rip;
            // A handler is free to use SSE; make sure the interrupted code does not notice.
            FaultProbe.ClobberVectorRegisters();
            return true;    // #BP is a trap: the saved rip is already past int3
        }

        public override string? Run()
        {
            Interrupts.RegisterExceptionHandler(InterruptVectors.Breakpoint, &OnBreakpoint);
            s_taken = 0;
            FaultProbe.Breakpoint();
            int afterFirst = s_taken;
            ulong rip = s_rip;
            bool vectorsKept = FaultProbe.VectorRegistersSurviveBreakpoint();
            int afterSecond = s_taken;
            bool removed = Interrupts.UnregisterExceptionHandler(InterruptVectors.Breakpoint, &OnBreakpoint);
            if (afterFirst != 1) return "the #BP handler did not run exactly once";
            if (rip != FaultProbe.BreakpointResumeAddress) return "the frame's rip is not the instruction after int3";
            if (afterSecond != 2) return "the second int3 was not taken";
            if (!vectorsKept) return "xmm registers changed across an interrupt";
            if (!removed) return "the handler could not be unregistered";
            return null;
        }
    }

    internal sealed unsafe class DivideErrorHandlerSelfTest : SelfTestCase
    {
        private static int s_taken;

        public override string Name => "interrupts.divide-error-handler";

        private static bool OnDivideError(InterruptFrame* frame)
        {
            s_taken++;
            return FaultProbe.TryRecover(frame);
        }

        public override string? Run()
        {
            Interrupts.RegisterExceptionHandler(InterruptVectors.DivideError, &OnDivideError);
            s_taken = 0;
            bool divided = FaultProbe.TryDivide(10, 0, out _);
            bool normal = FaultProbe.TryDivide(10, 3, out ulong quotient);
            Interrupts.UnregisterExceptionHandler(InterruptVectors.DivideError, &OnDivideError);
            if (divided) return "dividing by zero did not raise #DE";
            if (s_taken != 1) return "the #DE handler did not run exactly once";
            if (!normal || quotient != 3) return "a normal division after the recovered one went wrong";
            return null;
        }
    }

    internal sealed unsafe class PageFaultHandlerSelfTest : SelfTestCase
    {
        private static int s_declined, s_taken;
        private static ulong s_address, s_errorCode;
        private static ulong s_mapped = 0x5EED_F00D_CAFE_D00D;

        public override string Name => "interrupts.page-fault-handler";

        // Registered first and always passes the fault on: the second handler must still get it.
        private static bool Decline(InterruptFrame* frame)
        {
            s_declined++;
            return false;
        }

        private static bool Recover(InterruptFrame* frame)
        {
            s_taken++;
            s_address = frame->Cr2;
            s_errorCode = frame->ErrorCode;
            return FaultProbe.TryRecover(frame);
        }

        public override string? Run()
        {
            Interrupts.RegisterExceptionHandler(InterruptVectors.PageFault, &Decline);
            Interrupts.RegisterExceptionHandler(InterruptVectors.PageFault, &Recover);
            s_declined = s_taken = 0;
            bool read = FaultProbe.TryRead64(FaultTests.UnmappedAddress, out _);
            ulong value;
            bool readMapped;
            fixed (ulong* mapped = &s_mapped) readMapped = FaultProbe.TryRead64((ulong)mapped, out value);
            bool removed = Interrupts.UnregisterExceptionHandler(InterruptVectors.PageFault, &Recover)
                & Interrupts.UnregisterExceptionHandler(InterruptVectors.PageFault, &Decline);

            if (read) return "reading an unmapped address did not fault";
            if (s_taken != 1 || s_declined != 1) return "the fault did not pass through both handlers once";
            if (s_address != FaultTests.UnmappedAddress) return "cr2 is not the unmapped address";
            var code = new PageFaultErrorCode(s_errorCode);
            if (code.ProtectionViolation || code.Write || code.UserMode || code.InstructionFetch) return "error code is not a supervisor read of a not-present page";
            if (!readMapped || value != 0x5EED_F00D_CAFE_D00D) return "the probe read of mapped memory failed";
            if (!removed) return "handlers could not be unregistered";
            return null;
        }
    }

    internal sealed unsafe class NmiStackSelfTest : SelfTestCase
    {
        private static int s_taken;
        private static ulong s_frame;

        public override string Name => "interrupts.nmi-on-its-own-stack";

        private static bool OnNmi(InterruptFrame* frame)
        {
            s_taken++;
            s_frame = (ulong)frame;
            return true;
        }

        public override string? Run()
        {
            // The gates that must switch stacks, and the TSS slots they switch to.
            if (InterruptDescriptorTable.GateStack(InterruptVectors.DoubleFault) != GlobalDescriptorTable.DoubleFaultStack
                || InterruptDescriptorTable.GateStack(InterruptVectors.Nmi) != GlobalDescriptorTable.NmiStack
                || InterruptDescriptorTable.GateStack(InterruptVectors.MachineCheck) != GlobalDescriptorTable.MachineCheckStack
                || InterruptDescriptorTable.GateStack(InterruptVectors.PageFault) != 0)
                return "IDT gates use the wrong interrupt stacks";
            for (int ist = 1; ist <= GlobalDescriptorTable.InterruptStackCount; ist++)
                if (GlobalDescriptorTable.InterruptStackPointer(ist) != (ulong)InterruptStacks.Top(ist)) return "TSS interrupt stack pointer wrong";

            Interrupts.RegisterExceptionHandler(InterruptVectors.Nmi, &OnNmi);
            s_taken = 0;
            LocalApic.SendNmiToSelf();
            ulong start = Cpu.ReadTimestampCounter();
            fixed (int* taken = &s_taken)
                while (Atomic.Load(taken) == 0 && Cpu.ReadTimestampCounter() - start < Clock.TscHz / 10) Cpu.Pause();
            Interrupts.UnregisterExceptionHandler(InterruptVectors.Nmi, &OnNmi);
            if (s_taken != 1) return "the self-NMI was not taken exactly once";
            ulong bottom = (ulong)InterruptStacks.Bottom(GlobalDescriptorTable.NmiStack);
            ulong top = (ulong)InterruptStacks.Top(GlobalDescriptorTable.NmiStack);
            if (s_frame < bottom || s_frame >= top) return "the NMI frame is not on the NMI stack";
            return null;
        }
    }

    internal sealed unsafe class CountingHandler : InterruptHandler
    {
        public long Count;
        public ulong LastVector;

        public override void Handle(InterruptFrame* frame)
        {
            fixed (long* count = &Count) Atomic.FetchAdd(count, 1);
            LastVector = frame->Vector;
        }

        public long Read() { fixed (long* count = &Count) return Atomic.Load(count); }

        /// <summary>Spins with interrupts enabled until the count reaches target or maxNs pass; returns the count.</summary>
        public long WaitFor(long target, ulong maxNs)
        {
            ulong start = Clock.MonotonicNanoseconds();
            while (Read() < target && Clock.MonotonicNanoseconds() - start < maxNs) Cpu.Pause();
            return Read();
        }
    }

    internal sealed unsafe class SelfIpiSelfTest : SelfTestCase
    {
        public override string Name => "interrupts.self-ipi";

        public override string? Run()
        {
            int vector = Interrupts.AllocateVector();
            if (vector < InterruptVectors.DynamicFirst || vector > InterruptVectors.DynamicLast) return "no device vector to allocate";
            if (Interrupts.AllocateVector() == vector) return "the same vector was handed out twice";
            if (!Cpu.InterruptsEnabled) return "interrupts are not enabled after boot";
            var handler = new CountingHandler();
            Interrupts.RegisterHandler(vector, handler);
            ulong before = Interrupts.Count(vector);
            LocalApic.SendToSelf(vector);
            long first = handler.WaitFor(1, 100000000);
            bool inService = LocalApic.IsInService(vector);
            // Without the EOI the vector would stay in service and block the second one.
            LocalApic.SendToSelf(vector);
            long second = handler.WaitFor(2, 100000000);
            Interrupts.RegisterHandler(vector, null);
            if (first != 1) return "the self-IPI did not reach its handler";
            if (handler.LastVector != (ulong)vector) return "the frame carries the wrong vector";
            if (inService) return "no EOI: the vector is still in service";
            if (second != 2) return "a second self-IPI on the same vector was not delivered";
            if (Interrupts.Count(vector) - before != 2) return "dispatch count wrong";
            return null;
        }
    }

    internal sealed unsafe class IoApicSelfTest : SelfTestCase
    {
        public override string Name => "interrupts.ioapic-pit";

        public override string? Run()
        {
            if (!IoApic.Present) return "no I/O APIC";
            if (IoApic.PinCount < 16) return "I/O APIC has fewer than 16 pins";
            // PIT channel 0 at ~1 kHz on ISA IRQ 0, routed through the I/O APIC to vector 0x30.
            var handler = new CountingHandler();
            int vector = InterruptVectors.IsaIrqBase + 0;
            Interrupts.RegisterHandler(vector, handler);
            IoApic.RouteIsaIrq(0);
            ulong entry = IoApic.ReadEntry(IoApic.PinOfIsaIrq(0));
            Pit8254.StartChannel0Periodic((ushort)(Pit8254.FrequencyHz / 1000));
            ulong start = Clock.MonotonicNanoseconds();
            long ticks = handler.WaitFor(20, 2000000000);
            ulong elapsedMs = (Clock.MonotonicNanoseconds() - start) / 1000000;
            IoApic.Mask(IoApic.PinOfIsaIrq(0));
            Pit8254.StopChannel0();
            Interrupts.RegisterHandler(vector, null);
            if ((entry & 0xFF) != (ulong)vector || (entry & (1UL << 16)) != 0) return "redirection entry not programmed";
            if (ticks < 20) return "fewer than 20 PIT interrupts in 2 s";
            // 20 ticks at 1 kHz take 20 ms; far less would mean the wrong source or rate.
            if (elapsedMs < 10) return "PIT interrupts came much faster than 1 kHz";
            return null;
        }
    }

    internal sealed unsafe class SpinLockSelfTest : SelfTestCase
    {
        public override string Name => "interrupts.spinlock";

        public override string? Run()
        {
            var a = new SpinLock("selftest a");
            var b = new SpinLock("selftest b");
            if (!Cpu.InterruptsEnabled) return "interrupts are not enabled after boot";

            InterruptState sa = a.Acquire();
            bool offInside = !Cpu.InterruptsEnabled;
            bool held = a.IsHeld;
            bool second = a.TryAcquire(out _);
            bool stillOff = !Cpu.InterruptsEnabled;
            InterruptState sb = b.Acquire();               // nested
            b.Release(sb);
            bool offAfterInner = !Cpu.InterruptsEnabled;
            a.Release(sa);
            bool onAfterOuter = Cpu.InterruptsEnabled;
            if (!offInside) return "Acquire left interrupts enabled";
            if (!held || second || !stillOff) return "a held lock could be taken again";
            if (!sa.InterruptsWereEnabled || sb.InterruptsWereEnabled) return "saved interrupt state wrong";
            if (!offAfterInner) return "releasing the inner lock re-enabled interrupts";
            if (!onAfterOuter || a.IsHeld) return "releasing the outer lock did not restore interrupts";

            // With interrupts off before Acquire, Release must leave them off.
            Cpu.DisableInterrupts();
            InterruptState s = a.Acquire();
            a.Release(s);
            bool stayedOff = !Cpu.InterruptsEnabled;
            Cpu.EnableInterrupts();
            if (!stayedOff) return "Release enabled interrupts that were off before Acquire";

            // An interrupt raised while the lock is held waits for the release.
            var handler = new CountingHandler();
            int vector = Interrupts.AllocateVector();
            Interrupts.RegisterHandler(vector, handler);
            InterruptState st = a.Acquire();
            LocalApic.SendToSelf(vector);
            Clock.BusyDelayMicroseconds(2000);
            long whileHeld = handler.Read();
            a.Release(st);
            long afterRelease = handler.WaitFor(1, 100000000);
            Interrupts.RegisterHandler(vector, null);
            if (whileHeld != 0) return "an interrupt was taken while a spinlock was held";
            if (afterRelease != 1) return "the held-back interrupt was not taken after the release";
            return null;
        }
    }
}
