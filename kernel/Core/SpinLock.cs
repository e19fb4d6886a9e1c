// An interrupt-safe spinlock. Acquire saves RFLAGS and disables interrupts
// before taking the lock, so an interrupt handler on this CPU can never spin on
// a lock its own interrupted code holds; Release frees the lock and then
// re-enables interrupts only if they were enabled at Acquire, so locks nest.
// The wait is test-and-test-and-set: spin on plain reads (with pause) and only
// try the locked exchange when the lock looks free, so waiting CPUs do not
// bounce the cache line (Intel SDM Vol. 3A §9.10.6.1 "Use the PAUSE
// Instruction in Spin-Wait Loops").
namespace Tessera.Core
{
    /// <summary>What Acquire saved: whether interrupts were enabled before it.</summary>
    public readonly struct InterruptState
    {
        internal readonly ulong Flags;
        internal InterruptState(ulong flags) { Flags = flags; }
        public bool InterruptsWereEnabled => (Flags & Cpu.InterruptFlag) != 0;
    }

    public sealed unsafe class SpinLock
    {
        // Spinning this long (TSC seconds) means a deadlock, e.g. re-acquiring a held lock on one CPU.
        private const ulong DeadlockSeconds = 5;

        private int _held;
        public string Name { get; }

        public SpinLock(string name) { Name = name; }

        public bool IsHeld { get { fixed (int* held = &_held) return Atomic.Load(held) != 0; } }

        public InterruptState Acquire()
        {
            ulong flags = Cpu.SaveFlagsAndDisableInterrupts();
            fixed (int* held = &_held)
            {
                if (Atomic.Exchange(held, 1) == 0) return new InterruptState(flags);
                ulong started = Cpu.ReadTimestampCounter();
                while (true)
                {
                    while (Atomic.Load(held) != 0)
                    {
                        Cpu.Pause();
                        if (Cpu.ReadTimestampCounter() - started > DeadlockSeconds * Clock.TscHz)
                        {
                            Panic.BeginReport();
                            Console.Write("spinlock '");
                            Console.Write(Name);
                            Console.WriteLine("' not released for 5 s (deadlock?)");
                            Panic.HaltHere();
                        }
                    }
                    if (Atomic.Exchange(held, 1) == 0) return new InterruptState(flags);
                }
            }
        }

        /// <summary>Takes the lock only if it is free; on failure the interrupt state is already restored.</summary>
        public bool TryAcquire(out InterruptState state)
        {
            ulong flags = Cpu.SaveFlagsAndDisableInterrupts();
            state = new InterruptState(flags);
            fixed (int* held = &_held)
            {
                if (Atomic.Load(held) == 0 && Atomic.Exchange(held, 1) == 0) return true;
            }
            Cpu.RestoreInterrupts(flags);
            return false;
        }

        public void Release(InterruptState state)
        {
            fixed (int* held = &_held)
            {
                if (Atomic.Exchange(held, 0) == 0) Panic.Halt("spinlock released while not held");
            }
            Cpu.RestoreInterrupts(state.Flags);
        }
    }
}
