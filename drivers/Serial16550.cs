// 16550 UART on COM1 (I/O port 0x3F8), the kernel console.
// Register map: PC16550D datasheet, "Register Summary": THR/RBR at +0, IER +1,
// FCR +2, LCR +3, MCR +4, LSR +5. DLAB (LCR bit 7) swaps +0/+1 for the divisor.
using Tessera.Core;

namespace Tessera.Drivers
{
    public static class Serial16550
    {
        private const ushort Com1 = 0x3F8;
        private const byte LineStatusTransmitEmpty = 1 << 5;
        private static bool s_present;

        public static void Initialize()
        {
            Cpu.OutByte(Com1 + 1, 0x00);    // no interrupts: the console polls
            Cpu.OutByte(Com1 + 3, 0x80);    // DLAB on
            Cpu.OutByte(Com1 + 0, 0x01);    // divisor 1 = 115200 baud
            Cpu.OutByte(Com1 + 1, 0x00);
            Cpu.OutByte(Com1 + 3, 0x03);    // 8 data bits, no parity, 1 stop bit, DLAB off
            Cpu.OutByte(Com1 + 2, 0xC7);    // FIFOs on and cleared, 14-byte threshold
            Cpu.OutByte(Com1 + 4, 0x03);    // DTR, RTS
            // A UART that reads back 0xFF for its line status is absent (floating bus).
            s_present = Cpu.InByte(Com1 + 5) != 0xFF;
        }

        public static void Write(byte b)
        {
            if (!s_present) return;
            // Bounded wait: a stuck UART must not hang the kernel.
            for (int spins = 0; spins < 100000 && (Cpu.InByte(Com1 + 5) & LineStatusTransmitEmpty) == 0; spins++)
                Cpu.Pause();
            Cpu.OutByte(Com1, b);
        }
    }
}
