// How Tessera uses the 256 interrupt vectors, and the names of the 32 that the
// architecture reserves for exceptions (Intel SDM Vol. 3A §6.3.1, Table 6-1).
namespace Tessera.Core
{
    public static class InterruptVectors
    {
        public const int ExceptionCount = 32;

        // Exceptions the kernel itself refers to.
        public const int DivideError = 0;
        public const int Nmi = 2;
        public const int Breakpoint = 3;
        public const int DoubleFault = 8;
        public const int GeneralProtection = 13;
        public const int PageFault = 14;
        public const int MachineCheck = 18;

        /// <summary>0x20-0x2F: the legacy 8259 PICs, remapped here and masked; only their spurious IRQ 7/15 can arrive.</summary>
        public const int LegacyPicBase = 0x20;
        /// <summary>0x30-0x3F: ISA IRQ n through the I/O APIC arrives as IsaIrqBase + n.</summary>
        public const int IsaIrqBase = 0x30;
        /// <summary>0x40-0xDF: handed out by Interrupts.AllocateVector (PCI MSI/MSI-X, PCI INTx).</summary>
        public const int DynamicFirst = 0x40;
        public const int DynamicLast = 0xDF;
        /// <summary>The local APIC timer (highest priority class below the APIC's own vectors).</summary>
        public const int ApicTimer = 0xF0;
        /// <summary>Local APIC internal errors (LVT error entry).</summary>
        public const int ApicError = 0xFE;
        /// <summary>The local APIC's spurious vector: bits 0-3 set, as the P6 family requires (SDM Vol. 3A §11.9).</summary>
        public const int ApicSpurious = 0xFF;

        private static readonly string[] s_mnemonics =
        {
            "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
            "#DF", "#CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "#15",
            "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "#22", "#23",
            "#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
        };

        private static readonly string[] s_names =
        {
            "divide error", "debug exception", "non-maskable interrupt", "breakpoint",
            "overflow", "BOUND range exceeded", "invalid opcode", "device not available",
            "double fault", "coprocessor segment overrun", "invalid TSS", "segment not present",
            "stack-segment fault", "general protection fault", "page fault", "reserved exception",
            "x87 floating-point error", "alignment check", "machine check", "SIMD floating-point exception",
            "virtualization exception", "control protection exception", "reserved exception", "reserved exception",
            "reserved exception", "reserved exception", "reserved exception", "reserved exception",
            "hypervisor injection exception", "VMM communication exception", "security exception", "reserved exception",
        };

        /// <summary>The SDM's short name, e.g. "#PF"; null above 31.</summary>
        public static string? Mnemonic(int vector) => vector >= 0 && vector < ExceptionCount ? s_mnemonics[vector] : null;

        /// <summary>The exception's name, e.g. "page fault"; null above 31.</summary>
        public static string? Name(int vector) => vector >= 0 && vector < ExceptionCount ? s_names[vector] : null;

        /// <summary>True for the exceptions whose error code names a segment selector or IDT entry (SDM Vol. 3A §6.13).</summary>
        public static bool HasSelectorErrorCode(int vector) =>
            vector == 10 || vector == 11 || vector == 12 || vector == GeneralProtection;
    }
}
