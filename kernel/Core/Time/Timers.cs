// Timer callbacks and sleep, on the local APIC timer in one-shot mode: the
// timer is always programmed for the earliest pending deadline (or stopped when
// none is pending), so an idle kernel takes no timer interrupts at all.
// Deadlines are on the monotonic clock (Clock.MonotonicNanoseconds).
//
// Callbacks run in the timer interrupt, with interrupts off: keep them short,
// do not sleep in them. They may add and cancel timers. A callback never runs
// before its deadline: if the hardware fires early (calibration is not exact),
// the timer is simply re-armed for the rest.
using Tessera.Drivers;

namespace Tessera.Core
{
    /// <summary>Work to do when a timer expires; runs in interrupt context.</summary>
    public abstract class TimerCallback
    {
        public abstract void OnTimer();
    }

    /// <summary>Names a pending timer, for Timers.Cancel. Default (Id 0) names none.</summary>
    public readonly struct TimerHandle
    {
        public readonly int Id;
        internal TimerHandle(int id) { Id = id; }
        public bool IsValid => Id != 0;
    }

    public static unsafe class Timers
    {
        public const int Capacity = 64;
        // Callbacks run per interrupt at most, so a periodic timer slower than its own period cannot wedge the CPU.
        private const int MaximumCallbacksPerInterrupt = 2 * Capacity;

        private static TimerQueue s_queue = null!;
        private static TimerCallback?[] s_callbacks = null!;   // [slot], the payload in s_queue
        private static SpinLock s_lock = null!;
        private static TimerInterrupt s_interrupt = null!;
        private static WakeUp s_wakeUp = null!;

        /// <summary>True once the APIC timer is calibrated and owned by Timers.</summary>
        public static bool Running { get; private set; }
        /// <summary>Callbacks run since boot.</summary>
        public static ulong Fired;

        public static void Initialize()
        {
            s_queue = new TimerQueue(Capacity);
            s_callbacks = new TimerCallback?[Capacity];
            s_lock = new SpinLock("timers");
            s_interrupt = new TimerInterrupt();
            s_wakeUp = new WakeUp();
            Running = LocalApicTimer.Calibrated;
        }

        /// <summary>Timers waiting to fire (a periodic timer counts until cancelled).</summary>
        public static int Pending => s_queue is null ? 0 : s_queue.Count;

        /// <summary>Runs callback once, at monotonic time deadlineNs (at once if that has passed).</summary>
        public static TimerHandle At(ulong deadlineNs, TimerCallback callback) => Add(deadlineNs, 0, callback);

        /// <summary>Runs callback once, delayNs from now.</summary>
        public static TimerHandle After(ulong delayNs, TimerCallback callback) => Add(Clock.MonotonicNanoseconds() + delayNs, 0, callback);

        /// <summary>Runs callback every periodNs, the first time periodNs from now, until cancelled.</summary>
        public static TimerHandle Every(ulong periodNs, TimerCallback callback)
        {
            if (periodNs == 0) Panic.Halt("Timers.Every: a period of 0");
            return Add(Clock.MonotonicNanoseconds() + periodNs, periodNs, callback);
        }

        /// <summary>Stops a pending timer. False when it already fired (one-shot) or was cancelled.</summary>
        public static bool Cancel(TimerHandle handle)
        {
            if (!handle.IsValid || s_queue is null) return false;
            InterruptState state = s_lock.Acquire();
            bool found = s_queue.Cancel(handle.Id, out int slot);
            if (found) { s_callbacks[slot] = null; Rearm(Clock.MonotonicNanoseconds()); }
            s_lock.Release(state);
            return found;
        }

        /// <summary>
        /// Waits nanoseconds with the CPU halted between interrupts (interrupts are enabled while
        /// waiting, whatever the caller had). Before the APIC timer runs, it busy-waits instead.
        /// </summary>
        public static void Sleep(ulong nanoseconds)
        {
            ulong deadline = Clock.MonotonicNanoseconds() + nanoseconds;
            if (!Running) { Clock.BusyDelayNanoseconds(nanoseconds); return; }
            TimerHandle wake = At(deadline, s_wakeUp);
            ulong flags = Cpu.SaveFlagsAndDisableInterrupts();
            // Checking with interrupts off and halting with sti;hlt closes the window in which
            // the wake-up could fire after the check but before the hlt and be missed.
            while (Clock.MonotonicNanoseconds() < deadline)
            {
                Cpu.EnableInterruptsAndHalt();
                Cpu.DisableInterrupts();
            }
            Cpu.RestoreInterrupts(flags);
            Cancel(wake);   // when the clock got there before the timer interrupt did
        }

        private static TimerHandle Add(ulong deadline, ulong period, TimerCallback callback)
        {
            if (!Running) Panic.Halt("Timers used before the APIC timer runs");
            InterruptState state = s_lock.Acquire();
            int slot = 0;
            while (slot < Capacity && s_callbacks[slot] is not null) slot++;
            if (slot == Capacity) { s_lock.Release(state); Panic.Halt("Timers: more than 64 pending timers"); }
            int id = s_queue.Add(deadline, period, slot);
            s_callbacks[slot] = callback;
            Rearm(Clock.MonotonicNanoseconds());
            s_lock.Release(state);
            return new TimerHandle(id);
        }

        // Programs the APIC timer for the earliest deadline. Called with s_lock held.
        private static void Rearm(ulong now)
        {
            if (!s_queue.TryPeekDeadline(out ulong next)) { LocalApicTimer.Stop(); return; }
            LocalApicTimer.StartOneShot(next > now ? next - now : 0, s_interrupt);
        }

        private static void OnInterrupt()
        {
            for (int run = 0; ; run++)
            {
                ulong now = Clock.MonotonicNanoseconds();
                InterruptState state = s_lock.Acquire();
                if (run == MaximumCallbacksPerInterrupt || !s_queue.TryTakeDue(now, out _, out int slot, out _, out bool periodic))
                {
                    Rearm(now);
                    s_lock.Release(state);
                    return;
                }
                TimerCallback? callback = s_callbacks[slot];
                if (!periodic) s_callbacks[slot] = null;
                s_lock.Release(state);
                Fired++;
                // Outside the lock, so the callback can add or cancel timers.
                if (callback is not null) callback.OnTimer();
            }
        }

        private sealed class TimerInterrupt : InterruptHandler
        {
            public override void Handle(InterruptFrame* frame) => OnInterrupt();
        }

        // Sleep's timer: it only has to end the hlt; the sleeper checks the clock itself.
        private sealed class WakeUp : TimerCallback
        {
            public override void OnTimer() { }
        }
    }
}
