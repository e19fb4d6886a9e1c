// The HELLO exchange (membership). A node asks each peer "who are you?"; the reply names
// the peer's node id and role and the request must reach the right machine, so a reply
// proves the link and the peer's RPC server work. A HELLO also tells the server that
// the caller (re)started: it forgets the caller's cached replies (ReplyCache).
//
// Payload, request and reply: u16 node | u8 role | u8 version (little-endian).
// Pure logic: compiled into the kernels and the host tests.
using System;
using Tessera.Core.Rpc;

namespace Tessera.Core.Cluster
{
    public sealed class HelloHandler : RpcHandler
    {
        private readonly RpcEndpoint _endpoint;
        private readonly NodeRole _role;

        public HelloHandler(RpcEndpoint endpoint, NodeRole role)
        {
            _endpoint = endpoint;
            _role = role;
        }

        public override int Handle(ushort source, ReadOnlySpan<byte> request, Span<byte> reply, out int replyLength)
        {
            replyLength = 0;
            if (request.Length < 4) return RpcStatus.EINVAL;
            _endpoint.ForgetClient(source);
            Hello.Write(reply, _endpoint.Node, _role);
            replyLength = Hello.Size;
            return RpcStatus.Ok;
        }
    }

    public struct HelloResult
    {
        public ushort Node;
        public NodeRole ExpectedRole;
        public NodeRole Role;
        public int Status;                // RpcStatus.Ok, or why it failed
        public ulong RoundTripNanoseconds;
        public int Attempts;
    }

    public static class Hello
    {
        public const int Size = 4;
        public const byte Version = 1;

        public static void Write(Span<byte> b, ushort node, NodeRole role)
        {
            b[0] = (byte)node; b[1] = (byte)(node >> 8); b[2] = (byte)role; b[3] = Version;
        }

        /// <summary>
        /// Says HELLO to one peer, retrying whole calls until deadline. A reply from the wrong
        /// node id or role is an error (-EINVAL): the rig is wired wrongly.
        /// </summary>
        public static HelloResult Greet(RpcEndpoint endpoint, RpcClock clock, NodeRole ownRole, Peer peer, ulong deadlineNanoseconds)
        {
            var result = new HelloResult { Node = peer.Node, ExpectedRole = peer.Role, Status = RpcStatus.ETIMEDOUT };
            Span<byte> request = stackalloc byte[Size];
            Write(request, endpoint.Node, ownRole);
            byte[] reply = new byte[16];
            while (clock.NowNanoseconds < deadlineNanoseconds)
            {
                result.Attempts++;
                ulong start = clock.NowNanoseconds;
                int status = endpoint.Call(peer.Node, RpcOpcode.Hello, request, reply, out int length);
                ulong took = clock.NowNanoseconds - start;
                if (status == RpcStatus.ETIMEDOUT) continue;
                result.RoundTripNanoseconds = took;
                if (status != RpcStatus.Ok) { result.Status = status; return result; }
                if (length < Size) { result.Status = RpcStatus.EINVAL; return result; }
                ushort node = (ushort)(reply[0] | (reply[1] << 8));
                result.Role = (NodeRole)reply[2];
                result.Status = node == peer.Node && result.Role == peer.Role ? RpcStatus.Ok : RpcStatus.EINVAL;
                return result;
            }
            return result;
        }
    }
}
