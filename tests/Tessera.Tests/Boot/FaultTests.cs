using System.Globalization;
using System.Text.RegularExpressions;
using Tessera.Tools;
using Tessera.Tools.Qemu;
using Xunit;
using Xunit.Abstractions;

namespace Tessera.Tests.Boot;

/// <summary>
/// Deliberate faults from the command line (kernel/Core/FaultTests.cs): each must end in a
/// readable report that names the fault and its address, and exit code 35.
/// </summary>
public sealed class FaultTests(ITestOutputHelper output)
{
    private static ulong Hex(string digits) => ulong.Parse(digits, NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    /// <summary>
    /// `fault-test=ro` writes to kernel text, which the kernel's page tables map read-only:
    /// a page fault whose address (CR2) is the written byte, inside the text range the kernel
    /// printed at boot. Needs the IDT's exception report (interrupts branch): without an IDT
    /// the fault escalates to a triple fault and QEMU exits 0.
    /// </summary>
    [Theory]
    [Trait("Category", "NeedsIdt")]
    [InlineData("processor")]
    [InlineData("memory")]
    [InlineData("storage")]
    public async Task WriteToReadOnlyKernelTextIsReportedAsAPageFault(string kind)
    {
        var run = await Vm.RunToExitAsync(new QemuOptions { Kind = kind, Append = "fault-test=ro" }, $"fault-ro-{kind}", output);

        var layout = run.Lines.Select(l => Regex.Match(l, @"info: paging: text 0x([0-9a-f]{16})-0x([0-9a-f]{16}) r-x")).Single(m => m.Success);
        ulong textStart = Hex(layout.Groups[1].Value), textLast = Hex(layout.Groups[2].Value);
        int announced = run.Lines.FindIndex(l => l.StartsWith("fault-test: ro: writing to read-only kernel text at 0x"));
        Assert.True(announced >= 0, "the fault test did not start");
        ulong target = Hex(run.Lines[announced][^16..]);
        Assert.InRange(target, textStart, textLast);

        var report = run.Lines.Skip(announced + 1).ToList();
        Assert.Contains(report, l => l.Contains("page fault", StringComparison.OrdinalIgnoreCase));
        // The faulting address appears in the report (as CR2 or as the named address).
        var numbers = report.SelectMany(l => Regex.Matches(l, @"0x([0-9a-fA-F]{1,16})\b").Select(m => Hex(m.Groups[1].Value)));
        Assert.Contains(target, numbers);
        Assert.DoesNotContain(report, l => l.Contains("did not fault"));
        Assert.Equal(QemuExit.Fail, run.ExitCode);
    }
}
