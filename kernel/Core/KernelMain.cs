// kmain: where boot/entry.asm hands over to C#, the same for every component.
// Order matters: serial first (so anything can be reported), then the runtime's
// static bases, then the banner — the first line every image prints.
using System.Runtime;
using Internal.Runtime.CompilerHelpers;
using Tessera.Core.Boot;
using Tessera.Core.Memory;
using Tessera.Drivers;
using Tessera.Drivers.Pci;

namespace Tessera.Core
{
    public static unsafe class KernelMain
    {
        public static BootInfo Boot = null!;
        public static CommandLine CommandLine = null!;
        public static uint BootMagic;

        [RuntimeExport("kmain")]
        public static void Main(uint magic, uint infoAddress)
        {
            Serial16550.Initialize();
            StartupCodeHelpers.InitializeModules(KernelLayout.ModulesStart(), KernelLayout.ModulesEnd());
            BootMagic = magic;

            // Banner: `tessera <kind> <version> build <id>`.
            Console.Write("tessera ");
            Console.Write(Component.Kind);
            Console.Write(' ');
            Console.Write(BuildInfo.Version);
            Console.Write(" build ");
            Console.WriteLine(BuildInfo.Id);

            // GDT with TSS, IDT: from here on a fault is reported, not a triple fault.
            Interrupts.Initialize();
            Clock.Calibrate();
            Boot = BootInfoParser.Parse(magic, infoAddress, new DirectMapMemory());
            CommandLine = new CommandLine(CommandLine.Join(Boot.CommandLine, ReadFwCfgCommandLine()));
            // Physical memory, then the kernel's own page tables (the boot identity map goes away).
            PhysicalFrames.Initialize(Boot);
            KernelAddressSpace.Initialize(Boot);
            Memory.KernelHeap.Configure(CommandLine);
            PrintBootSummary();
            PhysicalFrames.PrintAccounting();
            KernelAddressSpace.PrintLayout();
            Memory.KernelHeap.PrintSummary();
            // Local APIC, I/O APIC, APIC timer (needs the calibrated TSC and the direct map); interrupts on.
            InterruptControllers.Initialize();
            Pci.Initialize();

            FaultTests.Run(CommandLine);
            if (CommandLine.Has("panic-test")) Panic.Halt("panic-test requested on the command line");
            if (CommandLine.Has("exception-test")) ExceptionBootTest.Throw();
            Memory.HeapFaultTest.Run(CommandLine);

            if (CommandLine.Has("selftest"))
            {
                CoreSelfTests.RunAll();
                Component.RunSelfTests();
                SelfTest.Finish();
            }

            Component.Run();
            Log.Info("idle");
            Cpu.HaltForever();
        }

        private static byte[] ReadFwCfgCommandLine()
        {
            byte* buffer = stackalloc byte[1024];
            int length = FwCfg.ReadFile("opt/tessera/cmdline", buffer, 1024);
            if (length <= 0) return new byte[0];
            if (length > 1024) length = 1024;
            byte[] text = new byte[length];
            for (int i = 0; i < length; i++) text[i] = buffer[i] == 0 ? (byte)' ' : buffer[i];
            return text;
        }

        private static void PrintBootSummary()
        {
            BootInfo b = Boot;
            if (Log.Begin(LogLevel.Info))
            {
                Console.Write("memory: ");
                Console.WriteSize(b.UsableBytes);
                Console.Write(" usable, ");
                Console.WriteSize(b.ReservedBytes);
                Console.Write(" reserved, ");
                Console.WriteDecimal((ulong)b.RegionCount);
                Console.Write(" regions, via ");
                Console.WriteLine(b.Protocol == BootProtocol.Multiboot2 ? "multiboot2" : b.Protocol == BootProtocol.Multiboot1 ? "multiboot1" : "unknown loader");
            }
            for (int i = 0; i < b.RegionCount; i++)
            {
                if (!Log.Begin(LogLevel.Info)) break;
                Console.Write("  ");
                Console.WriteHex(b.Regions[i].Base);
                Console.Write("-");
                Console.WriteHex(b.Regions[i].End - 1);
                Console.Write(' ');
                Console.WriteLine(RegionTypeName(b.Regions[i].Type));
            }
            for (int i = 0; i < b.ProblemCount; i++)
            {
                if (!Log.Begin(LogLevel.Warn)) break;
                Console.Write("boot information problem ");
                Console.WriteDecimal((ulong)b.Problems[i].Kind);
                Console.Write(" at ");
                Console.WriteHex(b.Problems[i].Where);
                Console.WriteLine();
            }
            if (Log.Begin(LogLevel.Info))
            {
                Console.Write("cmdline: ");
                Console.WriteAscii(CommandLine.Text);
                Console.WriteLine();
            }
            if (Log.Begin(LogLevel.Info))
            {
                Console.Write("tsc: ");
                Console.WriteDecimal(Clock.TscHz / 1000000);
                Console.Write(Clock.Calibrated ? " MHz (calibrated against the PIT)" : " MHz (assumed; no PIT)");
                Console.Write(", kernel at physical ");
                Console.WriteHex(KernelLayout.PhysicalStart(), 8);
                Console.Write("-");
                Console.WriteHex(KernelLayout.PhysicalEnd(), 8);
                Console.WriteLine();
            }
        }

        private static string RegionTypeName(MemoryRegionType t) =>
            t == MemoryRegionType.Usable ? "usable" : t == MemoryRegionType.AcpiReclaimable ? "acpi-reclaimable"
            : t == MemoryRegionType.AcpiNvs ? "acpi-nvs" : t == MemoryRegionType.Defective ? "defective" : "reserved";
    }
}
