// A kernel's place in the rig: the NIC, the RPC endpoint and the services every node
// offers (HELLO, ECHO, STATS, PAGE). The processor greets its peers at boot and prints the
// cluster table; every node then serves RPCs.
using System;
using Tessera.Core.Cluster;
using Tessera.Core.Rpc;
using Tessera.Drivers;

namespace Tessera.Core.Net
{
    public static class ClusterNode
    {
        public static ClusterConfig Config = null!;
        public static VirtioNet? Nic;
        public static RpcEndpoint? Endpoint;
        public static readonly TscClock Clock = new TscClock();

        /// <summary>Reads node/role/peers; brings up the NIC and the RPC endpoint when clustered.</summary>
        public static bool Start(NodeRole ownRole)
        {
            Config = ClusterConfig.Parse(KernelMain.CommandLine, ownRole);
            if (Config.Problem.Length > 0) { Log.Error(Config.Problem); return false; }
            if (!Config.IsClustered) return false;

            Nic = VirtioNet.Start();
            if (Nic is null) { Log.Error("cluster: no virtio-net device: cannot reach the peers"); return false; }
            int macNode = RpcMessage.NodeOfMac(Nic.Mac);
            if (Log.Begin(LogLevel.Info))
            {
                Console.Write("net: virtio-net ");
                WriteMac(Nic.Mac);
                Console.Write(", node ");
                Console.WriteDecimal((ulong)Config.Node);
                Console.Write(" (");
                Console.Write(ClusterConfig.RoleName(ownRole));
                Console.WriteLine(")");
            }
            if (macNode != Config.Node) Log.Warn("net: the NIC's MAC does not match node=; replies may not reach us");

            Endpoint = new RpcEndpoint(Config.Node, new NicLink(Nic), Clock, Tessera.Core.Clock.Ticks);
            Endpoint.Register(RpcOpcode.Hello, new HelloHandler(Endpoint, ownRole));
            Endpoint.Register(RpcOpcode.Echo, new EchoService());
            Endpoint.Register(RpcOpcode.Stats, new StatsHandler(Endpoint.Counters));
            Endpoint.Register(RpcOpcode.Page, new PageService());
            return true;
        }

        /// <summary>
        /// Says HELLO to every peer (each until the shared deadline) and prints the cluster table.
        /// Returns true when every peer answered as what the command line says it is.
        /// </summary>
        public static bool GreetPeers(ulong timeoutSeconds)
        {
            RpcEndpoint endpoint = Endpoint!;
            ulong deadline = Clock.NowNanoseconds + timeoutSeconds * 1000000000UL;
            int answered = 0;
            var results = new HelloResult[Config.PeerCount];
            for (int i = 0; i < Config.PeerCount; i++)
            {
                results[i] = Hello.Greet(endpoint, Clock, Config.Role, Config.Peers[i], deadline);
                if (results[i].Status == RpcStatus.Ok) answered++;
            }

            Console.WriteLine("cluster: node  role       mac                round trip");
            Console.Write("cluster: ");
            WriteRow(Config.Node, Config.Role, 0, true);
            for (int i = 0; i < Config.PeerCount; i++)
            {
                Console.Write("cluster: ");
                if (results[i].Status == RpcStatus.Ok) WriteRow(results[i].Node, results[i].Role, results[i].RoundTripNanoseconds, false);
                else
                {
                    Console.WriteDecimal((ulong)results[i].Node, 4, ' ');
                    Console.Write("  ");
                    Console.Write(ClusterConfig.RoleName(results[i].ExpectedRole));
                    Console.WriteLine(results[i].Status == RpcStatus.ETIMEDOUT ? "  did not answer" : "  answered wrongly (wiring or role mismatch)");
                }
            }
            Console.Write("cluster: ");
            Console.WriteDecimal((ulong)answered);
            Console.Write(" of ");
            Console.WriteDecimal((ulong)Config.PeerCount);
            Console.WriteLine(answered == Config.PeerCount ? " peers answered" : " peers answered; the rest are reported above");
            return answered == Config.PeerCount;
        }

        private static void WriteRow(ushort node, NodeRole role, ulong roundTrip, bool self)
        {
            Console.WriteDecimal((ulong)node, 4, ' ');
            Console.Write("  ");
            string name = ClusterConfig.RoleName(role);
            Console.Write(name);
            for (int i = name.Length; i < 11; i++) Console.Write(' ');
            Span<byte> mac = stackalloc byte[6];
            RpcMessage.WriteMac(mac, node);
            WriteMac(mac);
            Console.Write("  ");
            if (self) { Console.WriteLine("(this node)"); return; }
            Console.WriteDecimal(roundTrip / 1000);
            Console.Write('.');
            Console.WriteDecimal(roundTrip % 1000 / 10, 2, '0');
            Console.WriteLine(" us");
        }

        private static void WriteMac(ReadOnlySpan<byte> mac)
        {
            for (int i = 0; i < 6; i++)
            {
                if (i > 0) Console.Write(':');
                int hi = mac[i] >> 4, lo = mac[i] & 0xF;
                Console.Write((char)(hi < 10 ? '0' + hi : 'a' + hi - 10));
                Console.Write((char)(lo < 10 ? '0' + lo : 'a' + lo - 10));
            }
        }

        /// <summary>
        /// Serves RPCs forever; idle (when given) runs whenever no frame is waiting. With a
        /// receive interrupt the CPU sleeps in hlt between frames (so idle VMs leave the host's
        /// cores to busy ones); without one it polls.
        /// </summary>
        public static void Serve(IdleWork? idle = null)
        {
            VirtioNet nic = Nic!;
            Log.Info(nic.ReceiveVector >= 0 ? "rpc: serving (receive interrupts)" : "rpc: serving (polling)");
            RpcEndpoint endpoint = Endpoint!;
            while (true)
            {
                if (endpoint.Poll() != 0) continue;
                // No frame waiting: the component's own background work (a timer interrupt
                // that should start some wakes the hlt below like a frame does).
                if (idle is not null) idle.Run();
                if (nic.ReceiveVector < 0) { Cpu.Pause(); continue; }
                // Interrupts off between the last look and hlt, so a frame arriving in between
                // still wakes us: sti takes effect after the next instruction (SDM Vol. 2B, STI).
                // The device interrupts only while we sleep: a busy (polling) node is not
                // interrupted for every frame (VirtioNet.WakeOnReceive).
                Cpu.DisableInterrupts();
                nic.WakeOnReceive(true);
                if (nic.HasReceived || (idle is not null && idle.Pending)) { nic.WakeOnReceive(false); Cpu.EnableInterrupts(); continue; }
                Cpu.EnableInterruptsAndHalt();
                nic.WakeOnReceive(false);
            }
        }
    }

    /// <summary>Work a component does between RPCs, on the serving loop (not in an interrupt).</summary>
    public abstract class IdleWork
    {
        public abstract void Run();

        /// <summary>
        /// True when Run has something to do now (a timer asked for it); checked with interrupts
        /// off right before hlt, so a timer firing after Run returned is not slept through.
        /// </summary>
        public abstract bool Pending { get; }
    }
}
