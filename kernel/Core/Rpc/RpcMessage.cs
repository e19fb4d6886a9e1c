// The RPC wire format (DESIGN §5). Every message is one Ethernet frame:
//
//   Ethernet: dst MAC (6) | src MAC (6) | EtherType 0x88B5 (2, big-endian: IEEE 802
//             "local experimental"), then the RPC header, little-endian:
//
//   off size field
//    0   1   version        (RpcMessage.Version; a different one is rejected)
//    1   1   flags          (Request, Reply, Error, Fragment)
//    2   2   opcode         (RpcOpcode)
//    4   2   source node
//    6   2   destination node
//    8   8   request id     (chosen by the client, unique per client; a reply carries it back)
//   16   4   payload length (bytes after the header in this frame)
//   20   4   status         (0, or a negative errno in an error reply)
//   24   2   fragment index
//   26   2   fragment count (1 for an unfragmented message)
//   28   4   checksum       (CRC-32C of header with this field zero, then the payload)
//   32   ... payload
//
// MACs are 52:54:00:00:00:NN for node NN (QEMU's locally administered prefix).
// A 4 KiB page plus the header fits one frame: QEMU's socket and dgram netdevs carry
// frames of any size, so no fragmentation is needed inside a rig (the flag and fields
// are reserved for links with a smaller MTU).
// Pure logic: compiled into the kernels and the host tests.
using System;

namespace Tessera.Core.Rpc
{
    public static class RpcFlags
    {
        public const byte Request = 1;
        public const byte Reply = 2;
        public const byte Error = 4;
        public const byte Fragment = 8;
        public const byte Known = Request | Reply | Error | Fragment;
    }

    /// <summary>Why a frame was not accepted (each is counted by the endpoint).</summary>
    public enum RpcDecodeError
    {
        None,
        NotOurEtherType,   // some other protocol on the segment: ignored silently
        TooShort,          // shorter than Ethernet + RPC header
        BadVersion,
        BadFlags,          // unknown flag bits, or neither/both of request and reply
        BadLength,         // payload length larger than the frame or than MaxPayload
        BadChecksum,
        NotForUs,          // destination node is another node
        BadFragment,       // fragment index/count inconsistent
    }

    public struct RpcHeader
    {
        public byte Flags;
        public ushort Opcode;
        public ushort Source;
        public ushort Destination;
        public ulong RequestId;
        public uint PayloadLength;
        public int Status;
        public ushort FragmentIndex;
        public ushort FragmentCount;

        public bool IsRequest => (Flags & RpcFlags.Request) != 0;
        public bool IsReply => (Flags & RpcFlags.Reply) != 0;
        public bool IsError => (Flags & RpcFlags.Error) != 0;
    }

    public static class RpcMessage
    {
        public const byte Version = 1;
        public const ushort EtherType = 0x88B5;
        public const int EthernetHeaderSize = 14;
        public const int HeaderSize = 32;
        public const int Overhead = EthernetHeaderSize + HeaderSize;
        /// <summary>Largest payload: a 4 KiB page plus 4 KiB of arguments.</summary>
        public const int MaxPayload = 8192;
        public const int MaxFrame = Overhead + MaxPayload;

        /// <summary>Writes node's MAC address, 52:54:00:00:NN_hi:NN_lo.</summary>
        public static void WriteMac(Span<byte> destination, ushort node)
        {
            destination[0] = 0x52; destination[1] = 0x54; destination[2] = 0x00; destination[3] = 0x00;
            destination[4] = (byte)(node >> 8); destination[5] = (byte)node;
        }

        /// <summary>The node id of a Tessera MAC, or -1 for any other address.</summary>
        public static int NodeOfMac(ReadOnlySpan<byte> mac)
        {
            if (mac.Length < 6 || mac[0] != 0x52 || mac[1] != 0x54 || mac[2] != 0 || mac[3] != 0) return -1;
            return (mac[4] << 8) | mac[5];
        }

