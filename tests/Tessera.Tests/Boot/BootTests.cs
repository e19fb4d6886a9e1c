using Tessera.Tools;
using Tessera.Tools.Qemu;
using Xunit;
using Xunit.Abstractions;

namespace Tessera.Tests.Boot;

/// <summary>
/// Boots every image with `selftest` — the ELF through QEMU's -kernel and the ISO through
/// GRUB — and checks the banner, every self-test line and the exit code (DESIGN §6).
/// Images come from `./build.sh build` (./build.sh test builds them first).
/// </summary>
public sealed class BootTests(ITestOutputHelper output)
{
    // Every self-test each image must report, in order. Adding a self-test means adding it here.
    public static readonly string[] CoreSelfTests =
    [
        "runtime.allocation", "runtime.strings", "runtime.statics", "runtime.virtual-calls",
        "runtime.interface-calls", "runtime.interface-dispatch", "runtime.generic-interface-dispatch",
        "runtime.casts", "runtime.spans",
        "boot.information", "boot.command-line", "time.tsc",
        "interrupts.breakpoint-handler", "interrupts.divide-error-handler", "interrupts.page-fault-handler",
        "interrupts.nmi-on-its-own-stack", "interrupts.self-ipi", "interrupts.ioapic-pit", "interrupts.spinlock",
        "time.monotonic", "time.apic-timer-periodic", "time.apic-timer-one-shot", "time.timer-callbacks", "time.sleep",
        "memory.frames", "memory.kernel-layout", "memory.direct-map", "memory.address-space", "memory.kernel-stacks",
        "pci.enumeration", "pci.bars", "pci.msi-x", "rpc.loopback",
        "heap.reuse", "heap.large-blocks", "heap.free-objects", "heap.poisoning",
    ];

    public static readonly Dictionary<string, string[]> ComponentSelfTests = new()
    {
        ["processor"] = ["excache.logic"],
        ["memory"] = ["memory.vma-set", "memory.elf-image", "memory.initial-stack"],
        ["storage"] = ["storage.ext2"],
    };

    // The storage image's disk self-tests: only with `blk-selftest` and a scratch disk attached
    // (VirtioBlkTests), after the component's own. A read-only disk swaps the writing tests
    // for blk.read-only.
    public static readonly string[] BlkSelfTests =
    [
        "blk.device", "blk.identify", "blk.host-pattern",
        "blk.first-middle-last", "blk.flush", "blk.in-flight", "blk.large-transfer",
        "blk.out-of-range", "blk.unsupported-request",
    ];

    public static readonly string[] BlkReadOnlySelfTests =
    [
        "blk.device", "blk.identify", "blk.host-pattern", "blk.read-only",
        "blk.out-of-range", "blk.unsupported-request",
    ];

    public static TheoryData<string, bool> KindsAndBootPaths()
    {
        var data = new TheoryData<string, bool>();
        foreach (var kind in Repo.Kinds) { data.Add(kind, false); data.Add(kind, true); }
        return data;
    }

    [Theory]
    [MemberData(nameof(KindsAndBootPaths))]
    public async Task SelfTestsPass(string kind, bool iso)
    {
        var run = await Vm.RunToExitAsync(new QemuOptions { Kind = kind, Iso = iso, Append = "selftest" },
            $"selftest-{kind}-{(iso ? "iso" : "kernel")}", output);
        AssertSelfTestRun(kind, run);
    }

    /// <summary>Checks a self-test run: the core's and the component's tests, then extraTests (e.g. BlkSelfTests), all ok, exit 33.</summary>
    internal static void AssertSelfTestRun(string kind, Vm.Result run, string[]? extraTests = null)
    {
        Assert.True(run.Lines.Count > 0, "no serial output at all");
        Assert.StartsWith($"tessera {kind} ", run.Lines[0]);
        Assert.Matches(@"^tessera \w+ \d+\.\d+\.\d+ build [0-9a-f]{12}$", run.Lines[0]);
        Assert.Contains(run.Lines, l => l.Contains("info: memory: ") && l.Contains(" usable, "));
        Assert.Contains(run.Lines, l => l.Contains("info: cmdline: ") && l.Contains("selftest"));

        string[] expected = [.. CoreSelfTests, .. ComponentSelfTests[kind], .. extraTests ?? []];
        var reported = run.Lines.Where(l => l.StartsWith("selftest: ") && l.Contains(" ... ")).ToList();
        Assert.Equal(expected, reported.Select(l => l["selftest: ".Length..l.IndexOf(" ... ")]).ToArray());
        Assert.All(reported, l => Assert.EndsWith(" ... ok", l));
        Assert.Contains($"selftest: {expected.Length} passed, 0 failed", run.Lines);
        Assert.Equal(QemuExit.Pass, run.ExitCode);
    }

    [Theory]
    [InlineData("processor")]
    [InlineData("memory")]
    [InlineData("storage")]
    public async Task PanicTestPrintsReasonRegistersAndTraceThenExits35(string kind)
    {
        var run = await Vm.RunToExitAsync(new QemuOptions { Kind = kind, Append = "panic-test" }, $"panic-{kind}", output);
        Assert.StartsWith($"tessera {kind} ", run.Lines[0]);
        Assert.Contains("PANIC: panic-test requested on the command line", run.Lines);
        Assert.Contains(run.Lines, l => l.Contains("rip=0x"));
        Assert.Contains(run.Lines, l => l.Contains("cr3=0x"));
        int trace = run.Lines.IndexOf("call trace (return addresses):");
        Assert.True(trace >= 0, "no call trace");
        Assert.Matches(@"^  #0 0x[0-9a-f]{16}$", run.Lines[trace + 1]);
        Assert.Equal(QemuExit.Fail, run.ExitCode);
    }

    [Fact]
    public async Task WithoutSelftestTheKernelIdles()
    {
        await using var vm = Vm.Create(new QemuOptions { Kind = "processor" }, "idle-processor", output);
        vm.Start();
        string? idle = await vm.WaitForLineAsync(l => l.EndsWith("info: idle"), Vm.BootTimeout);
        Assert.NotNull(idle);
        Assert.StartsWith("tessera processor ", vm.Lines[0]);
        Assert.DoesNotContain(vm.Lines, l => l.StartsWith("selftest:"));
    }
}
