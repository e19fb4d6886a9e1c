using FsCheck;
using FsCheck.Xunit;
using Tessera.Core.Rpc;
using Xunit;

namespace Tessera.Tests.Host;

/// <summary>
/// The RPC layer over a simulated link that drops, delays, duplicates and reorders:
/// every call gets the right reply or a clean timeout, and no request runs twice.
/// </summary>
public sealed class RpcReliabilityTests
{
    private sealed class Rig
    {
        public readonly SimulatedNetwork Net;
        public readonly RpcEndpoint Client, Server;
        public readonly EchoHandler Echo = new();

        public Rig(int seed, double drop = 0, double duplicate = 0, ulong maxDelay = 0)
        {
            Net = new SimulatedNetwork(seed) { DropRate = drop, DuplicateRate = duplicate, MaxDelayNanoseconds = maxDelay };
            Client = new RpcEndpoint(1, Net.Attach(1), Net.NewClock(), firstRequestId: 1000);
            Server = new RpcEndpoint(2, Net.Attach(2), Net.NewClock(), firstRequestId: 5000);
            Server.Register(RpcOpcode.Echo, Echo);
            Net.AddEndpoint(Client);
            Net.AddEndpoint(Server);
        }

        public (int Status, byte[] Reply) Call(byte[] payload, ushort opcode = RpcOpcode.Echo)
        {
            var reply = new byte[RpcMessage.MaxPayload];
            int status = Client.Call(2, opcode, payload, reply, out int length);
            return (status, reply[..length]);
        }
    }

    [Fact]
    public void EchoOverAPerfectLink()
    {
        var rig = new Rig(1);
        var (status, reply) = rig.Call([1, 2, 3]);
        Assert.Equal(RpcStatus.Ok, status);
        Assert.Equal(new byte[] { 1, 2, 3 }, reply);
        Assert.Equal(1, rig.Echo.Executions);
        Assert.Equal(0ul, rig.Client.Counters.Retransmissions);
    }

    [Fact]
    public void UnknownOpcodeGetsEnosys()
    {
        var rig = new Rig(2);
        Assert.Equal(RpcStatus.ENOSYS, rig.Call([9], opcode: 77).Status);
        Assert.Equal(1ul, rig.Server.Counters.UnknownOpcode);
    }

    [Fact]
    public void HandlerErrorsTravelAsErrorReplies()
    {
        var rig = new Rig(3);
        rig.Server.Register(RpcOpcode.Stat, new FailingHandler(RpcStatus.ENOENT));
        Assert.Equal(RpcStatus.ENOENT, rig.Call([1], opcode: RpcOpcode.Stat).Status);
    }

    [Fact]
    public void DeadPeerTimesOutAfterAllRetries()
    {
        var rig = new Rig(4, drop: 1.0);
        var (status, _) = rig.Call([1]);
        Assert.Equal(RpcStatus.ETIMEDOUT, status);
        Assert.Equal((ulong)(rig.Client.MaxAttempts - 1), rig.Client.Counters.Retransmissions);
        Assert.Equal(1ul, rig.Client.Counters.Timeouts);
    }

    [Property(MaxTest = 25)]
    public bool LossyLinkDeliversEveryReplyAndExecutesEachRequestOnce(int seed)
    {
        // 20% loss, 20% duplication, delays up to 3x the first timeout: heavy reordering.
        var rig = new Rig(seed, drop: 0.2, duplicate: 0.2, maxDelay: 15_000_000);
        rig.Client.MaxAttempts = 12;
        var random = new Random(seed);
        for (int i = 0; i < 40; i++)
        {
            var payload = new byte[random.Next(0, 4097)];
            random.NextBytes(payload);
            var (status, reply) = rig.Call(payload);
            if (status != RpcStatus.Ok || !reply.AsSpan().SequenceEqual(payload)) return false;
            if (rig.Echo.Executions != i + 1) return false; // at-most-once: one execution per call
        }
        return true;
    }

    [Fact]
    public void BurstOfDuplicatesIsAnsweredFromTheCacheNotReExecuted()
    {
        var rig = new Rig(5);
        // Capture the client's request frame by building the same one, then inject copies.
        var header = new RpcHeader { Flags = RpcFlags.Request, Opcode = RpcOpcode.Echo, Source = 7, Destination = 2, RequestId = 99, FragmentCount = 1 };
        var frame = new byte[RpcMessage.Overhead + 4];
        RpcMessage.Encode(frame, header, [5, 6, 7, 8]);
        for (int i = 0; i < 20; i++) rig.Net.Inject(frame);
        rig.Server.Poll();
        Assert.Equal(1, rig.Echo.Executions);
        Assert.Equal(19ul, rig.Server.Counters.DuplicatesAnswered);
        // ... and the server still serves a correct call afterwards.
        Assert.Equal(RpcStatus.Ok, rig.Call([1]).Status);
    }

    [Fact]
    public void MalformedFramesAreCountedAndTheServerKeepsServing()
    {
        var rig = new Rig(6);
        var good = new byte[RpcMessage.Overhead + 4];
        RpcMessage.Encode(good, new RpcHeader { Flags = RpcFlags.Request, Opcode = RpcOpcode.Echo, Source = 7, Destination = 2, RequestId = 1, FragmentCount = 1 }, [1, 2, 3, 4]);
        byte[] truncated = good[..20];
        byte[] badChecksum = (byte[])good.Clone(); badChecksum[^1] ^= 1;
        byte[] badVersion = (byte[])good.Clone(); badVersion[14] = 9;
        byte[] tooLong = (byte[])good.Clone(); tooLong[14 + 16] = 100;
        foreach (var f in new[] { truncated, badChecksum, badVersion, tooLong }) rig.Net.Inject(f);
        rig.Server.Poll();
        Assert.Equal(4ul, rig.Server.Counters.RejectedTotal);
        Assert.Equal(0, rig.Echo.Executions);
        Assert.Equal(RpcStatus.Ok, rig.Call([42]).Status);
    }

    [Fact]
    public void OldDuplicatesBeyondTheCacheAreDropped()
    {
        var rig = new Rig(7);
        for (int i = 0; i < ReplyCache.Depth + 3; i++) Assert.Equal(RpcStatus.Ok, rig.Call([(byte)i]).Status);
        int executions = rig.Echo.Executions;
        // Replay the client's first request id (1000): long evicted from the cache.
        var frame = new byte[RpcMessage.Overhead + 1];
        RpcMessage.Encode(frame, new RpcHeader { Flags = RpcFlags.Request, Opcode = RpcOpcode.Echo, Source = 1, Destination = 2, RequestId = 1000, FragmentCount = 1 }, [0]);
        rig.Net.Inject(frame);
        rig.Server.Poll();
        Assert.Equal(executions, rig.Echo.Executions);
        Assert.Equal(1ul, rig.Server.Counters.StaleDropped);
    }

    [Fact]
    public void ForgettingARestartedClientAcceptsItsIdsAgain()
    {
        var cache = new ReplyCache();
        for (ulong id = 1; id <= ReplyCache.Depth + 2; id++) cache.Store(9, id, 0, [(byte)id]);
        Assert.Equal(ReplyCache.Verdict.Stale, cache.Lookup(9, 1, out _, out _));
        cache.Forget(9);
        Assert.Equal(ReplyCache.Verdict.New, cache.Lookup(9, 1, out _, out _));
    }
}
