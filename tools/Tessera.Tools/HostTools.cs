using CliWrap;
using CliWrap.Buffered;
using Spectre.Console;

namespace Tessera.Tools;

/// <summary>
/// The host programs the build and the tests run, and the Debian packages that provide them.
/// Missing ones are installed with apt-get when we are root on Debian/Ubuntu; otherwise the
/// exact command is printed and the build stops (issue 2: no other set-up step exists).
/// </summary>
public static class HostTools
{
    public sealed record Tool(string Program, string Package);

    public static readonly Tool[] Required =
    [
        new("nasm", "nasm"),
        new("ld", "binutils"),
        new("qemu-system-x86_64", "qemu-system-x86"),
        new("grub-mkrescue", "grub-common"),
        new("xorriso", "xorriso"),
        new("mformat", "mtools"),
        new("musl-gcc", "musl-tools"),
        new("gdb", "gdb"),
        new("mke2fs", "e2fsprogs"),
        new("cpio", "cpio"),
        new("xz", "xz-utils"),
    ];

    // grub-mkrescue needs the BIOS (i386-pc) GRUB modules, which are a separate package.
    private const string GrubBiosModules = "/usr/lib/grub/i386-pc";
    private const string GrubBiosPackage = "grub-pc-bin";

    // The benchmarks' PNG charts (Bench/BenchChart.cs) need a TrueType font file: SkiaSharp's
    // self-contained Linux build has no fontconfig to find system fonts by name.
    public const string ChartFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    private const string ChartFontPackage = "fonts-dejavu-core";

    public static string? Find(string program)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
        {
            if (dir.Length == 0) continue;
            var candidate = System.IO.Path.Combine(dir, program);
            if (File.Exists(candidate)) return candidate;
        }
        foreach (var dir in new[] { "/usr/sbin", "/sbin" })
            if (File.Exists(System.IO.Path.Combine(dir, program))) return System.IO.Path.Combine(dir, program);
        return null;
    }

    public static string Require(string program) =>
        Find(program) ?? throw new ToolMissingException($"{program} is not installed (run ./build.sh build to install the host tools)");

    /// <summary>Makes sure every required tool is present; returns false (after saying why) when it cannot.</summary>
    public static async Task<bool> EnsureAsync()
    {
        var missing = Required.Where(t => Find(t.Program) is null).Select(t => t.Package).ToList();
        if (!Directory.Exists(GrubBiosModules)) missing.Add(GrubBiosPackage);
        if (!File.Exists(ChartFont)) missing.Add(ChartFontPackage);
        missing = missing.Distinct().ToList();
        if (missing.Count == 0) return true;

        string command = "apt-get install -y " + string.Join(' ', missing);
        bool isRoot = Environment.UserName == "root" || Environment.GetEnvironmentVariable("EUID") == "0";
        bool hasApt = Find("apt-get") is not null;
        if (!isRoot || !hasApt)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]missing host tools:[/] {string.Join(", ", missing)}");
            AnsiConsole.MarkupLineInterpolated($"install them with:  [bold]sudo apt-get update && sudo {command}[/]");
            return false;
        }

        AnsiConsole.MarkupLineInterpolated($"[yellow]installing host tools:[/] {string.Join(", ", missing)}");
        var env = new Dictionary<string, string?> { ["DEBIAN_FRONTEND"] = "noninteractive" };
        var update = await Cli.Wrap("apt-get").WithArguments(["update", "-qq"]).WithEnvironmentVariables(env)
            .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync();
        var install = await Cli.Wrap("apt-get").WithArguments(["install", "-y", "-qq", .. missing]).WithEnvironmentVariables(env)
            .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync();
        if (install.ExitCode != 0)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]apt-get install failed ({install.ExitCode}):[/]");
            AnsiConsole.WriteLine(install.StandardError.Length > 0 ? install.StandardError : update.StandardError);
            return false;
        }
        return true;
    }
}

public sealed class ToolMissingException(string message) : Exception(message);
