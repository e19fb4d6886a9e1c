using System.Diagnostics;
using System.Globalization;

namespace Tessera.Tests.Boot;

/// <summary>
/// The defined symbols of a kernel ELF (from `nm -S`), to say which function an address the
/// kernel reported lies in. ILC gives managed methods a size; assembly labels have none and
/// cover up to the next symbol.
/// </summary>
public sealed class ElfSymbols
{
    public sealed record Symbol(ulong Address, ulong Size, string Name);

    private readonly List<Symbol> _text;

    private ElfSymbols(List<Symbol> text) { _text = text; }

    public static ElfSymbols Load(string elf)
    {
        var start = new ProcessStartInfo("nm", ["-S", "--defined-only", elf]) { RedirectStandardOutput = true, UseShellExecute = false };
        using var nm = Process.Start(start) ?? throw new InvalidOperationException("cannot run nm");
        string output = nm.StandardOutput.ReadToEnd();
        nm.WaitForExit();
        if (nm.ExitCode != 0) throw new InvalidOperationException($"nm {elf} exited {nm.ExitCode}");
        var text = new List<Symbol>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            // "addr size type name" or "addr type name"
            if (parts.Length < 3) continue;
            bool sized = parts.Length == 4;
            string type = parts[sized ? 2 : 1];
            if (type != "T" && type != "t") continue;
            text.Add(new Symbol(ulong.Parse(parts[0], NumberStyles.HexNumber), sized ? ulong.Parse(parts[1], NumberStyles.HexNumber) : 0, parts[^1]));
        }
        text.Sort((a, b) => a.Address.CompareTo(b.Address));
        return new ElfSymbols(text);
    }

    public ulong AddressOf(string name) => _text.Single(s => s.Name == name).Address;

    /// <summary>The function containing address, or null.</summary>
    public Symbol? Containing(ulong address)
    {
        Symbol? best = null;
        foreach (var s in _text)
        {
            if (s.Address > address) break;
            if (s.Size == 0 || address < s.Address + s.Size) best = s;
            else if (best is not null && best.Address < s.Address) best = null;
        }
        return best;
    }
}
