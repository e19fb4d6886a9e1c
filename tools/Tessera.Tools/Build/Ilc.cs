using CliWrap;
using CliWrap.Buffered;

namespace Tessera.Tools.Build;

/// <summary>
/// Microsoft's ahead-of-time compiler from NuGet (runtime.linux-x64.Microsoft.DotNet.ILCompiler),
/// pinned to one version in tools/IlcPackage/IlcPackage.csproj and restored into the NuGet cache.
/// </summary>
public static class Ilc
{
    public const string Version = "10.0.14";
    private const string PackageId = "runtime.linux-x64.microsoft.dotnet.ilcompiler";

    public static string NuGetCache =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES")
        ?? System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    public static string ExecutablePath => System.IO.Path.Combine(NuGetCache, PackageId, Version, "tools", "ilc");

    /// <summary>Restores the package when its ilc is not in the cache yet.</summary>
    public static async Task<string> EnsureAsync()
    {
        if (File.Exists(ExecutablePath)) return ExecutablePath;
        var result = await Cli.Wrap("dotnet")
            .WithArguments(["restore", Repo.Path("tools", "IlcPackage", "IlcPackage.csproj"), "-p:IlcVersion=" + Version])
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync();
        if (result.ExitCode != 0 || !File.Exists(ExecutablePath))
            throw new BuildException($"could not restore {PackageId} {Version}:\n{result.StandardOutput}{result.StandardError}");
        return ExecutablePath;
    }

    /// <summary>The SDK's Roslyn compiler (csc.dll), run with `dotnet`.</summary>
    public static string FindRoslyn()
    {
        string dotnetRoot = Environment.GetEnvironmentVariable("DOTNET_ROOT") ?? "";
        var roots = new List<string>();
        if (dotnetRoot.Length > 0) roots.Add(dotnetRoot);
        string? dotnet = HostTools.Find("dotnet");
        if (dotnet != null) roots.Add(System.IO.Path.GetDirectoryName(new FileInfo(dotnet).ResolveLinkTarget(true)?.FullName ?? dotnet)!);
        roots.Add("/usr/share/dotnet");
        roots.Add("/usr/lib/dotnet");
        foreach (var root in roots.Distinct())
        {
            var sdkDir = System.IO.Path.Combine(root, "sdk");
            if (!Directory.Exists(sdkDir)) continue;
            var csc = Directory.GetDirectories(sdkDir)
                .OrderByDescending(d => d, StringComparer.Ordinal)
                .Select(d => System.IO.Path.Combine(d, "Roslyn", "bincore", "csc.dll"))
                .FirstOrDefault(File.Exists);
            if (csc != null) return csc;
        }
        throw new BuildException("cannot find the SDK's Roslyn (sdk/*/Roslyn/bincore/csc.dll)");
    }
}

public sealed class BuildException(string message) : Exception(message);
