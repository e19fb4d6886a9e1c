using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Tessera.Tools.Bench;

/// <summary>
/// The floor under any link of a rig (DESIGN §7): the host's own UDP round trip over loopback.
/// Every frame between two QEMU VMs on a socket netdev crosses the host's UDP stack once each
/// way, from one QEMU process to another, so a VM-to-VM round trip cannot beat one loopback
/// round trip between two processes' sockets. Measured here between two sockets of this
/// process, each served by its own thread blocked in recv (a thread wake-up per hop, as
/// between QEMU's I/O threads): a 64-byte datagram there and back, timed with Stopwatch.
/// </summary>
public static class UdpLoopbackFloor
{
    /// <summary>Round trips in nanoseconds, after warmup untimed ones; lost datagrams (1 s timeout) are counted, not timed.</summary>
    public static (ulong[] Nanoseconds, int Lost) Measure(int roundTrips, int warmup, int payload = 64)
    {
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        client.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        server.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        client.ReceiveTimeout = 1000;
        server.ReceiveTimeout = 1000;
        client.Connect(server.LocalEndPoint!);
        server.Connect(client.LocalEndPoint!);

        int total = warmup + roundTrips;
        var echo = new Thread(() =>
        {
            var buffer = new byte[2048];
            for (int i = 0; i < total; i++)
            {
                int n;
                try { n = server.Receive(buffer); }
                catch (SocketException) { continue; }   // the client's datagram was lost: it times out too
                server.Send(buffer.AsSpan(0, n));
            }
        }) { IsBackground = true, Name = "udp echo" };
        echo.Start();

        var message = new byte[payload];
        var reply = new byte[2048];
        var samples = new List<ulong>(roundTrips);
        int lost = 0;
        for (int i = 0; i < total; i++)
        {
            message[0] = (byte)i;
            long start = Stopwatch.GetTimestamp();
            client.Send(message);
            int n;
            try { n = client.Receive(reply); }
            catch (SocketException) { if (i >= warmup) lost++; continue; }
            long ticks = Stopwatch.GetTimestamp() - start;
            if (i < warmup) continue;
            if (n != payload || reply[0] != (byte)i) { lost++; continue; }
            samples.Add((ulong)(ticks * 1_000_000_000.0 / Stopwatch.Frequency));
        }
        echo.Join(TimeSpan.FromSeconds(5));
        return ([.. samples], lost);
    }
}
