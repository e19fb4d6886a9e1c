using Tessera.Tools.Qemu;
using Xunit;
using Xunit.Abstractions;

namespace Tessera.Tests.Boot;

/// <summary>
/// The memory self-tests beyond the default machine: 2 GiB and more than 4 GiB of RAM (the
/// direct map and the frame allocator above the PCI hole), on qemu64 (no 1 GiB pages) and on
/// `-cpu max` (1 GiB pages), through -kernel and through GRUB.
/// </summary>
public sealed class MemoryBootTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("2G", "qemu64", false)]
    [InlineData("2G", "max", false)]
    [InlineData("2G", "max", true)]
    [InlineData("5G", "qemu64", false)]
    [InlineData("5G", "max", true)]
    public async Task SelfTestsPassWithMoreMemoryAndOtherCpus(string memory, string cpu, bool iso)
    {
        var run = await Vm.RunToExitAsync(new QemuOptions { Kind = "processor", Memory = memory, Cpu = cpu, Iso = iso, Append = "selftest" },
            $"selftest-processor-{memory}-{cpu}-{(iso ? "iso" : "kernel")}", output);
        BootTests.AssertSelfTestRun("processor", run);
        string paging = run.Lines.Single(l => l.Contains("info: paging: "));
        Assert.Contains(cpu == "max" ? "(1 GiB pages" : "(2 MiB pages)", paging);
        // The direct map reaches the end of RAM: past 4 GiB with 5G (QEMU puts 3 GiB below the hole).
        Assert.Contains(memory == "5G" ? "-0xffff80017fffffff" : "-0xffff8000ffffffff", paging);
        Assert.Contains(run.Lines, l => l.Contains("info: frames: ") && l.Contains(" free (") && l.Contains(" reserved ("));
    }
}
