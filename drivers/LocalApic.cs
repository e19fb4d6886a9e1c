// The local APIC in xAPIC mode: registers in a 4 KiB page of device memory at
// the base in the IA32_APIC_BASE MSR (Intel SDM Vol. 3A §11.4.4 "Local APIC
// Status and Location", register map in Table 11-1). The kernel uses it for
// end-of-interrupt, the spurious vector, its timer (LocalApicTimer) and
// interprocessor interrupts to itself.
using Tessera.Core;

namespace Tessera.Drivers
{
    public static unsafe class LocalApic
    {
        private const uint ApicBaseMsr = 0x1B;
        private const ulong BaseEnable = 1UL << 11, BaseX2Apic = 1UL << 10, BaseAddressMask = 0x000F_FFFF_FFFF_F000UL;

        internal const uint Id = 0x20, Version = 0x30, TaskPriority = 0x80, Eoi = 0xB0, SpuriousVector = 0xF0;
        internal const uint InService = 0x100, ErrorStatus = 0x280, CommandLow = 0x300, CommandHigh = 0x310;
        internal const uint LvtTimer = 0x320, LvtThermal = 0x330, LvtPerformance = 0x340;
        internal const uint LvtLint0 = 0x350, LvtLint1 = 0x360, LvtError = 0x370;
        internal const uint TimerInitialCount = 0x380, TimerCurrentCount = 0x390, TimerDivide = 0x3E0;

        internal const uint LvtMasked = 1u << 16;
        private const uint DeliveryNmi = 0b100u << 8;
        private const uint SoftwareEnable = 1u << 8;
        private const uint IcrDeliveryPending = 1u << 12, IcrAssert = 1u << 14, IcrShorthandSelf = 0b01u << 18;

        private static MmioRegion? s_registers;

        public static bool Initialized => s_registers is not null;
        public static ulong PhysicalBase { get; private set; }
        public static uint ApicId => Read(Id) >> 24;
        public static uint VersionNumber => Read(Version) & 0xFF;
        public static ulong ErrorCount;

        public static void Initialize()
        {
            uint* cpuid = stackalloc uint[4];
            Cpu.CpuId(1, 0, cpuid);
            if ((cpuid[3] & (1u << 9)) == 0) Panic.Halt("this CPU has no local APIC (CPUID.1:EDX.APIC)");

            // Firmware may have switched to x2APIC (MSR access, no MMIO). Going back to xAPIC
            // takes a pass through "disabled" (SDM Vol. 3A §11.12.5, state transitions).
            ulong msr = Cpu.ReadMsr(ApicBaseMsr);
            if ((msr & BaseX2Apic) != 0) Cpu.WriteMsr(ApicBaseMsr, msr & ~(BaseX2Apic | BaseEnable));
            PhysicalBase = msr & BaseAddressMask;
            Cpu.WriteMsr(ApicBaseMsr, (msr & ~BaseX2Apic) | BaseEnable);
            s_registers = Mmio.Map(PhysicalBase, 0x1000);

            uint maxLvt = (Read(Version) >> 16) & 0xFF;
            Write(TaskPriority, 0);                              // accept every priority class
            Write(LvtTimer, LvtMasked | InterruptVectors.ApicTimer);
            Write(LvtLint0, LvtMasked);                          // ExtINT from the 8259s: masked, not used
            Write(LvtLint1, DeliveryNmi);                        // the PC's NMI line (MP spec "virtual wire")
            if (maxLvt >= 4) Write(LvtPerformance, LvtMasked);
            if (maxLvt >= 5) Write(LvtThermal, LvtMasked);
            Write(LvtError, InterruptVectors.ApicError);
            // The ESR latches errors until written; back-to-back writes clear it (SDM §11.5.3).
            Write(ErrorStatus, 0);
            Write(ErrorStatus, 0);
            Interrupts.RegisterHandler(InterruptVectors.ApicError, new ErrorHandler());
            Write(SpuriousVector, SoftwareEnable | InterruptVectors.ApicSpurious);
            EndOfInterrupt();                                    // drop anything the firmware left in service
        }

        public static void EndOfInterrupt()
        {
            if (s_registers is not null) s_registers.Write32(Eoi, 0);
        }

        /// <summary>True while vector is in service (delivered, no EOI yet): the in-service register, SDM §11.8.4.</summary>
        public static bool IsInService(int vector) => (Read(InService + 0x10 * (uint)((vector & 0xFF) >> 5)) & (1u << (vector & 31))) != 0;

        /// <summary>Raises vector on this CPU (a fixed self-IPI, SDM §11.6.1).</summary>
        public static void SendToSelf(int vector) => SendCommand(0, IcrShorthandSelf | IcrAssert | (uint)(vector & 0xFF));

        /// <summary>Sends an NMI to this CPU. The "self" shorthand allows only fixed delivery, so it names our own APIC ID.</summary>
        public static void SendNmiToSelf() => SendCommand(ApicId << 24, DeliveryNmi | IcrAssert);

        private static void SendCommand(uint high, uint low)
        {
            ulong flags = Cpu.SaveFlagsAndDisableInterrupts();
            Write(CommandHigh, high);
            Write(CommandLow, low);                              // writing the low half sends it
            for (int spins = 0; spins < 1000000 && (Read(CommandLow) & IcrDeliveryPending) != 0; spins++) Cpu.Pause();
            Cpu.RestoreInterrupts(flags);
        }

        internal static uint Read(uint register)
        {
            if (s_registers is null) Panic.Halt("local APIC used before LocalApic.Initialize");
            return s_registers!.Read32(register);
        }

        internal static void Write(uint register, uint value)
        {
            if (s_registers is null) Panic.Halt("local APIC used before LocalApic.Initialize");
            s_registers!.Write32(register, value);
        }

        // LVT error entry: an illegal vector, a send or receive error (SDM §11.5.3). Counted and logged.
        private sealed class ErrorHandler : InterruptHandler
        {
            public override void Handle(InterruptFrame* frame)
            {
                Write(ErrorStatus, 0);                           // latch the current errors into the register
                uint errors = Read(ErrorStatus);
                ErrorCount++;
                if (Log.Begin(LogLevel.Warn))
                {
                    Console.Write("local APIC error, status ");
                    Console.WriteHex(errors, 2);
                    Console.WriteLine();
                }
            }
        }
    }
}
