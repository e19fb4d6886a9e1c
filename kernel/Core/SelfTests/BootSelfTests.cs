// Self-tests of what the boot loader handed us, read back through the parser.
using Tessera.Core.Boot;

namespace Tessera.Core
{
    internal sealed class BootInfoSelfTest : SelfTestCase
    {
        public override string Name => "boot.information";

        public override unsafe string? Run()
        {
            BootInfo b = KernelMain.Boot;
            if (b.Protocol == BootProtocol.Unknown) return "no multiboot magic";
            if (b.RegionCount == 0) return "empty memory map";
            // The kernel must sit inside a usable region of the real map.
            ulong start = KernelLayout.PhysicalStart(), end = KernelLayout.PhysicalEnd();
            bool inside = false;
            for (int i = 0; i < b.RegionCount; i++)
                if (b.Regions[i].IsUsable && b.Regions[i].Base <= start && end <= b.Regions[i].End) inside = true;
            if (!inside) return "kernel not inside a usable region";
            for (int i = 1; i < b.RegionCount; i++)
                if (b.Regions[i].Base < b.Regions[i - 1].End) return "regions overlap after parsing";
            // The loader's basic memory figure (upper memory from 1 MiB) must match the map.
            if (b.HasBasicMemory)
            {
                ulong upper = 1024UL * 1024 + (ulong)b.MemoryUpperKiB * 1024;
                bool found = false;
                for (int i = 0; i < b.RegionCount; i++)
                    if (b.Regions[i].IsUsable && b.Regions[i].Base <= 1024 * 1024 && b.Regions[i].End == upper) found = true;
                if (!found) return "basic memory figure disagrees with the memory map";
            }
            if (!KernelMain.CommandLine.Has("selftest")) return "command line lost 'selftest'";
            return null;
        }
    }

    internal sealed class CommandLineSelfTest : SelfTestCase
    {
        public override string Name => "boot.command-line";

        public override string? Run()
        {
            byte[] text = { (byte)'a', (byte)' ', (byte)'e', (byte)'x', (byte)'=', (byte)'1', (byte)'6', (byte)'M' };
            var line = new CommandLine(text);
            if (!line.Has("a") || line.Has("e") || !line.Has("ex")) return "word matching wrong";
            if (!line.TryGetSize("ex", out ulong size) || size != 16UL << 20) return "size value wrong";
            return null;
        }
    }

    internal sealed class ClockSelfTest : SelfTestCase
    {
        public override string Name => "time.tsc";

        public override string? Run()
        {
            if (!Clock.Calibrated) return "TSC not calibrated against the PIT";
            if (Clock.TscHz < 10000000) return "TSC frequency implausibly low";
            ulong a = Clock.NanosecondsSinceReset();
            Clock.BusyDelayMicroseconds(1000);
            ulong b = Clock.NanosecondsSinceReset();
            if (b - a < 1000000) return "1 ms delay was shorter than 1 ms";
            return null;
        }
    }
}
