using Tessera.Core.Rpc;

namespace Tessera.Tests.Host;

/// <summary>
/// A deterministic network for RPC tests: one shared segment, a virtual clock, and seeded
/// fault injection — each frame may be dropped, delayed, duplicated (and so reordered).
/// Reading the clock advances it a little, so a polling loop always makes progress; every
/// endpoint is polled whenever any of them looks for a frame, like nodes running in parallel.
/// </summary>
public sealed class SimulatedNetwork(int seed)
{
    public double DropRate { get; set; }
    public double DuplicateRate { get; set; }
    public ulong MaxDelayNanoseconds { get; set; }
    public ulong TickNanoseconds { get; set; } = 1_000;
    public int FramesDelivered { get; private set; }
    public int FramesDropped { get; private set; }

    private readonly Random _random = new(seed);
    private readonly List<(ulong At, long Order, byte[] Frame)> _inFlight = [];
    private readonly Dictionary<ushort, Queue<byte[]>> _inboxes = [];
    private readonly List<RpcEndpoint> _endpoints = [];
    private long _order;
    private bool _pumping;

    public ulong Now { get; private set; }

    public Clock NewClock() => new(this);
    public Link Attach(ushort node) { _inboxes[node] = new Queue<byte[]>(); return new Link(this, node); }
    public void AddEndpoint(RpcEndpoint endpoint) => _endpoints.Add(endpoint);

    /// <summary>Puts a raw frame on the wire, as a misbehaving host tool would.</summary>
    public void Inject(byte[] frame) => Enqueue(frame, faults: false);

    private void Enqueue(byte[] frame, bool faults)
    {
        if (faults && _random.NextDouble() < DropRate) { FramesDropped++; return; }
        int copies = faults && _random.NextDouble() < DuplicateRate ? 2 : 1;
        for (int i = 0; i < copies; i++)
        {
            ulong delay = MaxDelayNanoseconds == 0 ? 0 : (ulong)(_random.NextDouble() * MaxDelayNanoseconds);
            _inFlight.Add((Now + delay, _order++, (byte[])frame.Clone()));
        }
    }

    /// <summary>Delivers frames whose time has come, by destination MAC (broadcast to all).</summary>
    private void Deliver()
    {
        _inFlight.Sort((a, b) => a.At != b.At ? a.At.CompareTo(b.At) : a.Order.CompareTo(b.Order));
        while (_inFlight.Count > 0 && _inFlight[0].At <= Now)
        {
            byte[] frame = _inFlight[0].Frame;
            _inFlight.RemoveAt(0);
            int node = RpcMessage.NodeOfMac(frame);
            foreach (var (id, inbox) in _inboxes)
                if (node < 0 || node == id) inbox.Enqueue(frame);
            FramesDelivered++;
        }
    }

    /// <summary>Lets every endpoint handle what it has (servers run "in parallel" with the caller).</summary>
    private void Pump()
    {
        if (_pumping) return;
        _pumping = true;
        try { foreach (var e in _endpoints) e.Poll(); }
        finally { _pumping = false; }
    }

    public sealed class Link(SimulatedNetwork net, ushort node) : RpcLink
    {
        public override bool Send(ReadOnlySpan<byte> frame) { net.Enqueue(frame.ToArray(), faults: true); return true; }

        public override int Receive(Span<byte> buffer)
        {
            net.Deliver();
            var inbox = net._inboxes[node];
            if (inbox.Count == 0) { net.Pump(); net.Deliver(); }
            if (inbox.Count == 0) return 0;
            byte[] frame = inbox.Dequeue();
            if (frame.Length > buffer.Length) return 0;
            frame.CopyTo(buffer);
            return frame.Length;
        }
    }

    public sealed class Clock(SimulatedNetwork net) : RpcClock
    {
        public override ulong NowNanoseconds => net.Now += net.TickNanoseconds;
    }
}

/// <summary>Test handlers: echo (counts executions) and a failing one.</summary>
public sealed class EchoHandler : RpcHandler
{
    public int Executions;
    public override int Handle(ushort source, ReadOnlySpan<byte> request, Span<byte> reply, out int replyLength)
    {
        Executions++;
        request.CopyTo(reply);
        replyLength = request.Length;
        return RpcStatus.Ok;
    }
}

public sealed class FailingHandler(int status) : RpcHandler
{
    public override int Handle(ushort source, ReadOnlySpan<byte> request, Span<byte> reply, out int replyLength)
    {
        replyLength = 0;
        return status;
    }
}
