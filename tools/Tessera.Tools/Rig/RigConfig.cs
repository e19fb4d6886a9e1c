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
        return Append.Length > 0 ? line + " " + Append : line;
    }

    public void Validate()
    {
        if (Processors < 0 || Memories < 0 || Storages < 0) throw new ArgumentException("component counts cannot be negative");
        if (Processors + Memories + Storages == 0) throw new ArgumentException("a rig needs at least one node");
        if (Processors + Memories + Storages > 16) throw new ArgumentException("at most 16 VMs in a rig (2 cores, TCG)");
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
                "files" => config with { Files = value },
                _ => throw new ArgumentException($"{path}:{lineNumber}: unknown key '{key}'"),
            };
        }
        return config;
    }
}
