namespace Tessera.Tools;

/// <summary>Where things are in the repository (DESIGN §2) and where the build puts its output.</summary>
public static class Repo
{
    public static readonly string[] Kinds = ["processor", "memory", "storage"];

    public static string Root { get; } = FindRoot();

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    /// <summary>Final images: iso/tessera-&lt;kind&gt;.iso and iso/tessera-&lt;kind&gt;.elf.</summary>
    public static string IsoDir => Path("iso");
    public static string ObjDir => Path("obj");
    public static string OutDir => Path("out");

    public static string Elf(string kind) => Path("iso", $"tessera-{kind}.elf");
    public static string Iso(string kind) => Path("iso", $"tessera-{kind}.iso");

    private static string FindRoot()
    {
        // TESSERA_ROOT wins (set by build.sh); otherwise walk up to the folder with build.sh.
        string? env = Environment.GetEnvironmentVariable("TESSERA_ROOT");
        if (!string.IsNullOrEmpty(env) && File.Exists(System.IO.Path.Combine(env, "build.sh"))) return env;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "build.sh")) && Directory.Exists(System.IO.Path.Combine(dir.FullName, "kernel")))
                return dir.FullName;
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir != null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "build.sh")) && Directory.Exists(System.IO.Path.Combine(dir.FullName, "kernel")))
                return dir.FullName;
        throw new InvalidOperationException("cannot find the Tessera repository (no build.sh above here); set TESSERA_ROOT");
    }
}
