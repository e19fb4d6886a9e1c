// Self-tests of time: the monotonic clock, the APIC timer in both modes counted
// against the TSC, timer callbacks and sleep. QEMU under TCG on a busy host
// delivers timer interrupts late and drops periodic ticks it could not deliver
// in time, so the tests wait for events with generous caps and bound rates
// only from the side load cannot push: they check function, not precision.
using Tessera.Drivers;

namespace Tessera.Core
{
    internal sealed class MonotonicClockSelfTest : SelfTestCase
    {
        public override string Name => "time.monotonic";

        public override string? Run()
        {
            ulong previous = Clock.MonotonicNanoseconds();
            for (int i = 0; i < 1000; i++)
            {
                ulong now = Clock.MonotonicNanoseconds();
                if (now < previous) return "the monotonic clock went backwards";
                previous = now;
            }
            ulong before = Clock.MonotonicNanoseconds();
            Clock.BusyDelayNanoseconds(2000000);
            ulong after = Clock.MonotonicNanoseconds();
            if (after - before < 2000000) return "a 2 ms busy delay advanced the clock by less than 2 ms";
            if (after - before > 10000000000UL) return "a 2 ms busy delay advanced the clock by more than 10 s";
            return null;
        }
    }

    internal sealed class ApicTimerPeriodicSelfTest : SelfTestCase
    {
        public override string Name => "time.apic-timer-periodic";

        public override string? Run()
        {
            if (!LocalApicTimer.Calibrated) return "APIC timer not calibrated";
            if (Timers.Pending != 0) return "timers pending: the APIC timer is not free for the test";
            // 1 kHz, interrupts enabled, until 30 ticks have arrived (or 2 s of TSC time passed).
            // A loaded host makes QEMU drop ticks it could not deliver in time, never add any,
            // so the TSC time those ticks took bounds the rate from above only.
            var ticks = new CountingHandler();
            ulong start = Cpu.ReadTimestampCounter();
            LocalApicTimer.StartPeriodic(1000000, ticks);
            long counted = ticks.WaitFor(30, 2000000000);
            ulong elapsedUs = Clock.TicksToNanoseconds(Cpu.ReadTimestampCounter() - start) / 1000;
            LocalApicTimer.Stop();
            // A tick latched just before Stop is still delivered; after a moment, none may follow.
            Clock.BusyDelayMicroseconds(1000);
            long stopped = ticks.Read();
            Clock.BusyDelayMicroseconds(5000);
            long afterStop = ticks.Read();

            if (counted < 30) return "fewer than 30 ticks of a 1 kHz periodic timer in 2 s";
            // 30 ticks at 1 kHz take 30 ms of TSC time; under 20 ms means the timer runs 1.5 times too fast.
            if (elapsedUs < 20000) return "30 ticks came in under 20 ms of TSC time: faster than 1 kHz";
            if (afterStop != stopped) return "ticks went on after Stop";
            return null;
        }
    }

    internal sealed class ApicTimerOneShotSelfTest : SelfTestCase
    {
        public override string Name => "time.apic-timer-one-shot";

        public override string? Run()
        {
            if (Timers.Pending != 0) return "timers pending: the APIC timer is not free for the test";
            var fired = new CountingHandler();
            ulong start = Cpu.ReadTimestampCounter();
            LocalApicTimer.StartOneShot(5000000, fired);
            long count = fired.WaitFor(1, 1000000000);
            ulong firedAfterUs = Clock.TicksToNanoseconds(Cpu.ReadTimestampCounter() - start) / 1000;
            Clock.BusyDelayMicroseconds(20000);   // four more periods: a one-shot must stay quiet
            long later = fired.Read();
            LocalApicTimer.Stop();
            if (count != 1) return "the one-shot timer did not fire within 1 s";
            if (later != 1) return "the one-shot timer fired more than once";
            // Calibration is not exact; half the delay is far outside its error.
            if (firedAfterUs < 2500) return "the 5 ms one-shot fired before 2.5 ms";
            return null;
        }
    }

