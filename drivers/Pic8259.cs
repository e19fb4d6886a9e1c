// The two cascaded Intel 8259A programmable interrupt controllers of the PC.
// Tessera routes device interrupts through the I/O APIC, so the 8259s are only
// taken out of the way: reprogrammed so their vectors (BIOS default 0x08-0x0F,
// on top of the CPU exceptions) move to 0x20-0x2F, then fully masked. A masked
// 8259 can still raise a spurious IRQ 7 or 15 (the request went away before
// the acknowledge); those arrive at 0x27/0x2F and are told apart from real
// ones by the in-service register (8259A datasheet, "Interrupt Sequence" and
// OCW3; ICW1-ICW4 under "Initialization Command Words").
using Tessera.Core;

namespace Tessera.Drivers
{
    public static class Pic8259
    {
        private const ushort MasterCommand = 0x20, MasterData = 0x21, SlaveCommand = 0xA0, SlaveData = 0xA1;
        private const byte Icw1InitWithIcw4 = 0x11;     // ICW1: init, cascade mode, edge triggered, ICW4 follows
        private const byte Icw4Mode8086 = 0x01;
        private const byte Ocw3ReadInService = 0x0B;
        private const byte EndOfInterruptCommand = 0x20; // OCW2: non-specific EOI

        public static void RemapAndMask(byte masterBase, byte slaveBase)
        {
            Cpu.OutByte(MasterCommand, Icw1InitWithIcw4); Wait();
            Cpu.OutByte(SlaveCommand, Icw1InitWithIcw4); Wait();
            Cpu.OutByte(MasterData, masterBase); Wait();        // ICW2: vector base
            Cpu.OutByte(SlaveData, slaveBase); Wait();
            Cpu.OutByte(MasterData, 1 << 2); Wait();            // ICW3: slave on master's IR2
            Cpu.OutByte(SlaveData, 2); Wait();                  // ICW3: slave's cascade identity
            Cpu.OutByte(MasterData, Icw4Mode8086); Wait();
            Cpu.OutByte(SlaveData, Icw4Mode8086); Wait();
            Cpu.OutByte(MasterData, 0xFF);                      // OCW1: mask every line
            Cpu.OutByte(SlaveData, 0xFF);
        }

        /// <summary>
        /// For an interrupt that arrived on the 8259's vector for irq: true (and the EOI sent) when
        /// the 8259 really has it in service, false when it was spurious. A spurious IRQ 15 still
        /// needs an EOI at the master, which did see the cascade line.
        /// </summary>
        public static bool AcknowledgeIfGenuine(int irq)
        {
            ushort command = irq >= 8 ? SlaveCommand : MasterCommand;
            Cpu.OutByte(command, Ocw3ReadInService);
            bool inService = (Cpu.InByte(command) & (1 << (irq & 7))) != 0;
            if (inService)
            {
                if (irq >= 8) Cpu.OutByte(SlaveCommand, EndOfInterruptCommand);
                Cpu.OutByte(MasterCommand, EndOfInterruptCommand);
            }
            else if (irq >= 8)
            {
                Cpu.OutByte(MasterCommand, EndOfInterruptCommand);
            }
            return inService;
        }

        // Old 8259s need a moment between initialization words; a write to the
        // unused POST port 0x80 takes about a microsecond.
        private static void Wait() => Cpu.OutByte(0x80, 0);
    }
}
