using System.Globalization;
using System.Text.RegularExpressions;
using Tessera.Tools;
using Tessera.Tools.Qemu;
using Xunit;
using Xunit.Abstractions;

namespace Tessera.Tests.Boot;

/// <summary>
/// `fault-test=<kind>` boots (kernel/Core/FaultTests.cs): the kernel raises one deliberate fault
/// with no handler for it and must print a report that names the fault, where it happened (the
/// reported rip is checked against the ELF's symbols) and what it touched, the registers and the
/// call trace, then exit 35.
/// </summary>
public sealed partial class FaultTests(ITestOutputHelper output)
{
    public static TheoryData<string, string> KindsAndFaults()
    {
        var data = new TheoryData<string, string>();
        foreach (var kind in Repo.Kinds)
            foreach (var fault in new[] { "pf", "gp", "de" })
                data.Add(kind, fault);
        return data;
    }

    [GeneratedRegex(@"^PANIC: (?<name>#\w+ [\w -]+) \(vector (?<vector>\d+)\) at rip 0x(?<rip>[0-9a-f]{16})$")]
    private static partial Regex Headline();

    [Theory]
    [MemberData(nameof(KindsAndFaults))]
    public async Task FaultIsReportedThenExits35(string kind, string fault)
    {
        var run = await Vm.RunToExitAsync(new QemuOptions { Kind = kind, Append = $"fault-test={fault}" }, $"fault-{fault}-{kind}", output);
        Assert.StartsWith($"tessera {kind} ", run.Lines[0]);
        Assert.Equal(QemuExit.Fail, run.ExitCode);

        var headline = run.Lines.Select(l => Headline().Match(l)).SingleOrDefault(m => m.Success);
        Assert.True(headline is not null, "no exception headline `PANIC: #XX name (vector N) at rip 0x...`");
        ulong rip = ulong.Parse(headline.Groups["rip"].Value, NumberStyles.HexNumber);
        string ripText = $"0x{rip:x16}";

        // The register dump is the interrupted state: its rip is the faulting instruction,
        // and the call trace starts there.
        var registers = string.Join("\n", run.Lines.SkipWhile(l => l != "registers:").TakeWhile(l => !l.StartsWith("call trace")));
        Assert.Contains($"rip={ripText}", registers);
        int trace = run.Lines.IndexOf("call trace (return addresses):");
        Assert.True(trace >= 0, "no call trace");
        Assert.Equal($"  #0 {ripText}", run.Lines[trace + 1]);
        Assert.Matches(@"^  #1 0x[0-9a-f]{16}$", run.Lines[trace + 2]);

        var symbols = ElfSymbols.Load(Repo.Elf(kind));
        string? function = symbols.Containing(rip)?.Name;
        ulong caller = ulong.Parse(run.Lines[trace + 2][7..], NumberStyles.HexNumber);
        string? callerFunction = symbols.Containing(caller)?.Name;

        switch (fault)
        {
            case "pf":
                Assert.Equal(("#PF page fault", "14"), (headline.Groups["name"].Value, headline.Groups["vector"].Value));
                Assert.Contains("  address 0x00007ffffffff000 (cr2): supervisor read of a not-present page", run.Lines);
                Assert.Contains("cr2=0x00007ffffffff000", registers);
                Assert.EndsWith("_Tessera_Core_FaultTests__PageFault", function);
                break;
            case "gp":
                Assert.Equal(("#GP general protection fault", "13"), (headline.Groups["name"].Value, headline.Groups["vector"].Value));
                Assert.Contains(run.Lines, l => l.StartsWith("  error code 0x0000: no selector involved"));
                Assert.Contains(run.Lines, l => l.EndsWith("fault-test: reading non-canonical address 0xdead000000000000"));
                // The non-canonical pointer is in the register the load used.
                Assert.Contains("=0xdead000000000000", registers);
                Assert.EndsWith("_Tessera_Core_FaultTests__GeneralProtection", function);
                break;
            case "de":
                Assert.Equal(("#DE divide error", "0"), (headline.Groups["name"].Value, headline.Groups["vector"].Value));
                Assert.Equal(symbols.AddressOf("probe_divide_instruction"), rip);
                Assert.Contains("rsi=0x0000000000000000", registers);      // the divisor
                Assert.Matches("_Tessera_Core_(FaultTests__DivideError|FaultProbe__TryDivide)$", callerFunction);
                break;
            default:
                throw new ArgumentException(fault);
        }
    }

    private static ulong Hex(string digits) => ulong.Parse(digits, NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    /// <summary>
    /// `fault-test=ro` writes to kernel text, which the kernel's page tables map read-only:
    /// a page fault whose address (CR2) is the written byte, inside the text range the kernel
    /// printed at boot.
    /// </summary>
    [Theory]
    [InlineData("processor")]
    [InlineData("memory")]
    [InlineData("storage")]
    public async Task WriteToReadOnlyKernelTextIsReportedAsAPageFault(string kind)
    {
        var run = await Vm.RunToExitAsync(new QemuOptions { Kind = kind, Append = "fault-test=ro" }, $"fault-ro-{kind}", output);

        var layout = run.Lines.Select(l => Regex.Match(l, @"info: paging: text 0x([0-9a-f]{16})-0x([0-9a-f]{16}) r-x")).Single(m => m.Success);
        ulong textStart = Hex(layout.Groups[1].Value), textLast = Hex(layout.Groups[2].Value);
        int announced = run.Lines.FindIndex(l => l.Contains("fault-test: ro: writing to read-only kernel text at 0x"));
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
