using System.Text;
using Tessera.Core.Boot;
using Tessera.Core.Cluster;
using Tessera.Core.Rpc;
using Xunit;

namespace Tessera.Tests.Host;

public sealed class ClusterTests
{
    private static ClusterConfig Parse(string line, NodeRole own = NodeRole.Processor) =>
        ClusterConfig.Parse(new CommandLine(Encoding.ASCII.GetBytes(line)), own);

    [Fact]
    public void ReadsNodeRoleAndPeersAndSkipsItself()
    {
        var c = Parse("kernel.elf node=1 role=processor peers=1:processor,2:memory,3:memory,4:storage selftest");
        Assert.Equal("", c.Problem);
        Assert.Equal(1, c.Node);
        Assert.Equal(3, c.PeerCount);
        Assert.Equal(new[] { (2, NodeRole.Memory), (3, NodeRole.Memory), (4, NodeRole.Storage) },
            c.Peers[..3].Select(p => ((int)p.Node, p.Role)).ToArray());
    }

    [Fact]
    public void WithoutNodeTheKernelIsStandalone()
    {
        var c = Parse("selftest");
        Assert.False(c.IsClustered);
        Assert.Equal("", c.Problem);
    }

    [Theory]
    [InlineData("node=0", "node= needs")]
    [InlineData("node=70000", "node= needs")]
    [InlineData("node=x", "node= needs")]
    [InlineData("node=1 role=memory", "role= does not match")]
    [InlineData("node=1 peers=2memory", "peers= entries")]
    [InlineData("node=1 peers=2:disk", "unknown role")]
    [InlineData("node=1 peers=2:memory,2:storage", "listed twice")]
    public void MalformedLinesSayWhatIsWrong(string line, string problem)
    {
        Assert.Contains(problem, Parse(line).Problem);
    }

    [Fact]
    public void HelloOverTheSimulatedNetworkNamesThePeer()
    {
        var net = new SimulatedNetwork(11) { DropRate = 0.3 };
        var processor = new RpcEndpoint(1, net.Attach(1), net.NewClock(), 100);
        var memory = new RpcEndpoint(2, net.Attach(2), net.NewClock(), 200);
        memory.Register(RpcOpcode.Hello, new HelloHandler(memory, NodeRole.Memory));
        net.AddEndpoint(processor);
        net.AddEndpoint(memory);
        var clock = net.NewClock();

        var ok = Hello.Greet(processor, clock, NodeRole.Processor, new Peer { Node = 2, Role = NodeRole.Memory }, clock.NowNanoseconds + 10_000_000_000);
        Assert.Equal(RpcStatus.Ok, ok.Status);
        Assert.Equal(NodeRole.Memory, ok.Role);
        Assert.True(ok.RoundTripNanoseconds > 0);

        // The wiring is wrong when the peer is not what the command line says.
        var wrong = Hello.Greet(processor, clock, NodeRole.Processor, new Peer { Node = 2, Role = NodeRole.Storage }, clock.NowNanoseconds + 10_000_000_000);
        Assert.Equal(RpcStatus.EINVAL, wrong.Status);

        // A node that never answers is reported once the deadline passes.
        var silent = Hello.Greet(processor, clock, NodeRole.Processor, new Peer { Node = 9, Role = NodeRole.Storage }, clock.NowNanoseconds + 2_000_000_000);
        Assert.Equal(RpcStatus.ETIMEDOUT, silent.Status);
    }
}
