using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Tessera.Core.Rpc;

namespace Tessera.Tools.Rig;

/// <summary>
/// The host's port onto a rig's Ethernet segment. QEMU's `-netdev socket,mcast=` carries each
/// Ethernet frame as one UDP datagram to the multicast group, so joining the group on
/// 127.0.0.1 lets the host see every frame and put its own on the wire — as a Tessera node
/// (with the kernel's own RpcEndpoint) or as a source of malformed frames.
/// </summary>
public sealed class MulticastLink : RpcLink, IDisposable
{
    private readonly Socket _socket;
    private readonly IPEndPoint _group;

    public MulticastLink(int port, string group = RigLauncher.MulticastGroup)
    {
        _group = new IPEndPoint(IPAddress.Parse(group), port);
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _socket.Bind(new IPEndPoint(IPAddress.Any, port));
        _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.AddMembership, new MulticastOption(_group.Address, IPAddress.Loopback));
        _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastInterface, IPAddress.Loopback.GetAddressBytes());
        _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastLoopback, true);
        _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastTimeToLive, 0);
        _socket.Blocking = false;
    }

    public override bool Send(ReadOnlySpan<byte> frame)
    {
        try { return _socket.SendTo(frame, SocketFlags.None, _group) == frame.Length; }
        catch (SocketException) { return false; }
    }

    public override int Receive(Span<byte> buffer)
    {
        // Our own datagrams loop back too; the endpoint drops them (not addressed to us).
        if (_socket.Available == 0)
        {
            // Wait briefly instead of spinning a core while a call waits for its reply.
            if (!_socket.Poll(200, SelectMode.SelectRead)) return 0;
        }
        try { return _socket.Receive(buffer); }
        catch (SocketException) { return 0; }
    }

    public void Dispose() => _socket.Dispose();
}

public sealed class StopwatchClock : RpcClock
{
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    public override ulong NowNanoseconds => (ulong)(_watch.Elapsed.Ticks * 100);
}
