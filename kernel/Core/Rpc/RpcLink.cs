// What the RPC layer needs from below: a way to move frames and a clock.
// The kernels implement these over virtio-net and the TSC; the host tests over a
// simulated network that drops, delays, duplicates and reorders.
using System;

namespace Tessera.Core.Rpc
{
    public abstract class RpcLink
    {
        /// <summary>Queues one frame for sending; false when the device cannot take it now.</summary>
        public abstract bool Send(ReadOnlySpan<byte> frame);

        /// <summary>Copies one received frame into buffer and returns its length; 0 when none is waiting.</summary>
        public abstract int Receive(Span<byte> buffer);
    }

    public abstract class RpcClock
    {
        public abstract ulong NowNanoseconds { get; }
    }

    /// <summary>Serves one opcode. Runs on the receive path: it must not block.</summary>
    public abstract class RpcHandler
    {
        /// <summary>
        /// Handles a request from node source. Writes the reply payload into reply and its
        /// length into replyLength; returns RpcStatus.Ok or a negative errno (sent as an error reply).
        /// </summary>
        public abstract int Handle(ushort source, ReadOnlySpan<byte> request, Span<byte> reply, out int replyLength);
    }
}
