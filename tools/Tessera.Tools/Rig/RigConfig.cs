namespace Tessera.Tools.Rig;

/// <summary>One VM of a rig.</summary>
public sealed record RigNode(ushort Id, string Role)
{
    public string Mac => $"52:54:00:00:{Id >> 8:x2}:{Id & 0xFF:x2}";
    public string Name => $"{Role}{Id}";
}

/// <summary>
/// What a rig is made of: how many of each component, the node ids (processors first, then
/// memories, then storages, from 1), and the kernel command line each node gets:
///   node=N role=R peers=1:processor,2:memory,3:storage [extra words]
/// A config file holds the same as the flags, one `key = value` a line:
///   processors = 1
///   memories = 2
///   storages = 1
///   memory = 128M        # guest memory per VM
///   append = excache=16M # extra kernel command-line words for every node
///   program = /path/to/a/static/executable   # one a line: boot modules of every memory node
///   files = tests/data   # folder copied into the storage disk's root
/// </summary>
public sealed record RigConfig
{
    public int Processors { get; init; } = 1;
    public int Memories { get; init; } = 1;
    public int Storages { get; init; } = 1;
    public string GuestMemory { get; init; } = "64M";
    public string Append { get; init; } = "";
    /// <summary>
    /// Nodes listed in every peers= but never booted (after the real ones): a rig with a
    /// dead node, to see it reported instead of waited on.
    /// </summary>
    public int AbsentNodes { get; init; }
    /// <summary>
    /// Host paths of static executables every memory node gets as boot modules (the memory
    /// component execs them; EXECVE names one by its file name). For now this is how programs
    /// reach a rig; the storage issue puts them on the storage component's disk.
    /// </summary>
    public IReadOnlyList<string> Programs { get; init; } = [];

    /// <summary>
    /// QEMU's -initrd for a memory node: with a multiboot kernel it loads each comma-separated
    /// "path string" as a module whose string is the whole entry (hw/i386/multiboot.c), so each
    /// program goes as "path name". null without programs.
    /// </summary>
    public string? ModulesArgument()
    {
        if (Programs.Count == 0) return null;
        return string.Join(',', Programs.Select(p =>
        {
            string full = System.IO.Path.GetFullPath(p);
            // QEMU cuts an entry at its first space and splits entries at commas (",," is a comma).
            if (full.Contains(' ')) throw new ArgumentException($"program path with a space (QEMU's -initrd cannot take it): {full}");
            return $"{full.Replace(",", ",,")} {System.IO.Path.GetFileName(full).Replace(",", ",,")}";
        }));
    }
    /// <summary>Extra command-line words for the processors only (exec=, argv=, envp=, syscall_trace ...).</summary>
    public string ProcessorAppend { get; init; } = "";
    /// <summary>A host folder whose contents go into the root of each storage disk (`--files`).</summary>
    public string? Files { get; init; }
    /// <summary>
    /// Use this image as the storage disk as it is: not made, not deleted after the run (tests
    /// bring damaged images and restart a storage VM on the disk it crashed with). One storage only.
    /// </summary>
    public string? Disk { get; init; }
    /// <summary>Keep the storage disk at this path after the run (`--keep-disk`); otherwise it is deleted.</summary>
    public string? KeepDisk { get; init; }
    /// <summary>Size of a disk the launcher makes; 0: RigDisk.SizeFor(Files).</summary>
    public long DiskBytes { get; init; }

    public IReadOnlyList<RigNode> Nodes()
    {
        var nodes = new List<RigNode>();
        ushort id = 1;
        for (int i = 0; i < Processors; i++) nodes.Add(new RigNode(id++, "processor"));
        for (int i = 0; i < Memories; i++) nodes.Add(new RigNode(id++, "memory"));
        for (int i = 0; i < Storages; i++) nodes.Add(new RigNode(id++, "storage"));
        return nodes;
    }

    public string CommandLineFor(RigNode node)
    {
        var nodes = Nodes();
        var absent = Enumerable.Range(nodes.Count + 1, AbsentNodes).Select(id => $"{id}:storage");
        string peers = string.Join(',', nodes.Select(n => $"{n.Id}:{n.Role}").Concat(absent));
        string line = $"node={node.Id} role={node.Role} peers={peers}";
        if (Append.Length > 0) line += " " + Append;
        if (node.Role == "processor" && ProcessorAppend.Length > 0) line += " " + ProcessorAppend;
        return line;
    }

    public void Validate()
    {
        if (Processors < 0 || Memories < 0 || Storages < 0) throw new ArgumentException("component counts cannot be negative");
        if (Processors + Memories + Storages == 0) throw new ArgumentException("a rig needs at least one node");
        if (Processors + Memories + Storages > 16) throw new ArgumentException("at most 16 VMs in a rig (2 cores, TCG)");
        if (Programs.Count > 16) throw new ArgumentException("at most 16 programs (the kernels keep 16 boot modules)");
        foreach (var program in Programs)
            if (!File.Exists(program)) throw new ArgumentException($"program not found: {program}");
        if ((Disk != null || KeepDisk != null) && Storages != 1) throw new ArgumentException("a given or kept disk needs exactly one storage component");
        if (Files != null && !Directory.Exists(Files)) throw new ArgumentException($"--files: no folder {Files}");
    }

    public static RigConfig Load(string path, RigConfig defaults)
    {
        var config = defaults;
        int lineNumber = 0;
        foreach (var raw in File.ReadAllLines(path))
        {
            lineNumber++;
            string line = raw.Split('#')[0].Trim();
            if (line.Length == 0) continue;
            int eq = line.IndexOf('=');
            if (eq <= 0) throw new ArgumentException($"{path}:{lineNumber}: expected `key = value`");
            string key = line[..eq].Trim(), value = line[(eq + 1)..].Trim();
            int Number() => int.TryParse(value, out int n) ? n : throw new ArgumentException($"{path}:{lineNumber}: {key} needs a number");
            config = key switch
            {
                "processors" => config with { Processors = Number() },
                "memories" => config with { Memories = Number() },
                "storages" => config with { Storages = Number() },
                "memory" => config with { GuestMemory = value },
                "append" => config with { Append = value },
                "program" => config with { Programs = [.. config.Programs, value] },
                "files" => config with { Files = value },
                _ => throw new ArgumentException($"{path}:{lineNumber}: unknown key '{key}'"),
            };
        }
        return config;
    }
}
