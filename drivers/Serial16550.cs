// 16550 UARTs on the PC's legacy ports: COM1 (0x3F8) is the kernel console; the processor
// uses COM2 (0x2F8) and COM3 (0x3E8) for its programs' standard output and error.
// Register map: PC16550D datasheet, "Register Summary": THR/RBR at +0, IER +1,
// FCR +2, LCR +3, MCR +4, LSR +5. DLAB (LCR bit 7) swaps +0/+1 for the divisor.
// QEMU's pc machine gives the n-th -serial option the n-th of COM1-COM4; a port with no
// -serial behind it floats (reads 0xFF) and is treated as absent: writes to it are dropped.
using Tessera.Core;

namespace Tessera.Drivers
{
    public static class Serial16550
    {
        public const ushort Com1 = 0x3F8;
        public const ushort Com2 = 0x2F8;
        public const ushort Com3 = 0x3E8;
        public const ushort Com4 = 0x2E8;
        private const byte LineStatusTransmitEmpty = 1 << 5;
        // One bit per COM port, in the image's plain data: COM1 is set up before the runtime's statics exist.
        private static byte s_present;

        /// <summary>The kernel console, COM1.</summary>
        public static void Initialize() => Initialize(Com1);

        /// <summary>Programs the UART at port for 115200 8N1, polled; true when one is there.</summary>
        public static bool Initialize(ushort port)
        {
            int bit = BitOf(port);
            if (bit < 0) return false;
            Cpu.OutByte((ushort)(port + 1), 0x00);    // no interrupts: output is polled
            Cpu.OutByte((ushort)(port + 3), 0x80);    // DLAB on
            Cpu.OutByte((ushort)(port + 0), 0x01);    // divisor 1 = 115200 baud
            Cpu.OutByte((ushort)(port + 1), 0x00);
            Cpu.OutByte((ushort)(port + 3), 0x03);    // 8 data bits, no parity, 1 stop bit, DLAB off
            Cpu.OutByte((ushort)(port + 2), 0xC7);    // FIFOs on and cleared, 14-byte threshold
            Cpu.OutByte((ushort)(port + 4), 0x03);    // DTR, RTS
            // A UART that reads back 0xFF for its line status is absent (floating bus).
            bool present = Cpu.InByte((ushort)(port + 5)) != 0xFF;
            if (present) s_present |= (byte)(1 << bit);
            else s_present &= (byte)~(1 << bit);
            return present;
        }

        public static bool IsPresent(ushort port)
        {
            int bit = BitOf(port);
            return bit >= 0 && (s_present & (1 << bit)) != 0;
        }

        /// <summary>A byte to the console (COM1).</summary>
        public static void Write(byte b) => Write(Com1, b);

        public static void Write(ushort port, byte b)
        {
            if (!IsPresent(port)) return;
            // Bounded wait: a stuck UART must not hang the kernel.
            for (int spins = 0; spins < 100000 && (Cpu.InByte((ushort)(port + 5)) & LineStatusTransmitEmpty) == 0; spins++)
                Cpu.Pause();
            Cpu.OutByte(port, b);
        }

        private static int BitOf(ushort port) => port switch { Com1 => 0, Com2 => 1, Com3 => 2, Com4 => 3, _ => -1 };
    }
}