        /// <summary>
        /// Builds a complete frame (Ethernet + header + payload) into frame and returns its length,
        /// or -1 when the payload is too large or frame too small.
        /// </summary>
        public static int Encode(Span<byte> frame, in RpcHeader header, ReadOnlySpan<byte> payload)
        {
            if (payload.Length > MaxPayload || frame.Length < Overhead + payload.Length) return -1;
            WriteMac(frame, header.Destination);
            WriteMac(frame.Slice(6), header.Source);
            frame[12] = (byte)(EtherType >> 8);
            frame[13] = (byte)(EtherType & 0xFF);

            Span<byte> h = frame.Slice(EthernetHeaderSize, HeaderSize);
            h[0] = Version;
            h[1] = header.Flags;
            Put16(h, 2, header.Opcode);
            Put16(h, 4, header.Source);
            Put16(h, 6, header.Destination);
            Put64(h, 8, header.RequestId);
            Put32(h, 16, (uint)payload.Length);
            Put32(h, 20, (uint)header.Status);
            Put16(h, 24, header.FragmentIndex);
            Put16(h, 26, header.FragmentCount == 0 ? (ushort)1 : header.FragmentCount);
            Put32(h, 28, 0);
            payload.CopyTo(frame.Slice(Overhead));
            uint crc = Crc32c.Update(Crc32c.Begin, h);
            crc = Crc32c.End(Crc32c.Update(crc, payload));
            Put32(h, 28, crc);
            return Overhead + payload.Length;
        }

        /// <summary>
        /// Validates a received frame and reads its header. The payload is
        /// frame[Overhead .. Overhead + header.PayloadLength). Never throws.
        /// </summary>
        public static RpcDecodeError Decode(ReadOnlySpan<byte> frame, out RpcHeader header)
        {
            header = default;
            if (frame.Length < EthernetHeaderSize) return RpcDecodeError.TooShort;
            if (((frame[12] << 8) | frame[13]) != EtherType) return RpcDecodeError.NotOurEtherType;
            if (frame.Length < Overhead) return RpcDecodeError.TooShort;
            ReadOnlySpan<byte> h = frame.Slice(EthernetHeaderSize, HeaderSize);
            if (h[0] != Version) return RpcDecodeError.BadVersion;

            header.Flags = h[1];
            header.Opcode = Get16(h, 2);
            header.Source = Get16(h, 4);
            header.Destination = Get16(h, 6);
            header.RequestId = Get64(h, 8);
            header.PayloadLength = Get32(h, 16);
            header.Status = (int)Get32(h, 20);
            header.FragmentIndex = Get16(h, 24);
            header.FragmentCount = Get16(h, 26);

            if ((header.Flags & ~RpcFlags.Known) != 0 || header.IsRequest == header.IsReply) return RpcDecodeError.BadFlags;
            if (header.IsError && !header.IsReply) return RpcDecodeError.BadFlags;
            if (header.PayloadLength > MaxPayload || header.PayloadLength > (uint)(frame.Length - Overhead)) return RpcDecodeError.BadLength;
            if (header.FragmentCount == 0 || header.FragmentIndex >= header.FragmentCount) return RpcDecodeError.BadFragment;

            // The checksum covers the header with its checksum field taken as zero.
            uint expected = Get32(h, 28);
            uint crc = Crc32c.Update(Crc32c.Begin, h.Slice(0, 28));
            crc = Crc32c.Update(crc, s_zero4);
            crc = Crc32c.End(Crc32c.Update(crc, frame.Slice(Overhead, (int)header.PayloadLength)));
            if (crc != expected) return RpcDecodeError.BadChecksum;
            return RpcDecodeError.None;
        }

        private static readonly byte[] s_zero4 = new byte[4];

        public static void Put16(Span<byte> b, int o, ushort v) { b[o] = (byte)v; b[o + 1] = (byte)(v >> 8); }
        public static void Put32(Span<byte> b, int o, uint v) { b[o] = (byte)v; b[o + 1] = (byte)(v >> 8); b[o + 2] = (byte)(v >> 16); b[o + 3] = (byte)(v >> 24); }
        public static void Put64(Span<byte> b, int o, ulong v) { Put32(b, o, (uint)v); Put32(b, o + 4, (uint)(v >> 32)); }
        public static ushort Get16(ReadOnlySpan<byte> b, int o) => (ushort)(b[o] | (b[o + 1] << 8));
        public static uint Get32(ReadOnlySpan<byte> b, int o) => (uint)(b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24));
        public static ulong Get64(ReadOnlySpan<byte> b, int o) => Get32(b, o) | ((ulong)Get32(b, o + 4) << 32);
    }
}
