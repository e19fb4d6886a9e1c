// Intel 8254 programmable interval timer, used once at boot as a known clock
// (1.193182 MHz) to measure the TSC frequency. Channel 2 is used because its
// gate is software-controlled (port 0x61 bit 0) and it drives no interrupt;
// its counter is read back with the counter-latch command (8254 datasheet,
// mode 0).
// Channel 0 drives ISA IRQ 0; the kernel does not need it for time (the APIC
// timer does that), but it is a known interrupt source for testing the I/O APIC.
using Tessera.Core;

namespace Tessera.Drivers
{
    public static class Pit8254
    {
        public const uint FrequencyHz = 1193182;
        private const ushort Channel0 = 0x40, Channel2 = 0x42, Command = 0x43, SpeakerControl = 0x61;

        /// <summary>Starts a one-shot countdown of the given PIT ticks on channel 2.</summary>
        public static void StartOneShot(ushort ticks)
        {
            byte control = Cpu.InByte(SpeakerControl);
            control = (byte)((control & ~0x02) | 0x01);      // speaker off, gate on
            Cpu.OutByte(SpeakerControl, (byte)(control & ~0x01)); // gate low: hold the counter
            Cpu.OutByte(Command, 0xB0);                      // channel 2, lo/hi byte, mode 0, binary
            Cpu.OutByte(Channel2, (byte)ticks);
            Cpu.OutByte(Channel2, (byte)(ticks >> 8));
            Cpu.OutByte(SpeakerControl, control);            // gate high: count starts
        }

        /// <summary>
        /// The current value of channel 2's down-counter: a counter-latch command freezes a copy,
        /// then two reads return its low and high byte (8254 datasheet, "Counter Latch Command").
        /// </summary>
        public static ushort ReadChannel2()
        {
            Cpu.OutByte(Command, 0x80);                      // latch channel 2
            byte low = Cpu.InByte(Channel2);
            byte high = Cpu.InByte(Channel2);
            return (ushort)(low | high << 8);
        }

        /// <summary>Channel 0 in mode 2 (rate generator): an IRQ 0 pulse every divisor PIT ticks.</summary>
        public static void StartChannel0Periodic(ushort divisor)
        {
            Cpu.OutByte(Command, 0x34);                      // channel 0, lo/hi byte, mode 2, binary
            Cpu.OutByte(Channel0, (byte)divisor);
            Cpu.OutByte(Channel0, (byte)(divisor >> 8));
        }

        /// <summary>Stops channel 0: a new control word in mode 0 holds the counter until a count is written.</summary>
        public static void StopChannel0() => Cpu.OutByte(Command, 0x30);
    }
}
