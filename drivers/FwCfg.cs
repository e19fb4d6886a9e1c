// QEMU's firmware configuration device (docs/specs/fw_cfg.rst in QEMU):
// selector at I/O port 0x510 (16-bit), data at 0x511 (8-bit, auto-increment).
// Tessera reads `opt/tessera/cmdline` from it, so a command line can be given
// to an image booted from its ISO (where GRUB's command line is fixed):
//   qemu ... -fw_cfg name=opt/tessera/cmdline,string="selftest"
using Tessera.Core;

namespace Tessera.Drivers
{
    public static unsafe class FwCfg
    {
        private const ushort SelectorPort = 0x510, DataPort = 0x511;
        private const ushort SignatureKey = 0x0000, FileDirectoryKey = 0x0019;

        public static bool IsPresent()
        {
            Cpu.OutWord(SelectorPort, SignatureKey);
            return Cpu.InByte(DataPort) == (byte)'Q' && Cpu.InByte(DataPort) == (byte)'E'
                && Cpu.InByte(DataPort) == (byte)'M' && Cpu.InByte(DataPort) == (byte)'U';
        }

        private static uint ReadBigEndian32()
        {
            uint v = 0;
            for (int i = 0; i < 4; i++) v = (v << 8) | Cpu.InByte(DataPort);
            return v;
        }

        /// <summary>
        /// Copies the named file into destination; returns its length (possibly larger
        /// than what was copied) or -1 when there is no such file or no fw_cfg device.
        /// </summary>
        public static int ReadFile(string name, byte* destination, int capacity)
        {
            if (!IsPresent()) return -1;
            Cpu.OutWord(SelectorPort, FileDirectoryKey);
            uint count = ReadBigEndian32();
            if (count > 4096) return -1;
            byte* entryName = stackalloc byte[56];
            for (uint i = 0; i < count; i++)
            {
                uint size = ReadBigEndian32();
                ushort select = (ushort)((Cpu.InByte(DataPort) << 8) | Cpu.InByte(DataPort));
                Cpu.InByte(DataPort); Cpu.InByte(DataPort); // reserved
                for (int j = 0; j < 56; j++) entryName[j] = Cpu.InByte(DataPort);
                if (!NameEquals(entryName, name)) continue;
                Cpu.OutWord(SelectorPort, select);
                int n = size < (uint)capacity ? (int)size : capacity;
                for (int j = 0; j < n; j++) destination[j] = Cpu.InByte(DataPort);
                return (int)size;
            }
            return -1;
        }

        private static bool NameEquals(byte* entryName, string name)
        {
            if (name.Length >= 56) return false;
            for (int i = 0; i < name.Length; i++) if (entryName[i] != name[i]) return false;
            return entryName[name.Length] == 0;
        }
    }
}
