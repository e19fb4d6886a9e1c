using System.Net;
using System.Net.Sockets;
using Spectre.Console;
using Tessera.Tools.Qemu;

namespace Tessera.Tools.Rig;

/// <summary>
/// Boots a whole Tessera system: one QEMU VM per node, all on one Ethernet segment made of a
/// QEMU socket netdev on a loopback multicast group (DESIGN §5: no root needed, nothing
/// leaves 127.0.0.1). Each VM gets a virtio-net NIC with its node's MAC, its serial log in
/// out/rig/&lt;name&gt;.log, and optionally its own gdb port; each storage VM gets a virtio-blk
/// disk, an ext2 image the launcher makes (RigDisk) in the log folder as disk-&lt;node&gt;.img.
/// The rig ends every VM it started, by PID, on dispose.
/// </summary>
public sealed class RigLauncher : IAsyncDisposable
{
    public RigConfig Config { get; }
    public IReadOnlyList<RigNode> Nodes { get; }
    public IReadOnlyList<QemuVm> Vms => _vms;
    public int MulticastPort { get; }
    public string LogDir { get; }
    public IReadOnlyDictionary<ushort, int> GdbPorts => _gdbPorts;

    private readonly List<QemuVm> _vms = [];
    private readonly Dictionary<ushort, int> _gdbPorts = [];
    private readonly Dictionary<ushort, string> _disks = [];

    public const string MulticastGroup = "230.0.0.1";

    public RigLauncher(RigConfig config, string logDir, bool gdb = false, string? pcap = null, Action<RigNode, string>? onLine = null)
    {
        config.Validate();
        Config = config;
        Nodes = config.Nodes();
        LogDir = logDir;
        MulticastPort = FreeUdpPort();
        foreach (var node in Nodes)
        {
            var extra = new List<string>
            {
                "-netdev", $"socket,id=net0,mcast={MulticastGroup}:{MulticastPort},localaddr=127.0.0.1",
                "-device", $"virtio-net-pci,netdev=net0,mac={node.Mac},disable-legacy=on",
            };
            // Every VM on the segment sees every frame, so one dump records the whole rig.
            if (pcap != null && node == Nodes[0])
                extra.AddRange(["-object", $"filter-dump,id=dump0,netdev=net0,file={Path.GetFullPath(pcap)}"]);
            var disk = new List<string>();
            if (node.Role == "storage")
            {
                // The storage component's disk (RigDisk): virtio-blk, modern-only like the NIC.
                string image = Path.GetFullPath(config.Disk ?? Path.Combine(logDir, $"disk-{node.Id}.img"));
                _disks[node.Id] = image;
                disk.AddRange(["-drive", $"if=none,id=d0,file={image},format=raw", "-device", "virtio-blk-pci,drive=d0,disable-legacy=on"]);
            }
            int? gdbPort = gdb ? FreeTcpPort() : null;
            if (gdbPort is int p) _gdbPorts[node.Id] = p;
            // Processors: COM2 and COM3 carry their programs' stdout and stderr into files.
            // Memories: the programs as boot modules (RigConfig.ModulesArgument).
            var serials = node.Role == "processor"
                ? new[] { "file:" + StdoutPath(node), "file:" + StderrPath(node) }
                : Array.Empty<string>();
            var options = new QemuOptions
            {
                Kind = node.Role, Append = config.CommandLineFor(node), Memory = config.GuestMemory,
                GdbPort = gdbPort, WaitForGdb = gdb, NetworkArguments = extra, ExtraSerials = serials,
                Initrd = node.Role == "memory" ? config.ModulesArgument() : null, ExtraArguments = disk,
            };
            _vms.Add(new QemuVm(options, Path.Combine(logDir, node.Name + ".log"))
            {
                OnLine = onLine is null ? null : line => onLine(node, line),
            });
        }
    }

    /// <summary>Where a processor's programs' standard output goes (its COM2).</summary>
    public string StdoutPath(RigNode node) => Path.GetFullPath(Path.Combine(LogDir, node.Name + ".stdout"));

