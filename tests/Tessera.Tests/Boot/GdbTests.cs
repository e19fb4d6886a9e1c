using System.Net;
using System.Net.Sockets;
using CliWrap;
using CliWrap.Buffered;
using Tessera.Tools;
using Tessera.Tools.Qemu;
using Xunit;
using Xunit.Abstractions;

namespace Tessera.Tests.Boot;

/// <summary>
/// QEMU waits on its gdb stub (-S -gdb), gdb in batch mode sets a hardware breakpoint on
/// kmain, continues, and the backtrace must show C# source: ILC's DWARF maps the machine
/// code back to the .cs file and line.
/// </summary>
public sealed class GdbTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("processor")]
    [InlineData("memory")]
    [InlineData("storage")]
    public async Task GdbStopsInKmainAndShowsCSharpSource(string kind)
    {
        int port = FreeLoopbackPort();
        await using var vm = Vm.Create(new QemuOptions { Kind = kind, GdbPort = port, WaitForGdb = true }, $"gdb-{kind}", output);
        vm.Start();

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var gdb = await Cli.Wrap(HostTools.Require("gdb"))
            .WithArguments([
                "-batch", "-nx",
                "-ex", $"target remote 127.0.0.1:{port}",
                "-ex", "hbreak kmain",
                "-ex", "continue",
                "-ex", "bt",
                "-ex", "info source",
                Repo.Elf(kind),
            ])
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(cts.Token);
        output.WriteLine(gdb.StandardOutput);
        output.WriteLine(gdb.StandardError);

        // "#0  tessera_<kind>_Tessera_Core_KernelMain__Main (magic=..., infoAddress=...) at .../KernelMain.cs:20"
        Assert.Matches(@"#0 .*KernelMain__Main \(magic=\d+, infoAddress=\d+\) at \S*kernel/Core/KernelMain\.cs:\d+", gdb.StandardOutput);
        Assert.Contains("Current source file is", gdb.StandardOutput);
        // gdb detaches at the end of the batch; the kernel then runs on and prints its banner.
        Assert.NotNull(await vm.WaitForLineAsync(l => l.StartsWith($"tessera {kind} "), Vm.BootTimeout));
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
