// The local APIC timer (Intel SDM Vol. 3A §11.5.4 "APIC Timer"): a 32-bit
// counter that counts down from the initial-count register at the bus or core
// crystal clock divided by the divide-configuration register, and raises its
// LVT vector at zero. One-shot mode stops there; periodic mode reloads the
// initial count and goes on. Its frequency is not architectural (and under
// QEMU unrelated to any real bus), so it is measured against the calibrated TSC.
//
// The timer has one owner at a time: whoever started it last gets the ticks
// (Timers, in normal operation).
using Tessera.Core;

namespace Tessera.Drivers
{
    public static unsafe class LocalApicTimer
    {
        private const uint DivideBy16 = 0b0011;          // divide configuration, SDM Figure 11-10
        private const uint ModePeriodic = 1u << 17;      // LVT timer bits 18:17: 00 one-shot, 01 periodic
        private const uint MaxCount = 0xFFFFFFFF;

        private static InterruptHandler? s_onTick;

        /// <summary>Timer counts per second (after the divide-by-16), measured by Calibrate.</summary>
        public static ulong FrequencyHz { get; private set; }
        public static bool Calibrated => FrequencyHz != 0;

        /// <summary>
        /// Measures the counting rate over 10 ms of TSC time. Each APIC register access is
        /// bracketed by TSC reads, and an attempt whose bracket is wide (the virtual CPU was
        /// descheduled right there, which under TCG on a busy host happens) is discarded: the
        /// counter would have run for time the TSC window did not include. Of the first three
        /// good attempts, the median counts.
        /// </summary>
        public static void Calibrate()
        {
            Interrupts.RegisterHandler(InterruptVectors.ApicTimer, new TickForwarder());
            LocalApic.Write(LocalApic.TimerDivide, DivideBy16);
            LocalApic.Write(LocalApic.LvtTimer, LocalApic.LvtMasked | InterruptVectors.ApicTimer);
            ulong window = Clock.TscHz / 100;
            ulong tolerance = window / 200;                      // 50 us of a 10 ms window: 0.5 %
            ulong* good = stackalloc ulong[3];
            int count = 0;
            for (int attempt = 0; attempt < 20 && count < 3; attempt++)
            {
                ulong t0 = Cpu.ReadTimestampCounter();
                LocalApic.Write(LocalApic.TimerInitialCount, MaxCount);
                ulong t1 = Cpu.ReadTimestampCounter();
                while (Cpu.ReadTimestampCounter() - t1 < window) Cpu.Pause();
                ulong t2 = Cpu.ReadTimestampCounter();
                uint remaining = LocalApic.Read(LocalApic.TimerCurrentCount);
                ulong t3 = Cpu.ReadTimestampCounter();
                if (t1 - t0 > tolerance || t3 - t2 > tolerance || remaining == 0) continue;
                ulong elapsedNs = Clock.TicksToNanoseconds((t2 + t3) / 2 - (t0 + t1) / 2);
                if (elapsedNs == 0) continue;
                ulong hz = (MaxCount - remaining) * 1000000000UL / elapsedNs;
                int at = count++;
                while (at > 0 && good[at - 1] > hz) { good[at] = good[at - 1]; at--; }
                good[at] = hz;
            }
            LocalApic.Write(LocalApic.TimerInitialCount, 0);
            FrequencyHz = count == 0 ? 0 : good[count / 2];
        }

        /// <summary>Interrupts every periodNs until Stop or the next Start, each delivered to onTick.</summary>
        public static void StartPeriodic(ulong periodNs, InterruptHandler onTick) => Start(periodNs, ModePeriodic, onTick);

        /// <summary>Interrupts once, delayNs from now (rounded up to the next count), delivered to onTick.</summary>
        public static void StartOneShot(ulong delayNs, InterruptHandler onTick) => Start(delayNs, 0, onTick);

        public static void Stop()
        {
            if (!LocalApic.Initialized) return;
            LocalApic.Write(LocalApic.LvtTimer, LocalApic.LvtMasked | InterruptVectors.ApicTimer);
            LocalApic.Write(LocalApic.TimerInitialCount, 0);
        }

        /// <summary>The longest delay one count-down can express.</summary>
        public static ulong MaximumDelayNs => FrequencyHz == 0 ? 0 : MaxCount * 1000000000UL / FrequencyHz;

        private static void Start(ulong ns, uint mode, InterruptHandler onTick)
        {
            if (!Calibrated) Panic.Halt("APIC timer used before calibration");
            ulong flags = Cpu.SaveFlagsAndDisableInterrupts();
            s_onTick = onTick;
            // The LVT first: writing the initial count is what starts the count-down.
            LocalApic.Write(LocalApic.LvtTimer, mode | InterruptVectors.ApicTimer);
            LocalApic.Write(LocalApic.TimerInitialCount, CountsFor(ns));
            Cpu.RestoreInterrupts(flags);
        }

        private static uint CountsFor(ulong ns)
        {
            if (ns >= MaximumDelayNs) return MaxCount;
            // ns < MaximumDelayNs keeps both products below 2^64 for any plausible frequency.
            ulong counts = ns / 1000000000UL * FrequencyHz + (ns % 1000000000UL * FrequencyHz + 999999999UL) / 1000000000UL;
            return counts == 0 ? 1 : counts > MaxCount ? MaxCount : (uint)counts;
        }

        private sealed class TickForwarder : InterruptHandler
        {
            public override void Handle(InterruptFrame* frame)
            {
                InterruptHandler? target = s_onTick;
                if (target is not null) target.Handle(frame);
            }
        }
    }
}
