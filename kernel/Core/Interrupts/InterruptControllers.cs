// Brings up the interrupt hardware once the IDT is in place and the TSC is
// calibrated, then enables interrupts: the 8259 PICs remapped out of the
// exception vectors and masked, the local APIC, the I/O APIC with every pin
// masked (drivers route their own lines), the APIC timer measured against the
// TSC and handed to Timers.
using Tessera.Drivers;

namespace Tessera.Core
{
    public static class InterruptControllers
    {
        public static void Initialize()
        {
            // The PICs first: until remapped, a stray IRQ would arrive on an exception vector.
            Pic8259.RemapAndMask(InterruptVectors.LegacyPicBase, InterruptVectors.LegacyPicBase + 8);
            LocalApic.Initialize();
            bool ioApic = IoApic.Initialize(IoApic.DefaultBase);
            LocalApicTimer.Calibrate();
            Timers.Initialize();
            Cpu.EnableInterrupts();

            if (Log.Begin(LogLevel.Info))
            {
                Console.Write("interrupts: local APIC ");
                Console.WriteDecimal((ulong)LocalApic.ApicId);
                Console.Write(" at ");
                Console.WriteHex(LocalApic.PhysicalBase, 8);
                Console.Write(" version ");
                Console.WriteHex(LocalApic.VersionNumber, 2);
                if (ioApic)
                {
                    Console.Write(", I/O APIC at ");
                    Console.WriteHex(IoApic.PhysicalBase, 8);
                    Console.Write(" with ");
                    Console.WriteDecimal((ulong)IoApic.PinCount);
                    Console.Write(" pins");
                }
                else Console.Write(", no I/O APIC");
                Console.WriteLine(", 8259 PICs masked");
            }
            if (!LocalApicTimer.Calibrated) Log.Warn("time: the APIC timer could not be calibrated; no timer callbacks, sleep busy-waits");
            else if (Log.Begin(LogLevel.Info))
            {
                Console.Write("time: APIC timer ");
                Console.WriteDecimal(LocalApicTimer.FrequencyHz / 1000);
                Console.WriteLine(" kHz (calibrated against the TSC), one-shot, callbacks and sleep on it");
            }
        }
    }
}