    /// <summary>Where a processor's programs' standard error goes (its COM3).</summary>
    public string StderrPath(RigNode node) => Path.GetFullPath(Path.Combine(LogDir, node.Name + ".stderr"));

    /// <summary>Each storage node's disk image, by node id.</summary>
    public IReadOnlyDictionary<ushort, string> Disks => _disks;

    /// <summary>Makes the storage disks (unless the config brings one), then starts every VM.</summary>
    public void Start() => Task.Run(StartAsync).GetAwaiter().GetResult();

    public async Task StartAsync()
    {
        Directory.CreateDirectory(LogDir);
        if (Config.Disk == null)
            foreach (var image in _disks.Values) await RigDisk.CreateAsync(image, Config.Files, Config.DiskBytes).ConfigureAwait(false);
        foreach (var vm in _vms) vm.Start();
    }

    /// <summary>
    /// Asks every storage component to write everything out (FSYNC of the whole volume, from the
    /// host as node HostNode), so a disk checked right after the VMs end holds the final state.
    /// Best effort: a storage VM that does not answer is simply not synced.
    /// </summary>
    public void SyncDisks()
    {
        if (_disks.Count == 0 || _vms.All(vm => vm.ExitedAt != null)) return;
        using var link = new MulticastLink(MulticastPort);
        var endpoint = new Tessera.Core.Rpc.RpcEndpoint(HostNode, link, new StopwatchClock(), (ulong)Environment.TickCount64 << 20)
        {
            InitialTimeoutNanoseconds = 100_000_000, MaxAttempts = 4,
        };
        foreach (var id in _disks.Keys)
        {
            var c = new Storage.FileClient(new Storage.RpcFileTransport(endpoint, id));
            c.Sync();
        }
    }

    /// <summary>Ends every VM (by PID), after syncing the storage disks.</summary>
    public async Task StopAsync(bool sync = true)
    {
        if (sync) SyncDisks();
        foreach (var vm in _vms) await vm.StopAsync();
    }

    /// <summary>e2fsck -fn of every storage disk (the VMs must have ended).</summary>
    public async Task<IReadOnlyDictionary<ushort, RigDisk.CheckResult>> CheckDisksAsync()
    {
        var results = new Dictionary<ushort, RigDisk.CheckResult>();
        foreach (var (id, image) in _disks)
            if (File.Exists(image)) results[id] = await RigDisk.CheckAsync(image);
        return results;
    }

    /// <summary>The node id the host uses when it talks to the rig itself (SyncDisks).</summary>
    public const ushort HostNode = 250;

    public QemuVm VmOf(RigNode node) => _vms[Nodes.ToList().IndexOf(node)];

    /// <summary>True when any VM printed a kernel panic.</summary>
    public bool AnyPanicked => _vms.Any(vm => vm.Lines.Any(l => l.StartsWith("PANIC", StringComparison.Ordinal)));

    public void PrintGdbCommands()
    {
        foreach (var node in Nodes)
            if (_gdbPorts.TryGetValue(node.Id, out int port))
                AnsiConsole.WriteLine($"{node.Name}: gdb {Repo.Elf(node.Role)} -ex 'target remote 127.0.0.1:{port}' -ex 'hbreak kmain' -ex 'continue'");
    }

    /// <summary>Ends every VM; a disk the launcher made is moved to KeepDisk, or deleted.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var vm in _vms) await vm.DisposeAsync();
        if (Config.Disk != null) return;
        foreach (var image in _disks.Values)
        {
            if (!File.Exists(image)) continue;
            if (Config.KeepDisk != null)
            {
                string keep = Path.GetFullPath(Config.KeepDisk);
                Directory.CreateDirectory(Path.GetDirectoryName(keep)!);
                File.Move(image, keep, overwrite: true);
            }
            else File.Delete(image);
        }
    }

    /// <summary>A UDP port free on loopback right now, for a segment's multicast group.</summary>
    public static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private static int FreeTcpPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
