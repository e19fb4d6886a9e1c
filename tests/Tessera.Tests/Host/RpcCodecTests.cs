using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Tessera.Core.Rpc;
using Xunit;

namespace Tessera.Tests.Host;

public sealed class RpcCodecTests
{
    private static RpcHeader Request(ushort src = 1, ushort dst = 2, ushort opcode = RpcOpcode.Echo, ulong id = 42) => new()
    {
        Flags = RpcFlags.Request, Opcode = opcode, Source = src, Destination = dst, RequestId = id, FragmentCount = 1,
    };

    private static byte[] Frame(RpcHeader h, byte[] payload)
    {
        var frame = new byte[RpcMessage.Overhead + payload.Length];
        Assert.Equal(frame.Length, RpcMessage.Encode(frame, h, payload));
        return frame;
    }

    [Fact]
    public void Crc32cMatchesTheStandardCheckValue()
    {
        // RFC 3720 (iSCSI) appendix B.4: CRC-32C of "123456789" is 0xE3069283.
        Assert.Equal(0xE3069283u, Crc32c.Compute("123456789"u8));
    }

    [Fact]
    public void FrameLayoutIsAsDocumented()
    {
        byte[] frame = Frame(Request(src: 3, dst: 0x0102, id: 0x1122334455667788), [0xAA, 0xBB]);
        Assert.Equal(new byte[] { 0x52, 0x54, 0, 0, 0x01, 0x02 }, frame[..6]);
        Assert.Equal(new byte[] { 0x52, 0x54, 0, 0, 0, 3 }, frame[6..12]);
        Assert.Equal(0x88, frame[12]);
        Assert.Equal(0xB5, frame[13]);
        Assert.Equal(RpcMessage.Version, frame[14]);
        Assert.Equal(RpcFlags.Request, frame[15]);
        Assert.Equal(0x88, frame[14 + 8]);               // request id, little-endian
        Assert.Equal(2, frame[14 + 16]);                 // payload length
        Assert.Equal(1, frame[14 + 26]);                 // fragment count
        Assert.Equal(0xAA, frame[RpcMessage.Overhead]);
        Assert.Equal(RpcMessage.Overhead + 2, frame.Length);
    }

    [Property(MaxTest = 300)]
    public bool RoundTripPreservesHeaderAndPayload(ushort src, ushort dst, ushort opcode, ulong id, bool reply, bool error, int status, byte[] payload)
    {
        payload ??= [];
        if (payload.Length > RpcMessage.MaxPayload) payload = payload[..RpcMessage.MaxPayload];
        var h = new RpcHeader
        {
            Flags = reply ? (byte)(RpcFlags.Reply | (error ? RpcFlags.Error : 0)) : RpcFlags.Request,
            Opcode = opcode, Source = src, Destination = dst, RequestId = id, Status = status, FragmentCount = 1,
        };
        byte[] frame = Frame(h, payload);
        return RpcMessage.Decode(frame, out var d) == RpcDecodeError.None
            && d.Flags == h.Flags && d.Opcode == opcode && d.Source == src && d.Destination == dst
            && d.RequestId == id && d.Status == status && d.PayloadLength == (uint)payload.Length
            && frame.AsSpan(RpcMessage.Overhead).SequenceEqual(payload);
    }

    [Fact]
    public void FourKiBPageTravelsInOneFrame()
    {
        var page = new byte[4096];
        new Random(1).NextBytes(page);
        byte[] frame = Frame(Request(), page);
        Assert.Equal(RpcDecodeError.None, RpcMessage.Decode(frame, out var h));
        Assert.Equal(4096u, h.PayloadLength);
    }

    [Fact]
    public void OversizedPayloadIsRefusedByTheEncoder()
    {
        var frame = new byte[RpcMessage.MaxFrame + 16];
        Assert.Equal(-1, RpcMessage.Encode(frame, Request(), new byte[RpcMessage.MaxPayload + 1]));
        Assert.Equal(-1, RpcMessage.Encode(new byte[RpcMessage.Overhead + 3], Request(), new byte[4]));
    }

