using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;

namespace Tessera.Tests.Host.Memory;

/// <summary>
/// Builds small C programs with the host's compilers (musl-gcc -static, gcc -static-pie),
/// once per test run, and runs host tools (readelf, setarch) on them.
/// </summary>
public static class HostPrograms
{
    private static readonly string Directory_ = Path.Combine(Path.GetTempPath(), $"tessera-mm-{Environment.ProcessId}");
    private static readonly ConcurrentDictionary<string, Lazy<string>> Built = new();

    static HostPrograms()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { if (Directory.Exists(Directory_)) Directory.Delete(Directory_, true); } catch (IOException) { }
        };
    }

    /// <summary>The path of source compiled by compiler with flags (cached by name).</summary>
    public static string Build(string name, string source, string compiler, params string[] flags) =>
        Built.GetOrAdd(name, _ => new Lazy<string>(() =>
        {
            Directory.CreateDirectory(Directory_);
            string c = Path.Combine(Directory_, name + ".c");
            string exe = Path.Combine(Directory_, name);
            File.WriteAllText(c, source);
            var (code, output) = Run(compiler, [.. flags, "-O2", "-o", exe, c]);
            if (code != 0) throw new InvalidOperationException($"{compiler} failed for {name}: {output}");
            return exe;
        })).Value;

    public const string Hello = """
        #include <stdio.h>
        #include <stdlib.h>
        int counter = 7;
        static char big[100000];
        __thread int tls = 5;
        int main(int argc, char **argv) {
            char *p = malloc(1 << 20);
            p[0] = 1;
            big[argc] = 2;
            printf("hello %s %d %d\n", argv[0], counter + tls, p[0] + big[argc]);
            return 0;
        }
        """;

    /// <summary>tests/apps/memory-probe.c, musl-static: text, rodata, data running into bss, whole bss pages.</summary>
    public static string MemoryProbe() =>
        MuslStatic("memory-probe", File.ReadAllText(Tessera.Tools.Repo.Path("tests", "apps", "memory-probe.c")));

    public static string MuslStatic(string name, string source) => Build(name, source, "musl-gcc", "-static");
    public static string GlibcStaticPie(string name, string source) => Build(name, source, "gcc", "-static-pie");
    public static string GlibcStatic(string name, string source) => Build(name, source, "gcc", "-static");

    /// <summary>Runs a program to completion: its exit code and its standard output and error together.</summary>
    public static (int Code, string Output) Run(string program, string[] arguments, IDictionary<string, string>? environment = null, bool clearEnvironment = false)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        if (clearEnvironment) start.Environment.Clear();
        if (environment != null) foreach (var (k, v) in environment) start.Environment[k] = v;
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(60_000)) { process.Kill(); throw new TimeoutException(program); }
        return (process.ExitCode, stdout + stderr.Result);
    }

    /// <summary>The program's PT_* rows from `readelf -lW`: type, offset, vaddr, filesz, memsz, flags, align.</summary>
    public static List<(string Type, ulong Offset, ulong VirtAddr, ulong FileSize, ulong MemSize, string Flags, ulong Align)> ReadElfSegments(string path)
    {
        var (code, output) = Run("readelf", ["-lW", path]);
        if (code != 0) throw new InvalidOperationException(output);
        var rows = new List<(string, ulong, ulong, ulong, ulong, string, ulong)>();
        bool inTable = false;
        foreach (var raw in output.Split('\n'))
        {
            string line = raw.Trim();
            if (line.StartsWith("Type ")) { inTable = true; continue; }
            if (!inTable) continue;
            if (line.Length == 0 || line.StartsWith("Section to Segment")) break;
            if (line.StartsWith("[")) continue; // "[Requesting program interpreter: ...]"
            // TYPE OFFSET VIRTADDR PHYSADDR FILESIZ MEMSIZ FLG... ALIGN (flags may contain spaces: "R E")
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            ulong Hex(string s) => Convert.ToUInt64(s, 16);
            string flags = string.Join("", parts[6..^1]);
            rows.Add((parts[0], Hex(parts[1]), Hex(parts[2]), Hex(parts[4]), Hex(parts[5]), flags, Hex(parts[^1])));
        }
        return rows;
    }

    /// <summary>Packs strings the way InitialStackInput wants them: each NUL-terminated, back to back.</summary>
    public static byte[] Pack(params string[] strings)
    {
        var bytes = new List<byte>();
        foreach (var s in strings) { bytes.AddRange(Encoding.UTF8.GetBytes(s)); bytes.Add(0); }
        return bytes.ToArray();
    }
}
