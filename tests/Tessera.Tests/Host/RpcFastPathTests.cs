using FsCheck;
using FsCheck.Xunit;
using Tessera.Core.Rpc;
using Xunit;

namespace Tessera.Tests.Host;

/// <summary>
/// What the RPC fast path was rewritten for speed (docs/bench-rpc.md) must still compute what it
/// did: slicing-by-8 CRC-32C against the byte-at-a-time reference, the reply copied straight
/// into the caller's buffer (and refused when it does not fit), and the PAGE service.
/// </summary>
public sealed class RpcFastPathTests
{
    [Property(MaxTest = 300)]
    public void SlicingBy8EqualsTheBytewiseCrc(byte[] data, uint seed, byte offset)
    {
        // Any start offset within the array, so 8-byte words are read unaligned too.
        int start = data.Length == 0 ? 0 : offset % data.Length;
        var span = new ReadOnlySpan<byte>(data, start, data.Length - start);
        Assert.Equal(Crc32c.UpdateBytewise(seed, span), Crc32c.Update(seed, span));
    }

    [Fact]
    public void EveryLengthAroundTheEightByteRoundsMatches()
    {
        var random = new Random(7);
        var data = new byte[80];
        random.NextBytes(data);
        for (int length = 0; length <= 80; length++)
            Assert.Equal(Crc32c.UpdateBytewise(Crc32c.Begin, data.AsSpan(0, length)), Crc32c.Update(Crc32c.Begin, data.AsSpan(0, length)));
        // The check value of RFC 3720 B.4, through both: "123456789" is 9 bytes, one round and a tail.
        Assert.Equal(0xE3069283u, Crc32c.End(Crc32c.UpdateBytewise(Crc32c.Begin, "123456789"u8)));
        Assert.Equal(0xE3069283u, Crc32c.Compute("123456789"u8));
    }

    [Fact]
    public void CrcCanBeContinuedAcrossPieces()
    {
        var data = new byte[4096];
        new Random(3).NextBytes(data);
        uint whole = Crc32c.Compute(data);
        uint pieces = Crc32c.End(Crc32c.Update(Crc32c.Update(Crc32c.Begin, data.AsSpan(0, 13)), data.AsSpan(13)));
        Assert.Equal(whole, pieces);
    }

    private sealed class Pair
    {
        public readonly RpcEndpoint Client, Server;

        public Pair()
        {
            var net = new SimulatedNetwork(11);
            Client = new RpcEndpoint(1, net.Attach(1), net.NewClock(), firstRequestId: 100);
            Server = new RpcEndpoint(2, net.Attach(2), net.NewClock(), firstRequestId: 900);
            Server.Register(RpcOpcode.Echo, new EchoService());
            Server.Register(RpcOpcode.Page, new PageService());
            net.AddEndpoint(Client);
            net.AddEndpoint(Server);
        }
    }

    [Fact]
    public void PageServiceReturnsTheAskedPage()
    {
        var pair = new Pair();
        var request = new byte[PageService.RequestSize];
        var reply = new byte[PageService.PageSize];
        for (ulong page = 1; page <= 3; page++)
        {
            RpcMessage.Put64(request, 0, page * 0x1_0000_0001);
            Assert.Equal(RpcStatus.Ok, pair.Client.Call(2, RpcOpcode.Page, request, reply, out int length));
            Assert.Equal(PageService.PageSize, length);
            Assert.Equal(page * 0x1_0000_0001, RpcMessage.Get64(reply, 0));
            for (int i = PageService.RequestSize; i < PageService.PageSize; i++) Assert.Equal(PageService.ContentAt(i), reply[i]);
        }
        // Anything but an 8-byte page number is refused.
        Assert.Equal(RpcStatus.EINVAL, pair.Client.Call(2, RpcOpcode.Page, new byte[3], reply, out _));
    }

    [Fact]
    public void AReplyLargerThanTheCallersBufferIsRefusedNotTruncated()
    {
        var pair = new Pair();
        var payload = new byte[100];
        new Random(5).NextBytes(payload);
        var small = new byte[99];
        Assert.Equal(RpcStatus.EMSGSIZE, pair.Client.Call(2, RpcOpcode.Echo, payload, small, out int length));
        Assert.Equal(0, length);
        Assert.All(small, b => Assert.Equal(0, b));
        // A buffer of exactly the reply's size is enough, and the next call works as before.
        var exact = new byte[100];
        Assert.Equal(RpcStatus.Ok, pair.Client.Call(2, RpcOpcode.Echo, payload, exact, out length));
        Assert.Equal(100, length);
        Assert.Equal(payload, exact);
    }
}