    [Fact]
    public void EveryMalformedFormIsRejectedWithItsReason()
    {
        byte[] good = Frame(Request(), [1, 2, 3, 4]);
        Assert.Equal(RpcDecodeError.None, RpcMessage.Decode(good, out _));

        Assert.Equal(RpcDecodeError.TooShort, RpcMessage.Decode(good.AsSpan(0, 10), out _));
        Assert.Equal(RpcDecodeError.TooShort, RpcMessage.Decode(good.AsSpan(0, RpcMessage.Overhead - 1), out _));

        byte[] otherProtocol = (byte[])good.Clone(); otherProtocol[12] = 0x08; otherProtocol[13] = 0x00;
        Assert.Equal(RpcDecodeError.NotOurEtherType, RpcMessage.Decode(otherProtocol, out _));

        byte[] version = (byte[])good.Clone(); version[14] = 2;
        Assert.Equal(RpcDecodeError.BadVersion, RpcMessage.Decode(version, out _));

        byte[] unknownFlag = (byte[])good.Clone(); unknownFlag[15] |= 0x80;
        Assert.Equal(RpcDecodeError.BadFlags, RpcMessage.Decode(unknownFlag, out _));
        byte[] bothKinds = (byte[])good.Clone(); bothKinds[15] = RpcFlags.Request | RpcFlags.Reply;
        Assert.Equal(RpcDecodeError.BadFlags, RpcMessage.Decode(bothKinds, out _));
        byte[] neither = (byte[])good.Clone(); neither[15] = 0;
        Assert.Equal(RpcDecodeError.BadFlags, RpcMessage.Decode(neither, out _));
        byte[] errorRequest = (byte[])good.Clone(); errorRequest[15] = RpcFlags.Request | RpcFlags.Error;
        Assert.Equal(RpcDecodeError.BadFlags, RpcMessage.Decode(errorRequest, out _));

        byte[] longer = (byte[])good.Clone(); longer[14 + 16] = 200;   // claims more than the frame holds
        Assert.Equal(RpcDecodeError.BadLength, RpcMessage.Decode(longer, out _));
        byte[] huge = (byte[])good.Clone(); huge[14 + 19] = 0x7F;
        Assert.Equal(RpcDecodeError.BadLength, RpcMessage.Decode(huge, out _));

        byte[] fragment = (byte[])good.Clone(); fragment[14 + 24] = 1;  // index 1 of 1
        Assert.Equal(RpcDecodeError.BadFragment, RpcMessage.Decode(fragment, out _));

        byte[] payloadFlip = (byte[])good.Clone(); payloadFlip[^1] ^= 0x01;
        Assert.Equal(RpcDecodeError.BadChecksum, RpcMessage.Decode(payloadFlip, out _));
        byte[] idFlip = (byte[])good.Clone(); idFlip[14 + 9] ^= 0x10;
        Assert.Equal(RpcDecodeError.BadChecksum, RpcMessage.Decode(idFlip, out _));
    }

    [Property(MaxTest = 500)]
    public bool AnyByteStringDecodesWithoutThrowing(byte[] junk)
    {
        junk ??= [];
        RpcMessage.Decode(junk, out _);
        // With our EtherType in place the header checks are reached too.
        if (junk.Length > 14) { junk[12] = 0x88; junk[13] = 0xB5; }
        return RpcMessage.Decode(junk, out _) != RpcDecodeError.None || junk.Length >= RpcMessage.Overhead;
    }

    [Property(MaxTest = 300)]
    public bool AnySingleBitFlipIsDetected(byte[] payload, PositiveInt position)
    {
        payload ??= [];
        if (payload.Length > 512) payload = payload[..512];
        byte[] frame = Frame(Request(), payload);
        int bit = position.Get % ((frame.Length - 14) * 8);
        frame[14 + bit / 8] ^= (byte)(1 << (bit % 8));
        return RpcMessage.Decode(frame, out _) != RpcDecodeError.None;
    }

    [Fact]
    public void MacAddressesMapToNodeIds()
    {
        Span<byte> mac = stackalloc byte[6];
        RpcMessage.WriteMac(mac, 0x0203);
        Assert.Equal(0x0203, RpcMessage.NodeOfMac(mac));
        Assert.Equal(-1, RpcMessage.NodeOfMac(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF }));
    }
}
