// The STATS opcode: a server's RPC counters, so a host tool can check from outside that
// malformed frames were counted and duplicates answered from the cache, not re-executed.
//
// Reply: a sequence of little-endian u64 in the order of StatsField.
// Pure logic: compiled into the kernels and the host tests.
using System;

namespace Tessera.Core.Rpc
{
    public enum StatsField
    {
        FramesReceived, FramesSent, Ignored,
        RejectedTooShort, RejectedBadVersion, RejectedBadFlags, RejectedBadLength, RejectedBadChecksum,
        RejectedNotForUs, RejectedBadFragment,
        RequestsServed, DuplicatesAnswered, StaleDropped, UnknownOpcode,
        EchoServed, HelloServed,
        Count,
    }

    public sealed class StatsHandler : RpcHandler
    {
        private readonly RpcCounters _counters;

        public StatsHandler(RpcCounters counters) { _counters = counters; }

        public override int Handle(ushort source, ReadOnlySpan<byte> request, Span<byte> reply, out int replyLength)
        {
            RpcCounters c = _counters;
            Put(reply, StatsField.FramesReceived, c.FramesReceived);
            Put(reply, StatsField.FramesSent, c.FramesSent);
            Put(reply, StatsField.Ignored, c.Ignored);
            Put(reply, StatsField.RejectedTooShort, c.Rejected[(int)RpcDecodeError.TooShort]);
            Put(reply, StatsField.RejectedBadVersion, c.Rejected[(int)RpcDecodeError.BadVersion]);
            Put(reply, StatsField.RejectedBadFlags, c.Rejected[(int)RpcDecodeError.BadFlags]);
            Put(reply, StatsField.RejectedBadLength, c.Rejected[(int)RpcDecodeError.BadLength]);
            Put(reply, StatsField.RejectedBadChecksum, c.Rejected[(int)RpcDecodeError.BadChecksum]);
            Put(reply, StatsField.RejectedNotForUs, c.Rejected[(int)RpcDecodeError.NotForUs]);
            Put(reply, StatsField.RejectedBadFragment, c.Rejected[(int)RpcDecodeError.BadFragment]);
            Put(reply, StatsField.RequestsServed, c.RequestsServed);
            Put(reply, StatsField.DuplicatesAnswered, c.DuplicatesAnswered);
            Put(reply, StatsField.StaleDropped, c.StaleDropped);
            Put(reply, StatsField.UnknownOpcode, c.UnknownOpcode);
            Put(reply, StatsField.EchoServed, c.ServedByOpcode[RpcOpcode.Echo]);
            Put(reply, StatsField.HelloServed, c.ServedByOpcode[RpcOpcode.Hello]);
            replyLength = (int)StatsField.Count * 8;
            return RpcStatus.Ok;
        }

        private static void Put(Span<byte> reply, StatsField field, ulong value) => RpcMessage.Put64(reply, (int)field * 8, value);

        public static ulong Get(ReadOnlySpan<byte> reply, StatsField field) =>
            (int)field * 8 + 8 <= reply.Length ? RpcMessage.Get64(reply, (int)field * 8) : 0;
    }

    /// <summary>The ECHO opcode: the reply is the request (tests and benchmarks).</summary>
    public sealed class EchoService : RpcHandler
    {
        public override int Handle(ushort source, ReadOnlySpan<byte> request, Span<byte> reply, out int replyLength)
        {
            request.CopyTo(reply);
            replyLength = request.Length;
            return RpcStatus.Ok;
        }
    }
}