    internal sealed class RecordingCallback : TimerCallback
    {
        public int Count;
        public ulong FirstAt;
        public int Order;
        public static int s_sequence;

        public override void OnTimer()
        {
            if (Count++ == 0) { FirstAt = Clock.MonotonicNanoseconds(); Order = ++s_sequence; }
        }
    }

    internal sealed class TimerCallbacksSelfTest : SelfTestCase
    {
        public override string Name => "time.timer-callbacks";

        public override string? Run()
        {
            if (!Timers.Running) return "timers not running";
            RecordingCallback.s_sequence = 0;
            var once = new RecordingCallback();
            var periodic = new RecordingCallback();
            var cancelled = new RecordingCallback();
            var late = new RecordingCallback();
            var early = new RecordingCallback();

            // All set up with interrupts off and with deadlines from one reading of the clock:
            // even if the virtual CPU stalls here past some deadlines, nothing fires before every
            // timer is queued, so the order is the deadlines' order.
            Cpu.DisableInterrupts();
            ulong now = Clock.MonotonicNanoseconds();
            ulong onceDeadline = now + 5000000;
            TimerHandle onceHandle = Timers.At(onceDeadline, once);
            TimerHandle periodicHandle = Timers.Every(2000000, periodic);
            Timers.At(now + 12000000, late);    // added first, due last
            Timers.At(now + 8000000, early);
            // Cancelled after its deadline passed but before its interrupt could run: it must never fire.
            TimerHandle cancelledHandle = Timers.After(1000000, cancelled);
            Clock.BusyDelayMicroseconds(2000);
            bool cancelledOk = Timers.Cancel(cancelledHandle);
            Cpu.EnableInterrupts();
            Timers.Sleep(30000000);
            // Three periods of 2 ms have long passed; on a loaded host the ticks may still be on their way.
            for (int waited = 0; periodic.Count < 3 && waited < 2000; waited++) Timers.Sleep(1000000);
            int periodicCount = periodic.Count;
            bool stoppedPeriodic = Timers.Cancel(periodicHandle);
            Timers.Sleep(10000000);

            if (!onceHandle.IsValid || !periodicHandle.IsValid) return "no timer handle";
            if (!cancelledOk || cancelled.Count != 0) return "a cancelled timer fired";
            if (once.Count != 1) return "the one-shot callback did not run exactly once";
            if (once.FirstAt < onceDeadline) return "a callback ran before its deadline";
            if (periodicCount < 3) return "the 2 ms periodic callback ran fewer than 3 times in 2 s";
            if (!stoppedPeriodic || periodic.Count != periodicCount) return "the periodic callback ran after Cancel";
            if (Timers.Cancel(onceHandle)) return "cancelling a fired one-shot timer succeeded";
            if (early.Count != 1 || late.Count != 1) return "a one-shot callback did not run exactly once";
            if (early.Order > late.Order) return "callbacks did not run in deadline order";
            if (Timers.Pending != 0) return "timers left pending";
            return null;
        }
    }

    internal sealed class SleepSelfTest : SelfTestCase
    {
        public override string Name => "time.sleep";

        public override string? Run()
        {
            if (!Cpu.InterruptsEnabled) return "interrupts are not enabled after boot";
            ulong timerInterrupts = Interrupts.Count(InterruptVectors.ApicTimer);
            ulong before = Clock.MonotonicNanoseconds();
            Timers.Sleep(10000000);
            ulong slept = Clock.MonotonicNanoseconds() - before;
            if (slept < 10000000) return "slept less than 10 ms";
            if (Interrupts.Count(InterruptVectors.ApicTimer) == timerInterrupts) return "no timer interrupt ended the sleep";
            if (!Cpu.InterruptsEnabled) return "interrupts not enabled after sleep";
            if (Timers.Pending != 0) return "the wake-up timer was left pending";

            Cpu.DisableInterrupts();
            Timers.Sleep(1000000);
            bool stayedOff = !Cpu.InterruptsEnabled;
            Cpu.EnableInterrupts();
            if (!stayedOff) return "sleep with interrupts off returned with them on";
            return null;
        }
    }
}
