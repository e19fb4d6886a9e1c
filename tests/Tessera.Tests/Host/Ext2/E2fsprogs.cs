using System.Text;
using CliWrap;
using CliWrap.Buffered;
using Tessera.Tools;

namespace Tessera.Tests.Host.Ext2;

/// <summary>
/// The e2fsprogs tools the ext2 tests use to make images and to judge what the implementation
/// wrote: mke2fs, e2fsck (-fn: forced, read-only), debugfs (-R: one request), dumpe2fs. Every
/// run is bounded by a timeout (a cancellation token) so a hung tool fails the test.
/// </summary>
public static class E2fsprogs
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    public sealed record Result(int ExitCode, string Output);

    public static async Task<Result> RunAsync(string program, IEnumerable<string> arguments)
    {
        using var cts = new CancellationTokenSource(Timeout);
        var result = await Cli.Wrap(HostTools.Require(program)).WithArguments(arguments)
            .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(cts.Token);
        return new Result(result.ExitCode, result.StandardOutput + result.StandardError);
    }

    /// <summary>
    /// mke2fs -t ext2 -b blockSize [-d folder] [-O features] [-N inodes] image size: the command
    /// docs/storage-ext2.md documents, with mke2fs's defaults for ext2 otherwise.
    /// </summary>
    public static async Task MakeAsync(string image, long sizeBytes, int blockSize, string? folder = null, string? features = null, int? inodes = null, int? inodeSize = null, string type = "ext2", string[]? extra = null)
    {
        if (File.Exists(image)) File.Delete(image);
        var args = new List<string> { "-q", "-F", "-t", type, "-b", blockSize.ToString() };
        if (extra is not null) args.AddRange(extra);
        if (folder is not null) { args.Add("-d"); args.Add(folder); }
        if (features is not null) { args.Add("-O"); args.Add(features); }
        if (inodes is not null) { args.Add("-N"); args.Add(inodes.Value.ToString()); }
        if (inodeSize is not null) { args.Add("-I"); args.Add(inodeSize.Value.ToString()); }
        args.Add(image);
        args.Add($"{sizeBytes / 1024}k");
        var r = await RunAsync("mke2fs", args);
        if (r.ExitCode != 0) throw new InvalidOperationException($"mke2fs failed ({r.ExitCode}): {r.Output}");
    }

    /// <summary>e2fsck -fn: a full check that changes nothing. Exit 0 means clean.</summary>
    public static Task<Result> CheckAsync(string image) => RunAsync("e2fsck", ["-fn", image]);

    /// <summary>e2fsck -fp ("preen"): repairs only what is safe to repair without a human; exit 4 when it finds worse.</summary>
    public static Task<Result> PreenAsync(string image) => RunAsync("e2fsck", ["-fp", image]);

    /// <summary>One debugfs request (read-only unless write is set), its text output.</summary>
    public static Task<Result> DebugfsAsync(string image, string request, bool write = false) =>
        RunAsync("debugfs", write ? ["-w", "-R", request, image] : ["-R", request, image]);

    /// <summary>The contents of a file as debugfs reads it (`cat`), byte for byte.</summary>
    public static async Task<byte[]> CatAsync(string image, string path)
    {
        using var cts = new CancellationTokenSource(Timeout);
        using var stdout = new MemoryStream();
        var stderr = new StringBuilder();
        var r = await Cli.Wrap(HostTools.Require("debugfs")).WithArguments(["-R", $"cat \"{path}\"", image])
            .WithStandardOutputPipe(PipeTarget.ToStream(stdout))
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(stderr))
            .WithValidation(CommandResultValidation.None).ExecuteAsync(cts.Token);
        if (r.ExitCode != 0) throw new InvalidOperationException($"debugfs cat {path} failed: {stderr}");
        return stdout.ToArray();
    }

    /// <summary>dumpe2fs: the superblock and every group's layout.</summary>
    public static Task<Result> DumpAsync(string image) => RunAsync("dumpe2fs", [image]);

    /// <summary>A field of `dumpe2fs -h` (e.g. "Free blocks").</summary>
    public static async Task<string> SuperblockFieldAsync(string image, string field)
    {
        var r = await RunAsync("dumpe2fs", ["-h", image]);
        foreach (var line in r.Output.Split('\n'))
            if (line.StartsWith(field + ":")) return line[(field.Length + 1)..].Trim();
        throw new InvalidOperationException($"dumpe2fs -h has no {field}: {r.Output}");
    }
}
