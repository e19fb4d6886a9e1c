using System.Diagnostics;
using CliWrap;
using Spectre.Console;
using Tessera.Tools.Build;
using Tessera.Tools.Qemu;

namespace Tessera.Tools;

/// <summary>What each verb of Program.cs does.</summary>
public static class Verbs
{
    public static string[] CheckKinds(string[]? kinds)
    {
        if (kinds is null || kinds.Length == 0) return Repo.Kinds;
        foreach (var k in kinds)
            if (!Repo.Kinds.Contains(k)) throw new ArgumentException($"unknown kind '{k}' (expected processor, memory or storage)");
        return kinds;
    }

    public static int Fail(string message)
    {
        AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {message}");
        return 1;
    }

    public static async Task<bool> BuildAsync(IEnumerable<string> kinds, bool verbose)
    {
        if (!await HostTools.EnsureAsync()) return false;
        var started = Stopwatch.StartNew();
        var builder = new KernelBuilder { Verbose = verbose };
        await builder.BuildAsync(kinds);
        int ran = builder.Steps.Count(s => !s.Skipped);
        AnsiConsole.MarkupLineInterpolated(
            $"[green]build ok[/] in {started.Elapsed.TotalSeconds:0.0} s ({ran} steps ran, {builder.Steps.Count - ran} up to date)");
        return true;
    }

