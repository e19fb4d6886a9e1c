using Tessera.Core.Rpc;
using Tessera.Tools;
using Tessera.Tools.Bench;
using Tessera.Tools.Qemu;
using Tessera.Tools.Rig;
using Xunit;
using Xunit.Abstractions;

namespace Tessera.Tests.Rig;

/// <summary>
/// Whole rigs: every component in its own VM on one loopback Ethernet segment, talking RPC
/// over virtio-net (issue 4). Logs go to out/test-logs/rig-*/.
/// </summary>
[Collection("rigs")] // one rig at a time: each is several TCG VMs on a 2-core machine
public sealed class RigTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Boot = TimeSpan.FromSeconds(120);

    private RigLauncher Launch(string name, RigConfig config) =>
        new(config, Repo.Path("out", "test-logs", "rig-" + name));

    private async Task<string> WaitForProcessorLine(RigLauncher rig, Func<string, bool> match, TimeSpan timeout)
    {
        QemuVm processor = rig.Vms[0];
        string? line = await processor.WaitForLineAsync(match, timeout);
        foreach (var vm in rig.Vms)
        {
            output.WriteLine($"--- {vm.LogPath}");
            foreach (var l in vm.Lines) output.WriteLine(l);
        }
        Assert.False(rig.AnyPanicked, "a VM panicked");
        Assert.True(line != null, "the processor never printed the expected line");
        return line!;
    }

    [Fact]
    public async Task DefaultRigBootsAndEveryPeerAnswersHello()
    {
        await using var rig = Launch("hello", new RigConfig());
        rig.Start();
        await WaitForProcessorLine(rig, l => l.StartsWith("cluster: ") && l.Contains(" peers answered"), Boot);
        var lines = rig.Vms[0].Lines;
        Assert.Contains("cluster: 2 of 2 peers answered", lines);
        Assert.Contains(lines, l => l.StartsWith("cluster:    2  memory     52:54:00:00:00:02  ") && l.EndsWith(" us"));
        Assert.Contains(lines, l => l.StartsWith("cluster:    3  storage    52:54:00:00:00:03  ") && l.EndsWith(" us"));
        foreach (var vm in rig.Vms.Skip(1)) Assert.Contains(vm.Lines, l => l.Contains("info: rpc: serving (receive interrupts)"));
    }

    [Fact]
    public async Task TwoMemoryComponentsJoinTheRig()
    {
        await using var rig = Launch("1p2m1s", new RigConfig { Memories = 2 });
        rig.Start();
        await WaitForProcessorLine(rig, l => l.Contains(" peers answered"), Boot);
        var lines = rig.Vms[0].Lines;
        Assert.Contains("cluster: 3 of 3 peers answered", lines);
        Assert.Contains(lines, l => l.StartsWith("cluster:    2  memory "));
        Assert.Contains(lines, l => l.StartsWith("cluster:    3  memory "));
        Assert.Contains(lines, l => l.StartsWith("cluster:    4  storage "));
    }

    [Fact]
    public async Task ANodeThatNeverAnswersIsReportedNotWaitedOn()
    {
        await using var rig = Launch("absent", new RigConfig { AbsentNodes = 1, Append = "hello_timeout=5" });
        rig.Start();
        await WaitForProcessorLine(rig, l => l.StartsWith("cluster: ") && l.Contains(" peers answered"), Boot);
        var lines = rig.Vms[0].Lines;
        Assert.Contains("cluster:    4  storage  did not answer", lines);
        Assert.Contains("cluster: 2 of 3 peers answered; the rest are reported above", lines);
        // ... and the processor goes on to serve RPCs.
        Assert.NotNull(await rig.Vms[0].WaitForLineAsync(l => l.Contains("info: rpc: serving"), Boot));
    }

    [Fact]
    public async Task TenThousandEchoCallsToEachPeerComeBackByteForByte()
    {
        await using var rig = Launch("echo", new RigConfig { Append = "rpc-test=10000" });
        rig.Start();
        await WaitForProcessorLine(rig, l => l == "rpc-test: done", TimeSpan.FromMinutes(10));
        var lines = rig.Vms[0].Lines;
        Assert.Contains(lines, l => l.StartsWith("rpc-test: node 2: 10000 ok, 0 mismatched, 0 failed,"));
        Assert.Contains(lines, l => l.StartsWith("rpc-test: node 3: 10000 ok, 0 mismatched, 0 failed,"));
    }

    [Fact]
    public async Task BenchRpcMeasuresEverySeriesWithEveryReplyChecked()
    {
        // The processor side of `./build.sh bench rpc` (kernel/Processor/RpcBenchmark.cs), small.
        await using var rig = Launch("bench-rpc", new RigConfig { Storages = 0, Append = "bench=rpc bench_calls=300 bench_warmup=20 bench_seconds=1" });
        rig.Start();
        await WaitForProcessorLine(rig, l => l == "bench: done", TimeSpan.FromMinutes(5));
        var lines = rig.Vms[0].Lines;
        Assert.Contains("bench: start node=2 calls=300 warmup=20 seconds=1", lines);
        foreach (var (name, payload, replySize) in new[] { ("echo-64", 64ul, 64ul), ("echo-4096", 4096ul, 4096ul), ("page", 8ul, 4096ul) })
        {
            var line = BenchLine.Find(lines, "rtt", name);
            Assert.True(line != null, $"no rtt line for {name}");
            Assert.Equal(payload, line!.Number("payload"));
            Assert.Equal(replySize, line.Number("reply"));
            Assert.Equal(0ul, line.Number("failures"));
            Assert.Equal(0ul, line.Number("mismatches"));   // every reply compared byte for byte
            if (name != "page") Assert.Equal(300ul, line.Number("samples"));
            Assert.InRange(line.Number("samples"), 1ul, 300ul);
            // Percentiles of sorted samples come in order.
            ulong[] ordered = [.. new[] { "min", "p1", "p10", "p25", "p50", "p75", "p90", "p99", "p999", "max" }.Select(line.Number)];
            Assert.True(ordered[0] > 0, "a round trip of zero nanoseconds");
            Assert.Equal(ordered.Order(), ordered);
            Assert.InRange(line.Number("mean"), ordered[0], ordered[^1]);
        }
        var throughput = BenchLine.Find(lines, "throughput", "page")!;
        Assert.Equal(0ul, throughput.Number("failures") + throughput.Number("mismatches"));
        Assert.Equal(throughput.Number("calls") * 4096, throughput.Number("bytes"));
        Assert.True(throughput.Number("ns") >= 1_000_000_000ul, "the throughput loop runs for bench_seconds");
        foreach (var cost in new[] { "crc32c-64", "encode-4096", "decode-4096", "memmove-4096", "queue-notify", "empty-poll" })
            Assert.Contains(lines, l => l.StartsWith($"bench: cost name={cost} ns=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task MalformedFramesAreCountedAndDroppedAndDuplicatesAreNotReExecuted()
    {
        await using var rig = Launch("bad-input", new RigConfig());
        rig.Start();
        await WaitForProcessorLine(rig, l => l.Contains(" peers answered"), Boot);

        using var link = new MulticastLink(rig.MulticastPort);
        const ushort host = 100;
        var endpoint = new RpcEndpoint(host, link, new StopwatchClock(), (ulong)Environment.TickCount64 << 16)
        {
            InitialTimeoutNanoseconds = 50_000_000,
        };
        var reply = new byte[RpcMessage.MaxPayload];

        foreach (var node in rig.Nodes)
        {
            ulong retransmittedBefore = endpoint.Counters.Retransmissions;
            byte[] before = Stats(endpoint, node.Id, reply);

            // One frame of each malformed kind, then 20 copies of one real echo request.
            ulong id = 7_000_000UL + node.Id;
            foreach (var kind in Enum.GetValues<FrameInjector.Kind>())
                Assert.True(link.Send(FrameInjector.Malformed(kind, host, node.Id, id++)));
            byte[] real = FrameInjector.ValidRequest(host, node.Id, RpcOpcode.Echo, id, "once"u8);
            for (int i = 0; i < 20; i++) Assert.True(link.Send(real));

            // A correct RPC afterwards proves the component alive; its counters tell the rest.
            Assert.Equal(RpcStatus.Ok, endpoint.Call(node.Id, RpcOpcode.Echo, "alive?"u8, reply, out int length));
            Assert.Equal("alive?"u8.ToArray(), reply[..length]);
            byte[] after = Stats(endpoint, node.Id, reply);

            ulong Delta(StatsField f) => StatsHandler.Get(after, f) - StatsHandler.Get(before, f);
            output.WriteLine($"node {node.Id}: " + string.Join(", ", Enum.GetValues<StatsField>().Where(f => f != StatsField.Count).Select(f => $"{f}+{Delta(f)}")));
            Assert.Equal(1ul, Delta(StatsField.RejectedTooShort));
            Assert.Equal(1ul, Delta(StatsField.RejectedBadChecksum));
            Assert.Equal(1ul, Delta(StatsField.RejectedBadLength));
            Assert.Equal(1ul, Delta(StatsField.RejectedBadVersion));
            Assert.Equal(1ul, Delta(StatsField.UnknownOpcode));
            // The duplicated request ran once (plus the "alive?" call); its 19 copies came from the
            // cache, as did any retransmission the host's own calls needed on the busy machine.
            ulong retransmitted = endpoint.Counters.Retransmissions - retransmittedBefore;
            Assert.Equal(2ul, Delta(StatsField.EchoServed));
            Assert.InRange(Delta(StatsField.DuplicatesAnswered), 19ul, 19ul + retransmitted);
        }
        Assert.False(rig.AnyPanicked);
    }

    private static byte[] Stats(RpcEndpoint endpoint, ushort node, byte[] reply)
    {
        Assert.Equal(RpcStatus.Ok, endpoint.Call(node, RpcOpcode.Stats, [], reply, out int length));
        return reply[..length];
    }
}

[CollectionDefinition("rigs", DisableParallelization = true)]
public sealed class RigCollection;
