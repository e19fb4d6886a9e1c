using Tessera.Tools;
using Tessera.Tools.Qemu;
using Xunit.Abstractions;

namespace Tessera.Tests.Boot;

/// <summary>Runs QEMU for a test: bounded by a timeout, serial log kept under out/test-logs.</summary>
public static class Vm
{
    // TCG on a shared 2-core machine: generous, but every run ends.
    public static readonly TimeSpan BootTimeout = TimeSpan.FromSeconds(90);

    public sealed record Result(int ExitCode, List<string> Lines, string LogPath);

    public static string LogPath(string name) => Repo.Path("out", "test-logs", name + ".log");

    public static QemuVm Create(QemuOptions options, string name, ITestOutputHelper output)
    {
        foreach (var path in new[] { Repo.Elf(options.Kind), Repo.Iso(options.Kind) })
            if (!File.Exists(path)) throw new InvalidOperationException($"{path} is missing: run ./build.sh build first");
        return new QemuVm(options, LogPath(name));
    }

    public static async Task<Result> RunToExitAsync(QemuOptions options, string name, ITestOutputHelper output, TimeSpan? timeout = null)
    {
        await using var vm = Create(options, name, output);
        vm.Start();
        int code = await vm.WaitForExitAsync(timeout ?? BootTimeout);
        var lines = vm.Lines.Where(l => !l.StartsWith("[qemu] ")).ToList();
        output.WriteLine($"{name}: {QemuExit.Describe(code)} after {vm.SinceStart.Elapsed.TotalSeconds:0.00} s, log {vm.LogPath}");
        foreach (var l in vm.Lines) output.WriteLine(l);
        return new Result(code, lines, vm.LogPath);
    }
}
