// One node's RPC endpoint: client and server over one link (DESIGN §5).
//
// Client: Call sends a request and polls until the reply with the same request id
// arrives; if none comes within the timeout, it retransmits (same id) with the timeout
// doubled, up to MaxAttempts, then gives up with -ETIMEDOUT. While it waits it keeps
// serving incoming requests, so two nodes calling each other cannot deadlock.
// Server: a request is checked against the ReplyCache (at-most-once), executed by the
// handler registered for its opcode, its reply cached and sent. Unknown opcodes get an
// -ENOSYS error reply; malformed frames are counted and dropped.
// No allocation after construction: frames are built in the endpoint's own buffers.
// Pure logic: compiled into the kernels and the host tests.
using System;

namespace Tessera.Core.Rpc
{
    public sealed class RpcEndpoint
    {
        public readonly ushort Node;
        public readonly RpcCounters Counters = new RpcCounters();
        public ulong InitialTimeoutNanoseconds = 5_000_000;   // 5 ms; doubled per retry
        public int MaxAttempts = 8;

        private readonly RpcLink _link;
        private readonly RpcClock _clock;
        private readonly RpcHandler?[] _handlers = new RpcHandler?[RpcOpcode.Limit];
        private readonly ReplyCache _cache = new ReplyCache();
        private readonly byte[] _rx = new byte[RpcMessage.MaxFrame];
        private readonly byte[] _tx = new byte[RpcMessage.MaxFrame];
        private readonly byte[] _replyScratch = new byte[RpcMessage.MaxPayload];
        private ulong _nextRequestId;

        // The call in flight (one at a time per endpoint).
        private bool _waiting;
        private ulong _waitingId;
        private ushort _waitingPeer;
        private bool _replyArrived;
        private int _replyStatus;
        private int _replyLength;           // -1: the reply did not fit the caller's buffer

        /// <param name="firstRequestId">
        /// Where this incarnation's request ids start; the kernels use the TSC so a rebooted
        /// node does not reuse ids (servers also forget a node that says HELLO again).
        /// </param>
        public RpcEndpoint(ushort node, RpcLink link, RpcClock clock, ulong firstRequestId)
        {
            Node = node;
            _link = link;
            _clock = clock;
            _nextRequestId = firstRequestId == 0 ? 1 : firstRequestId;
        }

        public void Register(ushort opcode, RpcHandler handler)
        {
            if (opcode < RpcOpcode.Limit) _handlers[opcode] = handler;
        }

        /// <summary>Forgets a client's cached replies (it restarted).</summary>
        public void ForgetClient(ushort node) => _cache.Forget(node);

        /// <summary>
        /// Calls opcode on node destination. Returns RpcStatus.Ok and the reply in reply[0..replyLength),
        /// the server's negative errno, -ETIMEDOUT, or -EMSGSIZE when a payload does not fit.
        /// </summary>
        public int Call(ushort destination, ushort opcode, ReadOnlySpan<byte> request, Span<byte> reply, out int replyLength)
        {
            replyLength = 0;
            if (request.Length > RpcMessage.MaxPayload) return RpcStatus.EMSGSIZE;
            if (_waiting) return RpcStatus.EINVAL; // one call at a time per endpoint
            ulong id = _nextRequestId++;
            Counters.CallsMade++;
            if (opcode < RpcOpcode.Limit) Counters.CalledByOpcode[opcode]++;

            _waiting = true;
            _waitingId = id;
            _waitingPeer = destination;
            _replyArrived = false;
            ulong timeout = InitialTimeoutNanoseconds;
            int result = RpcStatus.ETIMEDOUT;
            for (int attempt = 0; attempt < MaxAttempts; attempt++)
            {
                if (attempt > 0) Counters.Retransmissions++;
                var header = new RpcHeader
                {
                    Flags = RpcFlags.Request, Opcode = opcode, Source = Node, Destination = destination,
                    RequestId = id, FragmentCount = 1,
                };
                SendFrame(header, request);
                ulong deadline = _clock.NowNanoseconds + timeout;
                while (!_replyArrived && _clock.NowNanoseconds < deadline) Poll(reply);
                if (_replyArrived) break;
                timeout *= 2;
            }
            _waiting = false;

            if (!_replyArrived)
            {
                Counters.Timeouts++;
                return result;
            }
            if (_replyLength < 0) return RpcStatus.EMSGSIZE;
            replyLength = _replyLength;
            return _replyStatus;
        }

