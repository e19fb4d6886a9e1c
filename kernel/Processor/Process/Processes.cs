// Running a process: its thread enters ring 3 from here and comes back here when it ends.
//
// Run builds the thread's first InterruptFrame at the top of a fresh kernel stack (rip =
// the entry point, rsp = the initial stack pointer, user selectors, IF set), switches to the
// process's page table, points TSS.RSP0 and the syscall entry at that kernel stack, loads the
// FS/GS bases, and enters ring 3 (UserMode.Enter). Syscalls and interrupts from ring 3 come
// back on that kernel stack and return to the program. When the program ends - exit or
// exit_group, or a fault that kills it - the code that noticed calls Exit or Kill, which leaves
// the kernel stack where it is (UserMode.Leave) and returns from Run on the caller's stack.
// Run then switches back to the kernel's page table, releases the pages (the ExCache drops
// the lines; the memory component is told), and frees the page table and the kernel stack.
//
// One CPU and one process at a time: the kernel context Leave returns to is one static word.
using Tessera.Core;
using Tessera.Core.Memory;

namespace Tessera.Processor
{
    public static unsafe class Processes
    {
        public const ulong KernelStackBytes = 64UL << 10;
        public const int SigIll = 4, SigTrap = 5, SigBus = 7, SigFpe = 8, SigSegv = 11;

        private static ulong s_kernelContext;
        private static int s_nextPid = 1;

        /// <summary>The process whose thread is in ring 3 or in a syscall or fault on its behalf.</summary>
        public static Process? Current;

        public static int AllocatePid() => s_nextPid++;

        /// <summary>
        /// Runs p from entry with the given stack pointer until it ends; returns its exit status
        /// (ExitStatus). Releases everything the process had. -ENOMEM when no kernel stack was left.
        /// </summary>
        public static int Run(Process p, ulong entry, ulong stackPointer)
        {
            ulong top = KernelStacks.Allocate(KernelStackBytes);
            if (top == 0)
            {
                p.Pager.Release(p);
                p.Space.Destroy();
                return -Syscalls.Errno.ENOMEM;
            }
            p.KernelStackTop = top;
            InterruptFrame* frame = UserMode.FrameAt(top);
            *frame = default;
            frame->Rip = entry;
            frame->Rsp = stackPointer;
            frame->Cs = GlobalDescriptorTable.UserCode;
            frame->Ss = GlobalDescriptorTable.UserData;
            frame->Rflags = UserMode.InitialFlags;

            ulong interrupts = Cpu.SaveFlagsAndDisableInterrupts();
            Current = p;
            p.Space.Activate();
            UserMode.SetKernelStack(top);
            Cpu.WriteMsr(UserMode.FsBase, p.FsBase);
            Cpu.WriteMsr(UserMode.GsBase, p.GsBase);
            p.StartTicks = Clock.Ticks;
            fixed (ulong* context = &s_kernelContext) UserMode.Enter(frame, context);

            // The process has ended (Exit or Kill).
            Current = null;
            AddressSpace.Kernel.Activate();
            Cpu.WriteMsr(UserMode.FsBase, 0);
            Cpu.WriteMsr(UserMode.GsBase, 0);
            Cpu.RestoreInterrupts(interrupts);
            p.Pager.Release(p);
            p.Space.Destroy();
            KernelStacks.Free(top);
            return p.ExitStatus;
        }

        /// <summary>exit / exit_group: ends the current process with status (its low 8 bits, as wait() reports them).</summary>
        public static void Exit(Process p, int status)
        {
            p.Exited = true;
            p.ExitStatus = status & 0xFF;
            fixed (ulong* context = &s_kernelContext) UserMode.Leave(context, (ulong)p.ExitStatus);
        }

        /// <summary>Ends the current process as the default action of signal would: exit status 128 + signal.</summary>
        public static void Kill(Process p, int signal)
        {
            p.Exited = true;
            p.TerminatingSignal = signal;
            p.ExitStatus = 128 + signal;
            fixed (ulong* context = &s_kernelContext) UserMode.Leave(context, (ulong)p.ExitStatus);
        }
    }
}
