using Tessera.Tools;
using Tessera.Tools.Qemu;
using Xunit;
using Xunit.Abstractions;

namespace Tessera.Tests.Boot;

/// <summary>
/// The "done when": every ELF passes its self-tests under -m 64M and -m 2G, with
/// -cpu qemu64 (no SSE4, no POPCNT: catches ILC emitting newer instructions) and -cpu max.
/// The same matrix through the GRUB ISO runs with --full.
/// </summary>
public sealed class BootMatrixTests(ITestOutputHelper output)
{
    public static TheoryData<string, string, string> Matrix()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var kind in Repo.Kinds)
            foreach (var memory in new[] { "64M", "2G" })
                foreach (var cpu in new[] { "qemu64", "max" })
                    data.Add(kind, memory, cpu);
        return data;
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task KernelPassesSelfTests(string kind, string memory, string cpu)
    {
        var run = await Vm.RunToExitAsync(new QemuOptions { Kind = kind, Append = "selftest", Memory = memory, Cpu = cpu },
            $"matrix-{kind}-{memory}-{cpu}", output);
        BootTests.AssertSelfTestRun(kind, run);
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    [Trait("Category", "Full")]
    public async Task IsoPassesSelfTests(string kind, string memory, string cpu)
    {
        var run = await Vm.RunToExitAsync(new QemuOptions { Kind = kind, Iso = true, Append = "selftest", Memory = memory, Cpu = cpu },
            $"matrix-iso-{kind}-{memory}-{cpu}", output);
        BootTests.AssertSelfTestRun(kind, run);
    }
}
