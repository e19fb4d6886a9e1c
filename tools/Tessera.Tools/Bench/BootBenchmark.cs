using System.Globalization;
using CliWrap;
using CliWrap.Buffered;
using Spectre.Console;
using Tessera.Tools.Qemu;

namespace Tessera.Tools.Bench;

/// <summary>
/// `./build.sh bench boot` (issue 2, item 8): wall time from starting QEMU to the first line
/// of each Tessera image, booted with -kernel and from its ISO, against two baselines measured
/// in the same run (DESIGN §6, §7):
///  - the floor: an image that exits QEMU at its first instruction (tools/bench/floor.asm),
///    booted the same two ways, i.e. the cost of QEMU, SeaBIOS and the loader alone;
///  - Linux 6.1 from Debian in the same QEMU, to the line its one-program initramfs prints:
///    the stock bzImage with a plain command line, and the PVH vmlinux with a tuned one.
/// Targets: each Tessera image within 1.3× of the floor of its boot path, and at most 1/5 of
/// the time tuned Linux takes to reach /init.
/// </summary>
public static class BootBenchmark
{
    private const string FloorKernel = "floor, -kernel";
    private const string FloorIso = "floor, ISO";
    private const string LinuxStock = "Linux bzImage, stock";
    private const string LinuxTuned = "Linux PVH vmlinux, tuned";

    private const double FloorTarget = 1.3;        // "within 1.3× of the floor"
    private const double LinuxTarget = 1.0 / 5;    // "at most 1/5 of the time tuned Linux takes"

    // DESIGN §7 measured its Linux baselines with these; every configuration gets the same.
    private const string GuestMemory = "256M";

    private static readonly TimeSpan FloorTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan TesseraTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan LinuxTimeout = TimeSpan.FromSeconds(120);   // stock takes 5-10 s under load

    /// <summary>One thing to boot and how to tell it has arrived: a serial line, or (Until is null) QEMU's exit with 33.</summary>
    private sealed record Configuration(BenchRow Row, string Slug, QemuOptions Options, Func<string, bool>? Until, TimeSpan Timeout);

    public static async Task<int> RunAsync(int runs)
    {
        if (runs < 1) return Verbs.Fail("--runs must be at least 1");
        string outDir = Repo.Path("out", "bench");
        string logDir = Path.Combine(outDir, "logs", "boot");
        if (Directory.Exists(logDir)) Directory.Delete(logDir, true);
        Directory.CreateDirectory(logDir);

        AnsiConsole.MarkupLine("[bold]bench boot[/]: preparing the floor image and the Linux guest");
        var floor = await FloorImage.BuildAsync();
        var linux = await LinuxGuest.PrepareAsync();

        var report = new BenchReport
        {
            Name = "boot",
            Title = "Boot to first line under QEMU (TCG)",
            Metric = "Wall time from starting QEMU to the image's first serial line (the floor: to QEMU's exit)",
        };
        var configurations = Configure(report, floor, linux);
        await DescribeMachineAsync(report, linux);

        // One warm-up round first, not recorded: it brings QEMU, the firmware and the images into
        // the page cache and JIT-compiles this program's own path, which would otherwise land on
        // whichever configuration runs first. A configuration that fails it is not measured.
        AnsiConsole.MarkupLineInterpolated($"[bold]warm-up[/] ({configurations.Count} configurations)");
        var measured = new List<Configuration>();
        foreach (var c in configurations)
        {
            var (_, failure) = await MeasureAsync(c, logDir, "warmup");
            if (failure is null) { measured.Add(c); continue; }
            c.Row.Failures = runs;
            AnsiConsole.MarkupLineInterpolated($"  [red]{c.Row.Name}: {failure}[/] (not measured; log in {Path.GetRelativePath(Repo.Root, logDir)})");
            report.Notes.Add($"{c.Row.Name} was not measured: its warm-up run failed ({failure}).");
        }

        // Rounds interleave the configurations, each round starting one further along, so slow
        // phases of a shared machine spread over all of them rather than hitting one.
        for (int round = 0; round < runs; round++)
        {
            var line = new List<string>();
            for (int k = 0; k < measured.Count; k++)
            {
                var c = measured[(round + k) % measured.Count];
                var (seconds, failure) = await MeasureAsync(c, logDir, $"round{round + 1}");
                if (failure is null)
                {
                    c.Row.Samples.Add(seconds);
                    line.Add($"{c.Slug} {seconds:0.000}");
                }
                else
                {
                    c.Row.Failures++;
                    line.Add($"{c.Slug} FAILED");
                    AnsiConsole.MarkupLineInterpolated($"  [yellow]{c.Row.Name}, round {round + 1}: {failure}[/]");
                }
            }
            AnsiConsole.MarkupLineInterpolated($"[grey]round {round + 1}/{runs}: {string.Join(" · ", line)}[/]");
        }

        report.Machine.Add(new("load average after", LoadAverage()));
        report.Notes.Add($"{runs} measured run{(runs == 1 ? "" : "s")} per configuration after one warm-up run, configurations interleaved across rounds.");
        var written = report.WriteAll(outDir);
        AnsiConsole.Write(report.ToConsoleTable());
        AnsiConsole.MarkupLineInterpolated($"wrote {Path.GetRelativePath(Repo.Root, written.Json)}, {Path.GetRelativePath(Repo.Root, written.Markdown)}, {Path.GetRelativePath(Repo.Root, written.Png)}");
        AnsiConsole.MarkupLine(report.AllTargetsMet
            ? "[green]every Tessera image meets its targets[/]"
            : "[yellow]not every target is met[/] (✗ in the table)");

        return report.Rows.Any(r => r.Samples.Count == 0) ? Verbs.Fail("a configuration has no successful run") : 0;
    }

