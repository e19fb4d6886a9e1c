// QEMU's isa-debug-exit device (-device isa-debug-exit,iobase=0xf4,iosize=0x04):
// writing V to the port ends QEMU with exit status (V << 1) | 1.
// DESIGN §4: 0x10 -> 33 (pass), 0x11 -> 35 (fail or panic).
using Tessera.Core;

namespace Tessera.Drivers
{
    public static class QemuDebugExit
    {
        private const ushort Port = 0xF4;
        public const byte Success = 0x10;
        public const byte Failure = 0x11;

        public static void Exit(byte code)
        {
            Cpu.OutDword(Port, code);
            // Without the device (e.g. on real hardware) the write does nothing: stop here.
            Cpu.HaltForever();
        }
    }
}
