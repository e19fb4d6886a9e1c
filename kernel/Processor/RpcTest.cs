// `rpc-test=N` on the processor's command line: N echo calls to every peer with random
// payloads of 0..4096 bytes, each reply compared byte for byte (issue 4, item 6).
// Prints one line per peer and a closing `rpc-test: done` line the rig tests wait for.
using Tessera.Core;
using Tessera.Core.Net;
using Tessera.Core.Rpc;

namespace Tessera
{
    public static class RpcTest
    {
        public static void RunIfAsked()
        {
            if (!KernelMain.CommandLine.TryGetSize("rpc-test", out ulong calls) || ClusterNode.Endpoint is null) return;
            RpcEndpoint endpoint = ClusterNode.Endpoint;
            byte[] request = new byte[4096];
            byte[] reply = new byte[RpcMessage.MaxPayload];
            ulong seed = Clock.Ticks | 1;
            for (int p = 0; p < ClusterNode.Config.PeerCount; p++)
            {
                ushort peer = ClusterNode.Config.Peers[p].Node;
                ulong ok = 0, mismatches = 0, failures = 0, bytes = 0;
                ulong started = Clock.Ticks;
                for (ulong call = 0; call < calls; call++)
                {
                    seed = seed * 6364136223846793005UL + 1442695040888963407UL; // PCG-style LCG step
                    int length = (int)((seed >> 33) % 4097);
                    for (int i = 0; i < length; i++)
                    {
                        seed = seed * 6364136223846793005UL + 1442695040888963407UL;
                        request[i] = (byte)(seed >> 56);
                    }
                    int status = endpoint.Call(peer, RpcOpcode.Echo, new System.ReadOnlySpan<byte>(request, 0, length), reply, out int replyLength);
                    if (status != RpcStatus.Ok) { failures++; continue; }
                    bool same = replyLength == length;
                    for (int i = 0; same && i < length; i++) same = reply[i] == request[i];
                    if (same) { ok++; bytes += (ulong)length; } else mismatches++;
                }
                ulong ns = Clock.TicksToNanoseconds(Clock.Ticks - started);
                Console.Write("rpc-test: node ");
                Console.WriteDecimal((ulong)peer);
                Console.Write(": ");
                Console.WriteDecimal(ok);
                Console.Write(" ok, ");
                Console.WriteDecimal(mismatches);
                Console.Write(" mismatched, ");
                Console.WriteDecimal(failures);
                Console.Write(" failed, ");
                Console.WriteDecimal(endpoint.Counters.Retransmissions);
                Console.Write(" retransmissions so far, ");
                Console.WriteDecimal(calls == 0 ? 0 : ns / calls / 1000);
                Console.WriteLine(" us per call");
            }
            Console.WriteLine("rpc-test: done");
        }
    }
}
