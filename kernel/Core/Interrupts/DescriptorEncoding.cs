// Bit layouts of x86-64 descriptors. Pure logic, host-tested
// (tests/Tessera.Tests/Host/DescriptorEncodingTests.cs).
namespace Tessera.Core
{
    public static class DescriptorEncoding
    {
        // Segment descriptor bits (Intel SDM Vol. 3A §3.4.5, Figure 3-8).
        private const ulong Accessed = 1UL << 40, ReadWrite = 1UL << 41, Executable = 1UL << 43;
        private const ulong CodeOrData = 1UL << 44, Present = 1UL << 47, LongMode = 1UL << 53;

        /// <summary>A 64-bit code segment (L=1; base and limit are ignored in 64-bit mode, SDM §3.4.5).</summary>
        public static ulong CodeSegment64(int privilegeLevel) =>
            Accessed | ReadWrite | Executable | CodeOrData | Present | LongMode | ((ulong)(privilegeLevel & 3) << 45);

        /// <summary>A writable data segment (used for SS and the data registers).</summary>
        public static ulong DataSegment(int privilegeLevel) =>
            Accessed | ReadWrite | CodeOrData | Present | ((ulong)(privilegeLevel & 3) << 45);

        /// <summary>
        /// The 16-byte system descriptor of an available 64-bit TSS (type 9), SDM Vol. 3A
        /// "TSS Descriptor in 64-bit mode" (Figure 8-4 / 9-4 depending on the edition).
        /// </summary>
        public static void TssDescriptor(ulong tssBase, uint limit, out ulong low, out ulong high)
        {
            low = (limit & 0xFFFFUL)
                | ((tssBase & 0xFFFFFFUL) << 16)
                | (0x9UL << 40)                         // type: 64-bit TSS, available
                | Present
                | (((ulong)limit >> 16 & 0xF) << 48)
                | ((tssBase >> 24 & 0xFF) << 56);
            high = tssBase >> 32;
        }

        /// <summary>
        /// A 16-byte IDT gate (SDM Vol. 3A §6.14.1, Figure 6-8): handler offset split over
        /// three fields, code selector, IST index (0 = stay on the current stack), type
        /// 0xE = interrupt gate (clears IF) or 0xF = trap gate, DPL, present.
        /// </summary>
        public static void Gate(ulong handler, ushort selector, int ist, bool trap, int privilegeLevel, out ulong low, out ulong high)
        {
            low = (handler & 0xFFFF)
                | ((ulong)selector << 16)
                | ((ulong)(ist & 7) << 32)
                | ((trap ? 0xFUL : 0xEUL) << 40)
                | ((ulong)(privilegeLevel & 3) << 45)
                | Present
                | ((handler >> 16 & 0xFFFF) << 48);
            high = handler >> 32;
        }
    }
}