        /// <summary>Handles every frame waiting on the link; returns how many were handled.</summary>
        public int Poll() => Poll(default);

        /// <summary>
        /// Poll for Call: the awaited reply's payload goes straight from the received frame into
        /// the caller's buffer (one copy fewer per call than going through a buffer of our own).
        /// </summary>
        private int Poll(Span<byte> reply)
        {
            int handled = 0;
            while (true)
            {
                int length = _link.Receive(_rx);
                if (length <= 0) return handled;
                handled++;
                Counters.FramesReceived++;
                HandleFrame(new ReadOnlySpan<byte>(_rx, 0, length), reply);
            }
        }

        private void HandleFrame(ReadOnlySpan<byte> frame, Span<byte> reply)
        {
            RpcDecodeError error = RpcMessage.Decode(frame, out RpcHeader h);
            if (error == RpcDecodeError.None && h.Destination != Node) error = RpcDecodeError.NotForUs;
            if (error == RpcDecodeError.NotOurEtherType) { Counters.Ignored++; return; }
            if (error != RpcDecodeError.None) { Counters.Rejected[(int)error]++; return; }
            ReadOnlySpan<byte> payload = frame.Slice(RpcMessage.Overhead, (int)h.PayloadLength);

            if (h.IsReply)
            {
                if (_waiting && !_replyArrived && h.RequestId == _waitingId && h.Source == _waitingPeer)
                {
                    if (payload.Length <= reply.Length)
                    {
                        payload.CopyTo(reply);
                        _replyLength = payload.Length;
                    }
                    else _replyLength = -1;
                    _replyStatus = h.IsError ? (h.Status < 0 ? h.Status : RpcStatus.EIO) : RpcStatus.Ok;
                    _replyArrived = true;
                }
                else Counters.StaleReplies++;
                return;
            }
            Serve(h, payload);
        }

        private void Serve(in RpcHeader request, ReadOnlySpan<byte> payload)
        {
            ReplyCache.Verdict verdict = _cache.Lookup(request.Source, request.RequestId, out int cachedStatus, out ReadOnlySpan<byte> cached);
            if (verdict == ReplyCache.Verdict.Stale) { Counters.StaleDropped++; return; }
            if (verdict == ReplyCache.Verdict.Cached)
            {
                Counters.DuplicatesAnswered++;
                SendReply(request, cachedStatus, cached);
                return;
            }

            int status;
            int length = 0;
            RpcHandler? handler = request.Opcode < RpcOpcode.Limit ? _handlers[request.Opcode] : null;
            if (handler is null)
            {
                Counters.UnknownOpcode++;
                status = RpcStatus.ENOSYS;
            }
            else
            {
                status = handler.Handle(request.Source, payload, _replyScratch, out length);
                if (length < 0 || length > _replyScratch.Length) { status = RpcStatus.EIO; length = 0; }
                if (status != RpcStatus.Ok) length = 0;
                Counters.RequestsServed++;
                Counters.ServedByOpcode[request.Opcode]++;
            }
            ReadOnlySpan<byte> replyPayload = new ReadOnlySpan<byte>(_replyScratch, 0, length);
            _cache.Store(request.Source, request.RequestId, status, replyPayload);
            SendReply(request, status, replyPayload);
        }

        private void SendReply(in RpcHeader request, int status, ReadOnlySpan<byte> payload)
        {
            var header = new RpcHeader
            {
                Flags = (byte)(RpcFlags.Reply | (status != RpcStatus.Ok ? RpcFlags.Error : 0)),
                Opcode = request.Opcode, Source = Node, Destination = request.Source,
                RequestId = request.RequestId, Status = status, FragmentCount = 1,
            };
            SendFrame(header, payload);
        }

        private void SendFrame(in RpcHeader header, ReadOnlySpan<byte> payload)
        {
            int length = RpcMessage.Encode(_tx, header, payload);
            if (length < 0 || !_link.Send(new ReadOnlySpan<byte>(_tx, 0, length))) { Counters.SendFailures++; return; }
            Counters.FramesSent++;
        }
    }
}
