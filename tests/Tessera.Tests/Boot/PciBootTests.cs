using Tessera.Tools;
using Tessera.Tools.Qemu;
using Xunit;
using Xunit.Abstractions;

namespace Tessera.Tests.Boot;

/// <summary>
/// PCI with devices the default machine lacks: a PCI-to-PCI bridge with a virtio-rng
/// behind it (bus 1) and a virtio-blk on bus 0, both with MSI-X and 64-bit BARs. The
/// boot listing must show them, and `pci-expect-msix` makes the pci.msi-x self-test
/// fail unless it programmed and read back their MSI-X tables.
/// </summary>
public sealed class PciBootTests(ITestOutputHelper output)
{
    [Fact]
    public async Task DevicesBehindABridgeAreListedAndTheirMsiXTablesProgrammed()
    {
        string disk = Path.Combine(Path.GetTempPath(), $"tessera-pci-test-{Environment.ProcessId}.img");
        await using (var f = File.Create(disk)) f.SetLength(1 << 20);
        try
        {
            var options = new QemuOptions
            {
                Kind = "processor",
                Append = "selftest pci-expect-msix",
                ExtraArguments =
                [
                    "-device", "pci-bridge,id=bridge1,chassis_nr=1,addr=5",
                    "-device", "virtio-rng-pci,bus=bridge1,addr=3",
                    "-drive", $"if=none,id=disk0,format=raw,file={disk}",
                    "-device", "virtio-blk-pci,drive=disk0,addr=6",
                ],
            };
            var run = await Vm.RunToExitAsync(options, "pci-virtio-processor", output);
            BootTests.AssertSelfTestRun("processor", run);

            Assert.Contains(run.Lines, l => l.Contains("info: pci: 00:00.0 8086:1237 class 06/00/00 host bridge"));
            Assert.Contains(run.Lines, l => l.Contains("info: pci: 00:05.0 1b36:0001 class 06/04/00 PCI bridge") && l.Contains("buses 1-1"));
            Assert.Contains(run.Lines, l => l.Contains("info: pci: 01:03.0 1af4:1005 ") && l.Contains(", msi-x "));
            Assert.Contains(run.Lines, l => l.Contains("info: pci: 00:06.0 1af4:1001 class 01/00/00 SCSI storage, INTA line ") && l.Contains(", msi-x "));
            // virtio-pci: legacy I/O BAR 0, MSI-X in 32-bit memory BAR 1, modern registers in 64-bit BAR 4.
            int blk = run.Lines.FindIndex(l => l.Contains("info: pci: 00:06.0 1af4:1001"));
            string[] bars = run.Lines.Skip(blk + 1).TakeWhile(l => l.Contains("info: pci:   bar")).ToArray();
            Assert.Contains(bars, l => l.Contains("bar0 io    0x"));
            Assert.Contains(bars, l => l.Contains("bar1 mem32 0x") && l.EndsWith(" 4 KiB"));
            Assert.Contains(bars, l => l.Contains("bar4 mem64 0x") && l.EndsWith(" 16 KiB prefetchable"));
        }
        finally
        {
            File.Delete(disk);
        }
    }
}
