// The RPC layer (kernel/Core/Rpc) running inside the kernel: two endpoints joined by an
// in-memory link exchange echo calls, a 4 KiB page among them. The network path proper
// (virtio-net) is tested by the rig tests.
using System;
using Tessera.Core.Rpc;

namespace Tessera.Core
{
    internal sealed class TscRpcClock : RpcClock
    {
        public override ulong NowNanoseconds => Clock.NanosecondsSinceReset();
    }

    /// <summary>One direction-pair of an in-memory link: frames sent by one side queue for the other.</summary>
    internal sealed class LoopbackLink : RpcLink
    {
        private readonly byte[][] _queue = new byte[8][];
        private readonly int[] _lengths = new int[8];
        private int _head, _count;
        public LoopbackLink? Peer;
        public RpcEndpoint? PeerEndpoint;

        public override bool Send(ReadOnlySpan<byte> frame)
        {
            LoopbackLink peer = Peer!;
            if (peer._count == peer._queue.Length) return false;
            int slot = (peer._head + peer._count) % peer._queue.Length;
            if (peer._queue[slot] is null) peer._queue[slot] = new byte[RpcMessage.MaxFrame];
            frame.CopyTo(peer._queue[slot]);
            peer._lengths[slot] = frame.Length;
            peer._count++;
            return true;
        }

        public override int Receive(Span<byte> buffer)
        {
            // Let the other side run first, as if it were another machine.
            if (_count == 0 && PeerEndpoint != null) { RpcEndpoint other = PeerEndpoint; PeerEndpoint = null; other.Poll(); PeerEndpoint = other; }
            if (_count == 0) return 0;
            int length = _lengths[_head];
            new ReadOnlySpan<byte>(_queue[_head], 0, length).CopyTo(buffer);
            _head = (_head + 1) % _queue.Length;
            _count--;
            return length;
        }
    }

    internal sealed class KernelEchoHandler : RpcHandler
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

    internal sealed class RpcSelfTest : SelfTestCase
    {
        public override string Name => "rpc.loopback";

        public override string? Run()
        {
            if (Crc32c.Compute(new byte[] { (byte)'1', (byte)'2', (byte)'3', (byte)'4', (byte)'5', (byte)'6', (byte)'7', (byte)'8', (byte)'9' }) != 0xE3069283)
                return "CRC-32C check value wrong";
            var a = new LoopbackLink();
            var b = new LoopbackLink();
            a.Peer = b; b.Peer = a;
            var clock = new TscRpcClock();
            var client = new RpcEndpoint(1, a, clock, Clock.Ticks);
            var server = new RpcEndpoint(2, b, clock, Clock.Ticks);
            var echo = new KernelEchoHandler();
            server.Register(RpcOpcode.Echo, echo);
            a.PeerEndpoint = server;

            byte[] page = new byte[4096];
            for (int i = 0; i < page.Length; i++) page[i] = (byte)(i * 7 + 3);
            byte[] reply = new byte[RpcMessage.MaxPayload];
            for (int round = 0; round < 3; round++)
            {
                int status = client.Call(2, RpcOpcode.Echo, page, reply, out int length);
                if (status != RpcStatus.Ok) return "echo call failed";
                if (length != page.Length) return "echo reply has the wrong length";
                for (int i = 0; i < length; i++) if (reply[i] != page[i]) return "echo reply differs";
            }
            if (echo.Executions != 3) return "handler ran a wrong number of times";
            if (client.Call(2, 77, page, reply, out _) != RpcStatus.ENOSYS) return "unknown opcode not refused";
            return null;
        }
    }
}
