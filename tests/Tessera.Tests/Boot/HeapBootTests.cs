using Tessera.Tools;
using Tessera.Tools.Qemu;
using Xunit;
using Xunit.Abstractions;

namespace Tessera.Tests.Boot;

/// <summary>
/// The kernel heap at boot: its summary line, the self-tests with poisoning on
/// (`heap_debug`), and the panics that name a double free, a write after free and
/// exhaustion (`heap-test=...`, kernel/Core/Memory/HeapFaultTest.cs).
/// </summary>
public sealed class HeapBootTests(ITestOutputHelper output)
{
    [Fact]
    public async Task SelfTestsPassWithHeapPoisoning()
    {
        var run = await Vm.RunToExitAsync(new QemuOptions { Kind = "processor", Append = "selftest heap_debug" },
            "selftest-heap-debug-processor", output);
        BootTests.AssertSelfTestRun("processor", run);
        Assert.Contains(run.Lines, l => l.Contains("info: heap: ") && l.EndsWith(", poisoning on"));
    }

    [Fact]
    public async Task TheHeapSummaryIsPrintedAtBoot()
    {
        var run = await Vm.RunToExitAsync(new QemuOptions { Kind = "memory", Append = "selftest" }, "heap-summary-memory", output);
        string line = Assert.Single(run.Lines, l => l.Contains("info: heap: "));
        Assert.Matches(@"info: heap: \d+ (B|KiB|MiB) in use \(peak \d+ (B|KiB|MiB)\) in \d+ blocks, \d+ allocations, \d+ frees, \d+ of \d+ boot-region pages, poisoning off$", line);
    }

    [Theory]
    [InlineData("double-free", "PANIC: kernel heap: double free")]
    [InlineData("use-after-free", "PANIC: kernel heap: use after free (a freed block was written)")]
    [InlineData("exhaust", "PANIC: kernel heap exhausted")]
    public async Task HeapFaultsEndInAPanicNamingThem(string test, string panic)
    {
        var run = await Vm.RunToExitAsync(new QemuOptions { Kind = "processor", Append = $"heap-test={test}" }, $"heap-{test}-processor", output);
        Assert.Contains(run.Lines, l => l.Contains($"heap-test: "));
        Assert.Contains(panic, run.Lines);
        Assert.Contains("call trace (return addresses):", run.Lines);
        Assert.DoesNotContain(run.Lines, l => l.Contains("the heap did not stop the kernel"));
        Assert.Equal(QemuExit.Fail, run.ExitCode);
    }
}
