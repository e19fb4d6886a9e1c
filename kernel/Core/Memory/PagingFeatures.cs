// What the CPU's paging can do, from CPUID (Intel SDM Vol. 2A, CPUID; Vol. 3A §4.1.4).
namespace Tessera.Core.Memory
{
    public static unsafe class PagingFeatures
    {
        private const uint Efer = 0xC0000080;
        private const ulong EferNoExecuteEnable = 1UL << 11;

        /// <summary>Execute-disable: CPUID.80000001H:EDX[20], and boot/entry.asm set EFER.NXE.</summary>
        public static bool NoExecute;
        /// <summary>1 GiB pages: CPUID.80000001H:EDX[26] (Page1GB). QEMU's qemu64 lacks it; -cpu max has it.</summary>
        public static bool HugePages;
        /// <summary>Global pages (CR4.PGE): CPUID.01H:EDX[13].</summary>
        public static bool GlobalPages;
        /// <summary>MAXPHYADDR: CPUID.80000008H:EAX[7:0]; 36 when the leaf is missing.</summary>
        public static int PhysicalAddressBits = 36;

        public static void Detect()
        {
            uint* r = stackalloc uint[4];
            Cpu.CpuId(1, 0, r);
            GlobalPages = (r[3] & (1u << 13)) != 0;
            Cpu.CpuId(0x80000000, 0, r);
            uint maxExtended = r[0];
            if (maxExtended >= 0x80000001)
            {
                Cpu.CpuId(0x80000001, 0, r);
                NoExecute = (r[3] & (1u << 20)) != 0 && (Cpu.ReadMsr(Efer) & EferNoExecuteEnable) != 0;
                HugePages = (r[3] & (1u << 26)) != 0;
            }
            if (maxExtended >= 0x80000008)
            {
                Cpu.CpuId(0x80000008, 0, r);
                int bits = (int)(r[0] & 0xFF);
                if (bits >= 32 && bits <= 52) PhysicalAddressBits = bits;
            }
        }
    }
}
