using Tessera.Core.Rpc;

namespace Tessera.Tools.Rig;

/// <summary>
/// Bad input for a rig (issue 4, item 5): frames that are truncated, carry a bad checksum,
/// an unknown opcode, a length larger than the frame, a wrong version, and a burst of
/// duplicates of one real request. Each frame is built from a correct one, so exactly one
/// thing is wrong with it.
/// </summary>
public static class FrameInjector
{
    public enum Kind { Truncated, BadChecksum, UnknownOpcode, LengthPastFrame, WrongVersion }

    public static byte[] ValidRequest(ushort source, ushort destination, ushort opcode, ulong requestId, ReadOnlySpan<byte> payload)
    {
        var header = new RpcHeader
        {
            Flags = RpcFlags.Request, Opcode = opcode, Source = source, Destination = destination,
            RequestId = requestId, FragmentCount = 1,
        };
        var frame = new byte[RpcMessage.Overhead + payload.Length];
        RpcMessage.Encode(frame, header, payload);
        return frame;
    }

    public static byte[] Malformed(Kind kind, ushort source, ushort destination, ulong requestId)
    {
        byte[] good = ValidRequest(source, destination, RpcOpcode.Echo, requestId, "malformed?"u8);
        switch (kind)
        {
            case Kind.Truncated:
                return good[..(RpcMessage.Overhead - 7)];
            case Kind.BadChecksum:
                good[^1] ^= 0x5A;
                return good;
            case Kind.UnknownOpcode:
                // Well-formed, checksum and all: the server must answer -ENOSYS, not crash.
                return ValidRequest(source, destination, 0x7E, requestId, "?"u8);
            case Kind.LengthPastFrame:
                RpcMessage.Put32(good.AsSpan(RpcMessage.EthernetHeaderSize), 16, 4000);
                return good;
            case Kind.WrongVersion:
                good[RpcMessage.EthernetHeaderSize] = RpcMessage.Version + 1;
                return good;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }
}
