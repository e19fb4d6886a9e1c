using System.Diagnostics;
using System.Text;
using Tessera.Processor;
using Tessera.Tests.Host.Memory;
using Tessera.Tools;
using Tessera.Tools.Qemu;
using Tessera.Tools.Rig;
using Xunit;
using Xunit.Abstractions;

namespace Tessera.Tests.Rig;

/// <summary>
/// Programs run on a rig (issue 5): the memory component loads a static musl executable from
/// its boot modules, the processor runs it in ring 3 with its pages in the ExCache, the
/// program's stdout and stderr arrive in the processor's COM2/COM3 files, and the processor
/// reports the exit status and ends its VM.
/// </summary>
[Collection("rigs")]
public sealed class ProgramRigTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(180);

    private static string Words(string program, string[] argv, string[] envp) =>
        $"exec=/{Path.GetFileName(program)} argv={string.Join(',', argv.Select(Host.Processor.ProgramArgumentsTests.Encode))} " +
        $"envp={string.Join(',', envp.Select(Host.Processor.ProgramArgumentsTests.Encode))}";

    /// <summary>Boots 1P-1M with program as the memory's module and runs it; returns (status line, stdout, stderr, processor lines).</summary>
    private async Task<(string Status, string Stdout, string Stderr, IReadOnlyList<string> Lines)> RunOnRig(
        string name, string program, string[] argv, string[] envp, string extra = "")
    {
        var config = new RigConfig
        {
            Memories = 1, Storages = 0, Programs = [program],
            ProcessorAppend = (Words(program, argv, envp) + " " + extra).Trim(),
        };
        await using var rig = new RigLauncher(config, Repo.Path("out", "test-logs", "rig-" + name));
        rig.Start();
        QemuVm processor = rig.Vms[0];
        string? status = await processor.WaitForLineAsync(l => l.StartsWith("process 1 exited with status ", StringComparison.Ordinal) || l.StartsWith("PANIC"), Limit);
        int exit = await processor.WaitForExitAsync(TimeSpan.FromSeconds(30));
        foreach (var vm in rig.Vms)
        {
            output.WriteLine($"--- {vm.LogPath}");
            foreach (var l in vm.Lines) output.WriteLine(l);
        }
        Assert.False(rig.AnyPanicked, "a VM panicked");
        Assert.NotNull(status);
        Assert.Equal(QemuExit.Pass, exit);
        string stdout = File.ReadAllText(rig.StdoutPath(rig.Nodes[0]), Encoding.Latin1);
        string stderr = File.ReadAllText(rig.StderrPath(rig.Nodes[0]), Encoding.Latin1);
        return (status!, stdout, stderr, processor.Lines);
    }

    private static (int Code, string Stdout, string Stderr) RunOnHost(string program, string[] argv, string[] envp)
    {
        // argv[0] is the path the host runs, so the rig is given the same argv[0].
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in argv.Skip(1)) start.ArgumentList.Add(a);
        start.Environment.Clear();
        foreach (var e in envp) start.Environment[e[..e.IndexOf('=')]] = e[(e.IndexOf('=') + 1)..];
        using var p = Process.Start(start)!;
        string stdout = p.StandardOutput.ReadToEnd(), stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout, stderr);
    }

    [Fact]
    public async Task HelloPrintsItsArgumentsAndEnvironmentAsOnTheHost()
    {
        string program = HostPrograms.MuslStatic("hello-rig", File.ReadAllText(Repo.Path("tests", "apps", "hello.c")));
        string[] argv = [program, "first", "with space", "comma,and%percent"];
        string[] envp = ["HOME=/", "GREETING=hi there"];
        var host = RunOnHost(program, argv, envp);
        var rig = await RunOnRig("hello", program, argv, envp);
        Assert.Equal($"process 1 exited with status {host.Code}", rig.Status);
        Assert.Equal(3, host.Code);
        Assert.Equal(host.Stdout, rig.Stdout);
        Assert.Equal(host.Stderr, rig.Stderr);
        Assert.Contains(rig.Lines, l => l.StartsWith("excache: misses ", StringComparison.Ordinal));
        Assert.DoesNotContain(rig.Lines, l => l.Contains("INCONSISTENT") || l.Contains("PROTOCOL ERRORS"));
    }

    [Fact]
    public async Task ANullPointerEndsTheProgramWithASegfaultLineAndTheNextProgramRuns()
    {
        const string source = """
            #include <stdio.h>
            int main(void) {
                puts("before");
                fflush(stdout);
                volatile int *p = 0;
                return *p;
            }
            """;
        string program = HostPrograms.MuslStatic("null-rig", source);
        string after = HostPrograms.MuslStatic("after-rig", "#include <stdio.h>\nint main(void) { puts(\"after\"); return 5; }");
        var config = new RigConfig
        {
            Memories = 1, Storages = 0, Programs = [program, after],
            ProcessorAppend = "exec=/null-rig exec2=/after-rig",
        };
        await using var rig = new RigLauncher(config, Repo.Path("out", "test-logs", "rig-segfault"));
        rig.Start();
        QemuVm processor = rig.Vms[0];
        string? second = await processor.WaitForLineAsync(l => l.StartsWith("process 2 exited with status ", StringComparison.Ordinal) || l.StartsWith("PANIC"), Limit);
        int exit = await processor.WaitForExitAsync(TimeSpan.FromSeconds(30));
        foreach (var l in processor.Lines) output.WriteLine(l);
        Assert.False(rig.AnyPanicked, "a VM panicked");
        Assert.Equal("process 2 exited with status 5", second);
        Assert.Equal(QemuExit.Pass, exit);
        var lines = processor.Lines;
        int segfault = lines.ToList().FindIndex(l => System.Text.RegularExpressions.Regex.IsMatch(l, "^segfault at 0 ip [0-9a-f]{16}$"));
        int first = lines.ToList().IndexOf("process 1 exited with status 139");
        Assert.True(segfault >= 0 && first > segfault, "no segfault line before process 1's status");
        Assert.Equal("before\nafter\n", File.ReadAllText(rig.StdoutPath(rig.Nodes[0])));
    }

    [Fact]
    public async Task AMissingExecutableIsStatus127()
    {
        // Two modules: with one, the memory component would run it whatever the name.
        string one = HostPrograms.MuslStatic("true-rig", "int main(void) { return 0; }");
        string two = HostPrograms.MuslStatic("false-rig", "int main(void) { return 1; }");
        var config = new RigConfig { Memories = 1, Storages = 0, Programs = [one, two], ProcessorAppend = "exec=/no-such-program" };
        await using var rig = new RigLauncher(config, Repo.Path("out", "test-logs", "rig-enoent"));
        rig.Start();
        string? status = await rig.Vms[0].WaitForLineAsync(l => l.StartsWith("process 1 exited with status ", StringComparison.Ordinal), Limit);
        foreach (var l in rig.Vms[0].Lines) output.WriteLine(l);
        Assert.Equal("process 1 exited with status 127", status);
        Assert.Contains(rig.Vms[0].Lines, l => l.Contains("exec: /no-such-program: ENOENT"));
    }
}