    private static List<Configuration> Configure(BenchReport report, FloorImage floor, LinuxGuest linux)
    {
        var list = new List<Configuration>();
        Configuration Add(BenchRow row, string slug, QemuOptions options, Func<string, bool>? until, TimeSpan timeout)
        {
            var c = new Configuration(report.Add(row), slug, options with { Memory = GuestMemory }, until, timeout);
            list.Add(c);
            return c;
        }

        // The floors against tuned Linux too (no target): how much of the 1/5 budget the boot path
        // alone uses up, which no kernel can win back.
        Add(new BenchRow
        {
            Name = FloorKernel, IsBaseline = true, Comparisons = [new Comparison("vs tuned Linux", LinuxTuned)],
            Description = $"{Rel(floor.ElfPath)} (tools/bench/floor.asm) with -kernel; time to QEMU's exit (status 33)",
        }, "floor-kernel", new QemuOptions { Kind = "floor", ElfOverride = floor.ElfPath }, null, FloorTimeout);
        Add(new BenchRow
        {
            Name = FloorIso, IsBaseline = true, Comparisons = [new Comparison("vs tuned Linux", LinuxTuned)],
            Description = $"{Rel(floor.IsoPath)}: the same image through GRUB, made like a Tessera ISO; time to QEMU's exit (status 33)",
        }, "floor-iso", new QemuOptions { Kind = "floor", Iso = true, IsoOverride = floor.IsoPath }, null, FloorTimeout);

        foreach (string kind in Repo.Kinds)
        {
            // The banner is the first line kmain prints: `tessera <kind> <version> build <id>`.
            string prefix = $"tessera {kind} ";
            Func<string, bool> banner = l => l.StartsWith(prefix, StringComparison.Ordinal);
            foreach (bool iso in new[] { false, true })
            {
                string floorRow = iso ? FloorIso : FloorKernel;
                Add(new BenchRow
                {
                    Name = iso ? $"{kind}, ISO" : $"{kind}, -kernel",
                    Description = iso ? $"iso/tessera-{kind}.iso through GRUB (multiboot2); time to the banner line"
                                      : $"iso/tessera-{kind}.elf with -kernel (multiboot1); time to the banner line",
                    Comparisons =
                    [
                        new Comparison("vs floor", floorRow, AtMost: FloorTarget),
                        new Comparison("vs tuned Linux", LinuxTuned, AtMost: LinuxTarget),
                    ],
                }, iso ? $"{kind}-iso" : $"{kind}-kernel", new QemuOptions { Kind = kind, Iso = iso }, banner, TesseraTimeout);
            }
        }

        Func<string, bool> initLine = l => l.Contains(LinuxGuest.InitLine, StringComparison.Ordinal);
        Add(new BenchRow
        {
            Name = LinuxStock, IsBaseline = true,
            Description = $"{linux.Package} {linux.Version} bzImage with -kernel -initrd, `{LinuxGuest.StockCommandLine}`; time to /init's line",
            Comparisons = [new Comparison("vs floor", FloorKernel)],
        }, "linux-stock", new QemuOptions
        {
            Kind = "linux", ElfOverride = linux.BzImagePath, Initrd = linux.InitramfsPath, Append = LinuxGuest.StockCommandLine,
        }, initLine, LinuxTimeout);
        Add(new BenchRow
        {
            Name = LinuxTuned, IsBaseline = true,
            Description = $"the same kernel's vmlinux (XZ payload of the bzImage) at its PVH entry with -kernel -initrd, `{LinuxGuest.TunedCommandLine}`; time to /init's line",
            Comparisons = [new Comparison("vs floor", FloorKernel)],
        }, "linux-pvh", new QemuOptions
        {
            Kind = "linux", ElfOverride = linux.VmlinuxPath, Initrd = linux.InitramfsPath, Append = LinuxGuest.TunedCommandLine,
        }, initLine, LinuxTimeout);
        return list;
    }

