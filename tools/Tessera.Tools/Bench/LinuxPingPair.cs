using System.Globalization;
using Tessera.Tools.Qemu;
using Tessera.Tools.Rig;

namespace Tessera.Tools.Bench;

/// <summary>
/// The Linux baseline of `bench rpc`: two Linux VMs (LinuxGuest.PrepareNetworkAsync) on one
/// QEMU socket netdev exactly like a Tessera rig's (multicast group on 127.0.0.1, its own
/// port, virtio-net-pci with disable-legacy=on, one vCPU, TCG), one pinging the other back to
/// back with `ping -A` (tests/apps/linux-ping-init.sh). Both NICs get MTU 9000, so a 4 KiB
/// ping is one frame each way, like a Tessera 4 KiB RPC; 64-byte pings are unaffected.
/// </summary>
public static class LinuxPingPair
{
    public const string LinePrefix = "linux-bench: ";
    public const int Mtu = 9000;
    private const string PingerIp = "169.254.99.1", ResponderIp = "169.254.99.2";
    public const string GuestMemory = "256M";

    /// <summary>
    /// `bench boot`'s tuned command line without acpi=off: ping reads its times from the
    /// kernel's clocksource, and under TCG Linux cannot calibrate the TSC against the PIT
    /// ("tsc: Unable to calibrate against PIT"), so it needs the HPET, which it finds through
    /// ACPI. Without it the clock is jiffies and every round trip reads 0 or 4 ms.
    /// </summary>
    public const string CommandLine = "console=ttyS0 quiet mitigations=off tsc=reliable no_timer_check";

    public sealed record Result(IReadOnlyDictionary<int, PingOutput> BySize, string? Failure);

    /// <summary>Boots the pair, waits for the pinger's `linux-bench: done`, parses each size's block; ends both VMs.</summary>
    public static async Task<Result> RunAsync(LinuxNetworkGuest guest, int count, int warmup, IReadOnlyList<int> sizes, string logDir, string run, TimeSpan timeout)
    {
        int port = RigLauncher.FreeUdpPort();
        string common = $"{CommandLine} bench_mtu={Mtu} bench_count={count} bench_warmup={warmup} " +
                        $"bench_sizes={string.Join(',', sizes.Select(s => s.ToString(CultureInfo.InvariantCulture)))}";
        QemuVm Vm(string name, string mac, string role, string ip, string peer) => new(new QemuOptions
        {
            Kind = "linux", ElfOverride = guest.VmlinuxPath, Initrd = guest.InitramfsPath, Memory = GuestMemory,
            Append = $"{common} bench_role={role} bench_ip={ip} bench_peer={peer}",
            NetworkArguments =
            [
                "-netdev", $"socket,id=net0,mcast={RigLauncher.MulticastGroup}:{port},localaddr=127.0.0.1",
                "-device", $"virtio-net-pci,netdev=net0,mac={mac},disable-legacy=on",
            ],
        }, Path.Combine(logDir, $"linux-{name}.{run}.log"));

        string? failure = null;
        var bySize = new Dictionary<int, PingOutput>();
        await using (var responder = Vm("responder", "52:54:00:99:00:02", "responder", ResponderIp, PingerIp))
        await using (var pinger = Vm("pinger", "52:54:00:99:00:01", "pinger", PingerIp, ResponderIp))
        {
            responder.Start();
            pinger.Start();
            string? last = await pinger.WaitForLineAsync(l => l == LinePrefix + "done" || IsFatal(l), timeout);
            if (last is null) failure = pinger.ExitedAt is null ? $"the pinger did not finish within {timeout.TotalSeconds:0} s" : "the pinger's QEMU exited early";
            else if (last != LinePrefix + "done") failure = last.Trim();
            else if (pinger.Lines.FirstOrDefault(l => l.StartsWith(LinePrefix + "clocksource ", StringComparison.Ordinal)) is not string clock
                     || clock.Contains("jiffies", StringComparison.Ordinal))
                failure = "Linux's clocksource is not a fine one (jiffies?): ping's times would be in 4 ms steps";
            else
            {
                var lines = pinger.Lines;
                foreach (int size in sizes)
                {
                    var block = Block(lines, size);
                    if (block is null) { failure = $"no output for size {size}"; break; }
                    bySize[size] = PingOutput.Parse(block);
                }
            }
            if (failure is null)
            {
                File.Delete(responder.LogPath);
                File.Delete(pinger.LogPath);
            }
        }
        return new Result(bySize, failure);
    }

    /// <summary>The lines between `linux-bench: begin size=N` and `linux-bench: end size=N`; null when either is missing.</summary>
    public static IReadOnlyList<string>? Block(IReadOnlyList<string> lines, int size)
    {
        string begin = $"{LinePrefix}begin size={size}", end = $"{LinePrefix}end size={size}";
        int from = -1;
        for (int i = 0; i < lines.Count; i++)
        {
            if (from < 0 && lines[i] == begin) from = i + 1;
            else if (from >= 0 && lines[i] == end) return lines.Skip(from).Take(i - from).ToList();
        }
        return null;
    }

    private static bool IsFatal(string line) =>
        line.Contains("Kernel panic", StringComparison.Ordinal)
        || (line.StartsWith(LinePrefix, StringComparison.Ordinal) && (line.Contains(" failed", StringComparison.Ordinal) || line.Contains("never answered", StringComparison.Ordinal) || line.Contains("no eth0", StringComparison.Ordinal)));
}
