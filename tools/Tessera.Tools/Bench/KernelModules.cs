using System.Buffers.Binary;
using System.Text;

namespace Tessera.Tools.Bench;

/// <summary>
/// Linux kernel modules (.ko files) as the Linux baseline needs them: which other modules each
/// one needs, and the order to load a set in. depmod's modules.dep would say the same, but it is
/// written at install time and so is not in the linux-image package; the information it is made
/// from is in every module, in its `.modinfo` ELF section: NUL-terminated `key=value` strings,
/// among them `depends=a,b` (scripts/mod/modpost.c writes it; include/linux/moduleparam.h,
/// MODULE_INFO). Module names use '_' and '-' interchangeably (kernel/params.c, parameq), so
/// names are compared with '-' taken as '_'.
/// </summary>
public static class KernelModules
{
    /// <summary>The `.modinfo` strings of an ELF64 little-endian relocatable object, in order.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> ReadModinfo(ReadOnlySpan<byte> elf)
    {
        // ELF header (System V gABI, "ELF Header"): magic, class 2 = 64-bit, data 1 = little-endian;
        // e_shoff at 0x28, e_shentsize at 0x3A, e_shnum at 0x3C, e_shstrndx at 0x3E.
        if (elf.Length < 0x40 || elf[0] != 0x7F || elf[1] != 'E' || elf[2] != 'L' || elf[3] != 'F')
            throw new FormatException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1) throw new FormatException("not a little-endian ELF64 file");
        ulong shoff = BinaryPrimitives.ReadUInt64LittleEndian(elf[0x28..]);
        int shentsize = BinaryPrimitives.ReadUInt16LittleEndian(elf[0x3A..]);
        int shnum = BinaryPrimitives.ReadUInt16LittleEndian(elf[0x3C..]);
        int shstrndx = BinaryPrimitives.ReadUInt16LittleEndian(elf[0x3E..]);
        if (shentsize < 0x40 || shstrndx >= shnum || shoff + (ulong)shnum * (ulong)shentsize > (ulong)elf.Length)
            throw new FormatException("section header table out of the file");

        // Section header: sh_name at 0, sh_offset at 0x18, sh_size at 0x20.
        ReadOnlySpan<byte> Section(ReadOnlySpan<byte> file, int index, out uint name)
        {
            var header = file.Slice((int)shoff + index * shentsize, shentsize);
            name = BinaryPrimitives.ReadUInt32LittleEndian(header);
            ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(header[0x18..]);
            ulong size = BinaryPrimitives.ReadUInt64LittleEndian(header[0x20..]);
            if (offset + size > (ulong)file.Length) throw new FormatException($"section {index} out of the file");
            return file.Slice((int)offset, (int)size);
        }

        var names = Section(elf, shstrndx, out _);
        for (int i = 0; i < shnum; i++)
        {
            var data = Section(elf, i, out uint nameOffset);
            if (nameOffset >= names.Length || CString(names[(int)nameOffset..]) != ".modinfo") continue;
            var entries = new List<KeyValuePair<string, string>>();
            int at = 0;
            while (at < data.Length)
            {
                string entry = CString(data[at..]);
                at += Encoding.UTF8.GetByteCount(entry) + 1;
                int eq = entry.IndexOf('=');
                if (eq > 0) entries.Add(new(entry[..eq], entry[(eq + 1)..]));   // empty strings are alignment padding
            }
            return entries;
        }
        throw new FormatException("no .modinfo section: not a kernel module");
    }

    /// <summary>The modules this one needs loaded first (its `depends=`), canonical names.</summary>
    public static IReadOnlyList<string> Depends(ReadOnlySpan<byte> module)
    {
        var depends = ReadModinfo(module).FirstOrDefault(kv => kv.Key == "depends").Value ?? "";
        return depends.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Canonical).ToList();
    }

    public static string Canonical(string name) => name.Replace('-', '_');

    /// <summary>
    /// The roots and everything they need, each after all it depends on (a depth-first
    /// post-order, so the order is stable for a given input). dependsOf gives a module's
    /// dependencies, or null for a module that does not exist (an error: the set cannot load).
    /// </summary>
    public static IReadOnlyList<string> LoadOrder(IEnumerable<string> roots, Func<string, IReadOnlyList<string>?> dependsOf)
    {
        var order = new List<string>();
        var done = new HashSet<string>(StringComparer.Ordinal);
        var onPath = new List<string>();

        void Visit(string name)
        {
            name = Canonical(name);
            if (done.Contains(name)) return;
            if (onPath.Contains(name)) throw new InvalidOperationException($"modules depend on each other in a cycle: {string.Join(" -> ", onPath)} -> {name}");
            var depends = dependsOf(name)
                ?? throw new InvalidOperationException(onPath.Count == 0 ? $"module {name} not found" : $"module {name} (needed by {onPath[^1]}) not found");
            onPath.Add(name);
            foreach (var d in depends) Visit(d);
            onPath.RemoveAt(onPath.Count - 1);
            done.Add(name);
            order.Add(name);
        }

        foreach (var root in roots) Visit(root);
        return order;
    }

    private static string CString(ReadOnlySpan<byte> bytes)
    {
        int end = bytes.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? bytes : bytes[..end]);
    }
}