    /// <summary>
    /// Boots one image with QEMU's serial console on this terminal. A plain Process (not CliWrap)
    /// so QEMU inherits the terminal and keystrokes reach the guest's serial port.
    /// </summary>
    public static async Task<int> BootInteractiveAsync(QemuOptions options, int timeoutSeconds)
    {
        var args = options.ToArguments();
        if (options.GdbPort is int port)
        {
            string elf = Repo.Elf(options.Kind);
            AnsiConsole.MarkupLineInterpolated($"[yellow]QEMU waits for gdb on 127.0.0.1:{port}. In another terminal:[/]");
            AnsiConsole.WriteLine($"  gdb {elf} -ex 'target remote 127.0.0.1:{port}' -ex 'hbreak kmain' -ex 'continue'");
        }
        AnsiConsole.MarkupLineInterpolated($"[grey]qemu-system-x86_64 {string.Join(' ', args)}[/]");
        var psi = new ProcessStartInfo(HostTools.Require("qemu-system-x86_64")) { UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        using var cts = timeoutSeconds > 0 ? new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds)) : new CancellationTokenSource();
        try { await process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            process.Kill();
            await process.WaitForExitAsync();
            AnsiConsole.MarkupLineInterpolated($"\n[yellow]timed out after {timeoutSeconds} s; QEMU (pid {process.Id}) ended[/]");
            return QemuExit.TimedOut;
        }
        AnsiConsole.MarkupLineInterpolated($"\n[grey]QEMU: {QemuExit.Describe(process.ExitCode)}[/]");
        return process.ExitCode == QemuExit.Pass ? 0 : process.ExitCode;
    }

    public static async Task<int> TestAsync(bool full, string? filter)
    {
        if (!await BuildAsync(Repo.Kinds, false)) return 1;
        string project = Repo.Path("tests", "Tessera.Tests", "Tessera.Tests.csproj");
        string resultsDir = Repo.Path("out", "test-results");
        if (Directory.Exists(resultsDir)) Directory.Delete(resultsDir, true);
        var args = new List<string>
        {
            "test", project, "--nologo", "--logger", "console;verbosity=normal",
            "--logger", "trx;LogFileName=tessera.trx", "--results-directory", resultsDir,
        };
        string? expression = full ? filter : (filter is null ? "Category!=Full" : $"({filter})&Category!=Full");
        if (expression != null) args.AddRange(["--filter", expression]);
        var env = new Dictionary<string, string?> { ["TESSERA_ROOT"] = Repo.Root, ["TESSERA_FULL"] = full ? "1" : "0" };
        var result = await Cli.Wrap("dotnet").WithArguments(args).WithEnvironmentVariables(env)
            .WithStandardOutputPipe(PipeTarget.ToStream(Console.OpenStandardOutput()))
            .WithStandardErrorPipe(PipeTarget.ToStream(Console.OpenStandardError()))
            .WithValidation(CommandResultValidation.None).ExecuteAsync();

        // One plain closing line, counted from the TRX report: "tests: N passed, M failed, K skipped".
        string trx = Path.Combine(resultsDir, "tessera.trx");
        if (File.Exists(trx))
        {
            var counters = System.Xml.Linq.XDocument.Load(trx).Descendants().FirstOrDefault(e => e.Name.LocalName == "Counters");
            if (counters != null)
            {
                int Count(string name) => int.TryParse(counters.Attribute(name)?.Value, out int v) ? v : 0;
                int failed = Count("failed") + Count("error") + Count("timeout") + Count("aborted");
                Console.WriteLine($"tests: {Count("passed")} passed, {failed} failed, {Count("notExecuted")} skipped");
                if (Count("passed") == 0 && result.ExitCode == 0) return Fail("no test ran");
            }
        }
        return result.ExitCode;
    }

    /// <summary>
    /// The main job: boot a rig, let the processor greet every peer over RPC, show the cluster
    /// table, and exit 0 once every node answered (non-zero with the reason otherwise).
    /// </summary>
    public static async Task<int> RunAsync(Rig.RigConfig config, int timeoutSeconds)
    {
        if (config.Processors < 1) return Fail("the main job needs a processor (--processors 1)");
        await using var rig = new Rig.RigLauncher(config, Repo.Path("out", "run"));
        AnsiConsole.MarkupLineInterpolated(
            $"booting {config.Processors}P-{config.Memories}M-{config.Storages}S ({rig.Nodes.Count} VMs); serial logs in {Path.GetRelativePath(Repo.Root, rig.LogDir)}/");
        rig.Start();
        var processor = rig.Vms[0];
        string? verdict = await processor.WaitForLineAsync(
            l => l.StartsWith("cluster: ", StringComparison.Ordinal) && l.Contains(" peers answered", StringComparison.Ordinal) || l.StartsWith("PANIC", StringComparison.Ordinal),
            TimeSpan.FromSeconds(timeoutSeconds));

        var table = new Table().AddColumns("node", "role", "MAC", "banner", "round trip");
        foreach (var node in rig.Nodes)
        {
            var vm = rig.VmOf(node);
            string banner = vm.Lines.FirstOrDefault(l => l.StartsWith("tessera ", StringComparison.Ordinal)) ?? "(no banner)";
            string row = processor.Lines.FirstOrDefault(l => l.StartsWith($"cluster: {node.Id,4}  ", StringComparison.Ordinal)) ?? "";
            string rtt = node == rig.Nodes[0] ? "(this node)" : row.EndsWith(" us", StringComparison.Ordinal) ? row[(row.LastIndexOf("  ", StringComparison.Ordinal) + 2)..] : "[red]no answer[/]";
            table.AddRow(node.Id.ToString(), node.Role, node.Mac, Markup.Escape(banner), rtt);
        }
        AnsiConsole.Write(table);
        await rig.StopAsync();
        bool disksClean = await ReportDisksAsync(rig);
        if (rig.AnyPanicked) return Fail("a node panicked; see its log in " + Path.GetRelativePath(Repo.Root, rig.LogDir));
        if (verdict is null) return Fail($"the processor did not finish greeting its peers within {timeoutSeconds} s");
        int expected = rig.Nodes.Count - 1;
        if (!verdict.Contains($" {expected} of {expected} peers answered", StringComparison.Ordinal))
            return Fail(verdict["cluster: ".Length..]);
        AnsiConsole.MarkupLineInterpolated($"[green]every node answered[/] ({verdict["cluster: ".Length..]})");
        return disksClean ? 0 : Fail("a storage disk is not clean (e2fsck -fn above)");
    }

    /// <summary>
    /// Runs a static Linux executable on a rig: the memory component gets it as a boot module,
    /// the processor runs it (exec=, argv=, envp= with the host's environment); the program's
    /// stdout and stderr (the processor's COM2 and COM3) are copied to ours, kernel logs stay in
    /// out/run/, and the exit code is the program's.
    /// </summary>
    public static async Task<int> RunProgramAsync(Rig.RigConfig config, string[] program, int timeoutSeconds)
    {
        string path = Path.GetFullPath(program[0]);
        if (!File.Exists(path)) return Fail($"no such program: {program[0]}");
        static string Encode(string item)
        {
            byte[] bytes = System.Text.Encoding.Latin1.GetBytes(item);
            var output = new byte[Tessera.Processor.ProgramArguments.EncodedLength(bytes)];
            int n = Tessera.Processor.ProgramArguments.Encode(bytes, output);
            return System.Text.Encoding.ASCII.GetString(output, 0, n);
        }
        string[] argv = [program[0], .. program.Skip(1)];
        var envp = Environment.GetEnvironmentVariables().Keys.Cast<string>().Where(k => k is "HOME" or "PATH" or "LANG" or "TERM" or "USER")
            .Order(StringComparer.Ordinal).Select(k => $"{k}={Environment.GetEnvironmentVariable(k)}").ToArray();
        string words = $"exec=/{Path.GetFileName(path)} argv={string.Join(',', argv.Select(Encode))}" +
            (envp.Length > 0 ? $" envp={string.Join(',', envp.Select(Encode))}" : "");
        config = config with { Programs = [path], ProcessorAppend = (words + " " + config.ProcessorAppend).Trim() };
        await using var rig = new Rig.RigLauncher(config, Repo.Path("out", "run"));
        rig.Start();
        var processor = rig.Vms[0];
        string? status = await processor.WaitForLineAsync(
            l => l.StartsWith("process 1 exited with status ", StringComparison.Ordinal) || l.StartsWith("PANIC", StringComparison.Ordinal),
            TimeSpan.FromSeconds(timeoutSeconds));
        await processor.WaitForExitAsync(TimeSpan.FromSeconds(30));
        await rig.StopAsync(sync: false);
        using (var stdout = Console.OpenStandardOutput()) { byte[] b = File.ReadAllBytes(rig.StdoutPath(rig.Nodes[0])); stdout.Write(b); }
        using (var stderr = Console.OpenStandardError()) { byte[] b = File.ReadAllBytes(rig.StderrPath(rig.Nodes[0])); stderr.Write(b); }
        if (status is null || !status.StartsWith("process ", StringComparison.Ordinal))
            return Fail($"the program did not finish ({status ?? "timed out"}); kernel logs in out/run/");
        return int.Parse(status["process 1 exited with status ".Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Runs a rig until Ctrl-C or the timeout, every VM's serial shown with its name in front.
    /// Exits non-zero when any VM panicked or exited with a failure.
    /// </summary>
    public static async Task<int> RigAsync(Rig.RigConfig config, bool gdb, string? pcap, int timeoutSeconds, CancellationToken cancel)
    {
        string[] colors = ["cyan", "green", "magenta", "yellow", "blue", "red"];
        await using var rig = new Rig.RigLauncher(config, Repo.Path("out", "rig"), gdb, pcap,
            (node, line) => AnsiConsole.MarkupLineInterpolated($"[{colors[(node.Id - 1) % colors.Length]}]{node.Name,-11}[/]| {line}"));
        AnsiConsole.MarkupLineInterpolated(
            $"[grey]rig: {config.Processors}P-{config.Memories}M-{config.Storages}S on udp multicast {Rig.RigLauncher.MulticastGroup}:{rig.MulticastPort} (loopback); logs in {Path.GetRelativePath(Repo.Root, rig.LogDir)}/[/]");
        rig.Start();
        if (gdb) rig.PrintGdbCommands();
        var exits = rig.Vms.Select(vm => vm.WaitForExitAsync(Timeout.InfiniteTimeSpan)).ToList();
        var ended = Task.WhenAll(exits);
        var limit = timeoutSeconds > 0 ? Task.Delay(TimeSpan.FromSeconds(timeoutSeconds), cancel) : Task.Delay(Timeout.Infinite, cancel);
        try { await Task.WhenAny(ended, limit); } catch (OperationCanceledException) { }
        bool allEnded = ended.IsCompleted;
        await rig.StopAsync();
        bool disksClean = await ReportDisksAsync(rig);
        await rig.DisposeAsync();
        if (rig.AnyPanicked) return Fail("a VM panicked; see its log");
        if (!disksClean) return Fail("a storage disk is not clean (e2fsck -fn above)");
        if (allEnded && exits.Any(e => e.Result != QemuExit.Pass)) return Fail("a VM exited with a failure");
        AnsiConsole.MarkupLine(allEnded ? "[green]every VM exited cleanly[/]" : "[grey]rig ended[/]");
        return 0;
    }

    /// <summary>e2fsck -fn of every storage disk after the run (the VMs have ended): one line each; the full report when not clean.</summary>
    private static async Task<bool> ReportDisksAsync(Rig.RigLauncher rig)
    {
        bool clean = true;
        foreach (var (node, check) in await rig.CheckDisksAsync())
        {
            string where = rig.Config.KeepDisk ?? Path.GetRelativePath(Repo.Root, rig.Disks[node]);
            if (check.Clean) AnsiConsole.MarkupLineInterpolated($"[green]disk of node {node}: e2fsck -fn clean[/] ({where})");
            else
            {
                clean = false;
                AnsiConsole.MarkupLineInterpolated($"[red]disk of node {node}: e2fsck -fn exit {check.ExitCode}[/] ({where})");
                AnsiConsole.WriteLine(check.Output);
            }
        }
        return clean;
    }

    public static void Clean()
    {
        foreach (var dir in new[] { Repo.ObjDir, Repo.OutDir })
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        foreach (var f in Directory.GetFiles(Repo.IsoDir).Where(f => !f.EndsWith(".gitkeep", StringComparison.Ordinal)))
            File.Delete(f);
    }
}
