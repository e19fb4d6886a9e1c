// At-most-once execution (DESIGN §5): the server remembers its recent replies per
// client, so a retransmitted or duplicated request is answered from here and never
// executed twice.
//
// Clients number their requests with increasing ids. Each client gets a small ring of
// the last Depth replies. An id at or below the client's watermark (the highest id
// evicted from its ring) and not in the ring is an old duplicate: it is dropped, since
// its reply was sent long ago and the client has moved on. A HELLO from a client
// (a new incarnation of that node) forgets everything about it.
// Pure logic: compiled into the kernels and the host tests.
using System;

namespace Tessera.Core.Rpc
{
    public sealed class ReplyCache
    {
        public const int Depth = 4;
        public const int MaxClients = 64;

        private sealed class Entry
        {
            public ulong RequestId;
            public bool Used;
            public int Status;
            public int Length;
            public byte[] Payload = new byte[RpcMessage.MaxPayload];
        }

        private sealed class Client
        {
            public ushort Node;
            public ulong Watermark;
            public int Next;
            public readonly Entry[] Entries = new Entry[Depth];
        }

        private readonly Client?[] _clients = new Client?[MaxClients];
        private int _clientCount;

        public enum Verdict { New, Cached, Stale }

        /// <summary>Looks a request up: New (execute it), Cached (resend entry), Stale (drop).</summary>
        public Verdict Lookup(ushort node, ulong requestId, out int status, out ReadOnlySpan<byte> payload)
        {
            status = 0;
            payload = default;
            Client? c = Find(node);
            if (c is null) return Verdict.New;
            for (int i = 0; i < Depth; i++)
            {
                Entry? e = c.Entries[i];
                if (e != null && e.Used && e.RequestId == requestId)
                {
                    status = e.Status;
                    payload = new ReadOnlySpan<byte>(e.Payload, 0, e.Length);
                    return Verdict.Cached;
                }
            }
            return requestId <= c.Watermark ? Verdict.Stale : Verdict.New;
        }

        /// <summary>Remembers the reply to a request just executed. False when the client table is full.</summary>
        public bool Store(ushort node, ulong requestId, int status, ReadOnlySpan<byte> payload)
        {
            Client? c = Find(node);
            if (c is null)
            {
                if (_clientCount == MaxClients) return false;
                c = new Client { Node = node };
                _clients[_clientCount++] = c;
            }
            Entry? e = c.Entries[c.Next];
            if (e is null) { e = new Entry(); c.Entries[c.Next] = e; }
            else if (e.Used && e.RequestId > c.Watermark) c.Watermark = e.RequestId;
            e.Used = true;
            e.RequestId = requestId;
            e.Status = status;
            e.Length = payload.Length;
            payload.CopyTo(e.Payload);
            c.Next = (c.Next + 1) % Depth;
            return true;
        }

        /// <summary>Forgets a client (it restarted: its request ids begin again).</summary>
        public void Forget(ushort node)
        {
            Client? c = Find(node);
            if (c is null) return;
            c.Watermark = 0;
            c.Next = 0;
            for (int i = 0; i < Depth; i++) if (c.Entries[i] != null) c.Entries[i]!.Used = false;
        }

        private Client? Find(ushort node)
        {
            for (int i = 0; i < _clientCount; i++) if (_clients[i]!.Node == node) return _clients[i];
            return null;
        }
    }
}
