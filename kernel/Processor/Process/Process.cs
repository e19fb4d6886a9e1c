// A user process: one address space, one thread (threads come later), its syscall-visible
// state, and how it ended. The address space belongs to the memory component (or, in
// self-tests, to FixedUserMemory); the processor's AddressSpace is only the page table that
// maps the pages the ExCache holds for it.
using Tessera.Core.Memory;
using Tessera.Processor.Syscalls;

namespace Tessera.Processor
{
    public sealed class Process
    {
        public readonly int Pid;
        /// <summary>The program's path, for log lines.</summary>
        public readonly string Name;
        /// <summary>The page table the CPU walks for this process (kernel half shared, supervisor-only).</summary>
        public readonly AddressSpace Space;
        /// <summary>Where its pages come from and where address-space calls go.</summary>
        public readonly UserPager Pager;
        /// <summary>The memory component that owns the address space (null for self-test spaces).</summary>
        public readonly MemoryClient? Memory;
        /// <summary>The ExCache's name for the address space (ExCacheMemory.Attach); -1 when not cached.</summary>
        public int Asid = -1;

        public OutputSink Stdout;
        public OutputSink Stderr;

        /// <summary>Top of the thread's kernel stack (TSS.RSP0 and the syscall stack while it runs).</summary>
        public ulong KernelStackTop;
        public ulong FsBase;
        public ulong GsBase;
        /// <summary>set_tid_address: where the kernel would clear the thread id at exit (recorded; no futex wake yet).</summary>
        public ulong ClearChildTid;
        /// <summary>The program break as the memory component last reported it.</summary>
        public ulong Brk;
        public readonly SignalState Signals = new SignalState();

        // The pages faulted in by consecutive faults at one instruction (ExCacheMemory's
        // forward-progress rule): a page seen twice in one streak was evicted by the
        // instruction's own other pages.
        public const int StreakPages = 8;
        public ulong StreakIp;
        public readonly ulong[] Streak = new ulong[StreakPages];
        public int StreakLength;

        /// <summary>
        /// Records a fault on page at instruction ip; true when the same instruction already
        /// faulted on that page since it last faulted elsewhere (its pages evict each other).
        /// </summary>
        public bool RepeatsInStreak(ulong ip, ulong page)
        {
            if (ip != StreakIp) { StreakIp = ip; StreakLength = 0; }
            int n = StreakLength < StreakPages ? StreakLength : StreakPages;
            for (int i = 0; i < n; i++) if (Streak[i] == page) return true;
            Streak[StreakLength % StreakPages] = page;
            StreakLength++;
            return false;
        }

        /// <summary>The TSC when the process first entered ring 3 (CLOCK_PROCESS_CPUTIME_ID counts from here).</summary>
        public ulong StartTicks;

        // How it ended.
        public bool Exited;
        /// <summary>The exit code as a shell reports it: the exit status, or 128 + the signal that killed it.</summary>
        public int ExitStatus;
        /// <summary>The signal that killed it (0 for a normal exit).</summary>
        public int TerminatingSignal;
        public ulong FaultAddress;
        public ulong FaultIp;

        public Process(int pid, string name, AddressSpace space, UserPager pager, MemoryClient? memory, OutputSink stdout, OutputSink stderr)
        {
            Pid = pid;
            Name = name;
            Space = space;
            Pager = pager;
            Memory = memory;
            Stdout = stdout;
            Stderr = stderr;
        }
    }
}
