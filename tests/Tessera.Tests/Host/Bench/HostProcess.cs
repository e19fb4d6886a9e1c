using System.Diagnostics;
using Tessera.Tools;

namespace Tessera.Tests.Host.Bench;

/// <summary>Runs a host tool (cpio, xz) on bytes for a test and returns what it printed.</summary>
internal static class HostProcess
{
    public sealed record Output(int ExitCode, byte[] Stdout, string Stderr);

    public static async Task<Output> RunAsync(string program, byte[] stdin, params string[] arguments)
    {
        var psi = new ProcessStartInfo(HostTools.Require(program))
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stdout = new MemoryStream();
        var copyOut = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        var readErr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.BaseStream.WriteAsync(stdin);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        await copyOut;
        return new Output(process.ExitCode, stdout.ToArray(), await readErr);
    }
}
