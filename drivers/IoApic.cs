// The I/O APIC: turns device interrupt lines (ISA IRQs, PCI INTx) into
// interrupt messages to a local APIC. Two registers in device memory, an index
// (IOREGSEL, +0x00) and a data window (IOWIN, +0x10); behind them the ID
// (0x00), the version with the number of pins (0x01), and one 64-bit
// redirection entry per pin at 0x10 + 2 * pin (Intel 82093AA I/O APIC
// datasheet §3.2, "IOREDTBL").
//
// The address and the ISA-to-pin mapping should come from the ACPI MADT; until
// the kernel reads ACPI tables it uses the PC-compatible defaults: the I/O APIC
// at 0xFEC00000, ISA IRQ n on pin n except the timer, IRQ 0, on pin 2 (the
// interrupt source override every PC chipset and QEMU's MADT declare).
using Tessera.Core;

namespace Tessera.Drivers
{
    public static class IoApic
    {
        public const ulong DefaultBase = 0xFEC00000;

        private const uint RegisterSelect = 0x00, Window = 0x10;
        private const uint IdRegister = 0x00, VersionRegister = 0x01, RedirectionBase = 0x10;
        private const ulong Masked = 1UL << 16, LevelTriggered = 1UL << 15, ActiveLow = 1UL << 13;

        private static MmioRegion? s_registers;
        private static readonly SpinLock s_lock = new SpinLock("I/O APIC");

        public static bool Present => s_registers is not null;
        public static ulong PhysicalBase { get; private set; }
        public static int PinCount { get; private set; }
        public static uint VersionNumber { get; private set; }

        /// <summary>Finds the I/O APIC at physical and masks every pin. False when nothing answers there.</summary>
        public static bool Initialize(ulong physical)
        {
            var registers = Mmio.Map(physical, 0x20);
            registers.Write32(RegisterSelect, VersionRegister);
            uint version = registers.Read32(Window);
            if (version == 0xFFFFFFFF || version == 0) return false;  // open bus
            s_registers = registers;
            PhysicalBase = physical;
            VersionNumber = version & 0xFF;
            PinCount = (int)((version >> 16) & 0xFF) + 1;
            for (int pin = 0; pin < PinCount; pin++) WriteEntry(pin, Masked);
            return true;
        }

        /// <summary>The I/O APIC pin ISA IRQ irq is wired to (PC default; see the file comment).</summary>
        public static int PinOfIsaIrq(int irq) => irq == 0 ? 2 : irq;

        /// <summary>Routes ISA IRQ irq (edge-triggered, active high) to this CPU as InterruptVectors.IsaIrqBase + irq.</summary>
        public static void RouteIsaIrq(int irq) =>
            Route(PinOfIsaIrq(irq), InterruptVectors.IsaIrqBase + irq, LocalApic.ApicId, levelTriggered: false, activeLow: false);

        /// <summary>
        /// Delivers pin as vector (fixed delivery, physical destination APIC ID) and unmasks it.
        /// PCI INTx lines are level-triggered and active low; ISA lines edge-triggered, active high.
        /// </summary>
        public static void Route(int pin, int vector, uint destinationApicId, bool levelTriggered, bool activeLow)
        {
            if (vector < InterruptVectors.ExceptionCount || vector > 0xFE) Panic.Halt("IoApic.Route: bad vector");
            ulong entry = (ulong)(vector & 0xFF)
                | (levelTriggered ? LevelTriggered : 0)
                | (activeLow ? ActiveLow : 0)
                | ((ulong)(destinationApicId & 0xFF) << 56);
            WriteEntry(pin, entry);
        }

        public static void Mask(int pin) => WriteEntry(pin, ReadEntry(pin) | Masked);

        public static ulong ReadEntry(int pin)
        {
            CheckPin(pin);
            InterruptState state = s_lock.Acquire();
            ulong low = Read(RedirectionBase + 2 * (uint)pin);
            ulong high = Read(RedirectionBase + 2 * (uint)pin + 1);
            s_lock.Release(state);
            return low | high << 32;
        }

        private static void WriteEntry(int pin, ulong entry)
        {
            CheckPin(pin);
            InterruptState state = s_lock.Acquire();
            // Mask first, then the destination, then the low half with the real mask bit,
            // so the pin never fires half-programmed.
            Write(RedirectionBase + 2 * (uint)pin, (uint)Masked);
            Write(RedirectionBase + 2 * (uint)pin + 1, (uint)(entry >> 32));
            Write(RedirectionBase + 2 * (uint)pin, (uint)entry);
            s_lock.Release(state);
        }

        private static void CheckPin(int pin)
        {
            if (s_registers is null) Panic.Halt("I/O APIC used before IoApic.Initialize");
            if (pin < 0 || pin >= PinCount) Panic.Halt("I/O APIC pin out of range");
        }

        private static uint Read(uint register)
        {
            s_registers!.Write32(RegisterSelect, register);
            return s_registers.Read32(Window);
        }

        private static void Write(uint register, uint value)
        {
            s_registers!.Write32(RegisterSelect, register);
            s_registers.Write32(Window, value);
        }
    }
}