    /// <summary>
    /// Boots one configuration once. The clock is QemuVm.SinceStart, started right before the
    /// QEMU process; it is read when the awaited line comes through QEMU's stdout pipe (the
    /// serial port) or when the process is reaped. The VM is ended by PID when disposed.
    /// </summary>
    private static async Task<(double Seconds, string? Failure)> MeasureAsync(Configuration c, string logDir, string run)
    {
        string log = Path.Combine(logDir, $"{c.Slug}.{run}.log");
        string? failure = null;
        double seconds = double.NaN;
        await using (var vm = new QemuVm(c.Options, log))
        {
            vm.Start();
            if (c.Until is null)
            {
                int code = await vm.WaitForExitAsync(c.Timeout);
                if (code == QemuExit.Pass && vm.ExitedAt is TimeSpan exited) seconds = exited.TotalSeconds;
                else failure = $"ended with {QemuExit.Describe(code)}, expected 33";
            }
            else
            {
                var line = await vm.WaitForTimedLineAsync(c.Until, c.Timeout);
                if (line is TimedLine l) seconds = l.At.TotalSeconds;
                else failure = vm.ExitedAt is TimeSpan exited
                    ? $"QEMU exited after {exited.TotalSeconds:0.0} s without the expected line"
                    : $"no expected line within {c.Timeout.TotalSeconds:0} s";
            }
        }
        // Keep the logs of failed runs only; a good run's log says nothing the table does not.
        if (failure is null) File.Delete(log);
        return (seconds, failure);
    }

    private static async Task DescribeMachineAsync(BenchReport report, LinuxGuest linux)
    {
        string cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        var qemu = await Cli.Wrap(HostTools.Require("qemu-system-x86_64")).WithArguments(["--version"])
            .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync();
        string qemuVersion = qemu.StandardOutput.Split('\n')[0].Replace("QEMU emulator version ", "").Trim();
        report.Machine.Add(new("CPU", cpu));
        report.Machine.Add(new("nproc", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture)));
        report.Machine.Add(new("QEMU", qemuVersion + ", TCG"));
        report.Machine.Add(new("host kernel", File.ReadAllText("/proc/sys/kernel/osrelease").Trim()));
        report.Machine.Add(new("Linux guest", $"{linux.Package} {linux.Version}"));
        report.Machine.Add(new("load average before", LoadAverage()));

        var sample = new QemuOptions { Kind = "processor", Memory = GuestMemory }.ToArguments();
        int kernelAt = sample.IndexOf("-kernel");
        string common = string.Join(' ', kernelAt >= 0 ? sample.Take(kernelAt) : sample);
        report.Notes.Add($"Every configuration runs `qemu-system-x86_64 {common}` plus its -kernel/-initrd/-append or -cdrom; no KVM (TCG).");
        report.Notes.Add("The clock starts right before the QEMU process is started and stops when the line arrives on QEMU's stdout (the serial port); for the floor, when the QEMU process has exited, so the floor also includes QEMU's own shutdown, which the others do not.");
    }

    private static string LoadAverage() =>
        string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    private static string Rel(string path) => Path.GetRelativePath(Repo.Root, path);
}
