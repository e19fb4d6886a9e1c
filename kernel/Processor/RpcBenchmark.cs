// `bench=rpc` on the processor's command line: the processor side of `./build.sh bench rpc`
// (issue 4, item 7; docs/bench-rpc.md). After HELLO it measures, against the first memory node:
//   1. the round trip of ECHO calls with 64-byte and 4 KiB payloads, each call timed with the
//      TSC around RpcEndpoint.Call (so a sample is everything a caller waits for: encode,
//      checksum, transmit, the wire, the server, the reply, decode, copy-out);
//   2. page throughput: PAGE calls (8-byte request, 4 KiB reply: PCACHE_MISS's shape, see
//      kernel/Core/Rpc/PageService.cs) back to back for a fixed time, and their round trips.
// Each series starts with warm-up calls that are not recorded (the first calls pay for the
// ARP-free but still cold path: caches, the server's reply-cache entries, QEMU's TB cache).
// The samples are sorted in place and summarised here (kernel/Core/Stats/Percentiles.cs):
// printing 10,000 lines at 115200 baud would take longer than measuring them.
//
// Options: bench_calls=N (default 10000, at most 100000), bench_warmup=N (default 1000),
// bench_seconds=S (throughput run, default 3).
// Output, all values in nanoseconds, parsed by tools/Tessera.Tools/Bench/BenchLine.cs:
//   bench: start node=2 calls=10000 warmup=1000 seconds=3
//   bench: rtt name=echo-64 payload=64 reply=64 calls=10000 failures=0 mismatches=0 retransmissions=0 min=... p1=... p10=... p25=... p50=... p75=... p90=... p99=... p999=... max=... mean=...
//   bench: throughput name=page calls=N failures=0 mismatches=0 bytes=B ns=T
//   bench: cost name=crc32c-4096 ns=...            (RpcCostProfile: what the pieces of a call cost)
//   bench: done
using System;
using Tessera.Core;
using Tessera.Core.Cluster;
using Tessera.Core.Net;
using Tessera.Core.Rpc;
using Tessera.Core.Stats;

namespace Tessera
{
    public static class RpcBenchmark
    {
        private const ulong MaxCalls = 100000;

        // Percentiles printed for every series, in basis points (Percentiles.Whole = 100 %).
        private static readonly int[] s_points = { 0, 100, 1000, 2500, 5000, 7500, 9000, 9900, 9990, 10000 };
        private static readonly string[] s_names = { "min", "p1", "p10", "p25", "p50", "p75", "p90", "p99", "p999", "max" };

        public static void RunIfAsked()
        {
            if (!KernelMain.CommandLine.TryGetValue("bench", out ReadOnlySpan<byte> what) || ClusterNode.Endpoint is null) return;
            if (!IsRpc(what))
            {
                Console.WriteLine("bench: unknown benchmark (this kernel knows bench=rpc)");
                Console.WriteLine("bench: done");
                return;
            }
            ulong calls = Option("bench_calls", 10000);
            if (calls > MaxCalls) calls = MaxCalls;
            ulong warmup = Option("bench_warmup", 1000);
            ulong seconds = Option("bench_seconds", 3);

            int memory = -1;
            for (int i = 0; i < ClusterNode.Config.PeerCount; i++)
                if (ClusterNode.Config.Peers[i].Role == NodeRole.Memory) { memory = ClusterNode.Config.Peers[i].Node; break; }
            if (memory < 0)
            {
                Console.WriteLine("bench: no memory node among the peers");
                Console.WriteLine("bench: done");
                return;
            }

            Console.Write("bench: start node=");
            Console.WriteDecimal((ulong)memory);
            Console.Write(" calls=");
            Console.WriteDecimal(calls);
            Console.Write(" warmup=");
            Console.WriteDecimal(warmup);
            Console.Write(" seconds=");
            Console.WriteDecimal(seconds);
            Console.WriteLine();

            var samples = new ulong[calls];
            var request = new byte[4096];
            var reply = new byte[RpcMessage.MaxPayload];
            ulong seed = Clock.Ticks | 1;
            for (int i = 0; i < request.Length; i++)
            {
                seed = seed * 6364136223846793005UL + 1442695040888963407UL;   // an LCG step (Knuth's MMIX constants)
                request[i] = (byte)(seed >> 56);
            }

            Echo((ushort)memory, "echo-64", request, 64, reply, samples, warmup);
            Echo((ushort)memory, "echo-4096", request, 4096, reply, samples, warmup);
            Pages((ushort)memory, reply, samples, warmup, seconds);
            RpcCostProfile.Run(request);
            Console.WriteLine("bench: done");
        }

        private static void Echo(ushort node, string name, byte[] request, int size, byte[] reply, ulong[] samples, ulong warmup)
        {
            RpcEndpoint endpoint = ClusterNode.Endpoint!;
            var payload = new ReadOnlySpan<byte>(request, 0, size);
            for (ulong i = 0; i < warmup; i++) endpoint.Call(node, RpcOpcode.Echo, payload, reply, out _);

            ulong retransmissionsBefore = endpoint.Counters.Retransmissions;
            int recorded = 0;
            ulong failures = 0, mismatches = 0;
            for (int call = 0; call < samples.Length; call++)
            {
                ulong start = Clock.Ticks;
                int status = endpoint.Call(node, RpcOpcode.Echo, payload, reply, out int length);
                ulong ticks = Clock.Ticks - start;
                if (status != RpcStatus.Ok) { failures++; continue; }
                if (!Same(reply, length, request, size)) { mismatches++; continue; }
                samples[recorded++] = ticks;
            }
            Report(name, size, size, new Span<ulong>(samples, 0, recorded), (ulong)samples.Length, failures, mismatches,
                endpoint.Counters.Retransmissions - retransmissionsBefore);
        }

        /// <summary>PAGE calls back to back for `seconds`: page throughput, and the round trips of the first calls.</summary>
        private static void Pages(ushort node, byte[] reply, ulong[] samples, ulong warmup, ulong seconds)
        {
            RpcEndpoint endpoint = ClusterNode.Endpoint!;
            var request = new byte[PageService.RequestSize];
            for (ulong i = 0; i < warmup; i++) endpoint.Call(node, RpcOpcode.Page, request, reply, out _);

            ulong retransmissionsBefore = endpoint.Counters.Retransmissions;
            ulong duration = seconds * Clock.TscHz;
            ulong calls = 0, failures = 0, mismatches = 0, bytes = 0;
            int recorded = 0;
            ulong started = Clock.Ticks;
            ulong now = started;
            for (ulong page = 1; now - started < duration; page++)
            {
                RpcMessage.Put64(request, 0, page);
                int status = endpoint.Call(node, RpcOpcode.Page, request, reply, out int length);
                ulong after = Clock.Ticks;
                calls++;
                if (status != RpcStatus.Ok) failures++;
                else if (length != PageService.PageSize || RpcMessage.Get64(reply, 0) != page || reply[4095] != PageService.ContentAt(4095)) mismatches++;
                else
                {
                    bytes += PageService.PageSize;
                    if (recorded < samples.Length) samples[recorded++] = after - now;
                }
                now = after;
            }
            ulong ns = Clock.TicksToNanoseconds(now - started);
            ulong retransmissions = endpoint.Counters.Retransmissions - retransmissionsBefore;
            Report("page", PageService.RequestSize, PageService.PageSize, new Span<ulong>(samples, 0, recorded), calls, failures, mismatches, retransmissions);

            Console.Write("bench: throughput name=page calls=");
            Console.WriteDecimal(calls);
            Console.Write(" failures=");
            Console.WriteDecimal(failures);
            Console.Write(" mismatches=");
            Console.WriteDecimal(mismatches);
            Console.Write(" bytes=");
            Console.WriteDecimal(bytes);
            Console.Write(" ns=");
            Console.WriteDecimal(ns);
            Console.WriteLine();
        }

        private static void Report(string name, int payload, int replySize, Span<ulong> ticks, ulong calls, ulong failures, ulong mismatches, ulong retransmissions)
        {
            Percentiles.SortInPlace(ticks);
            Console.Write("bench: rtt name=");
            Console.Write(name);
            Console.Write(" payload=");
            Console.WriteDecimal((ulong)payload);
            Console.Write(" reply=");
            Console.WriteDecimal((ulong)replySize);
            Console.Write(" calls=");
            Console.WriteDecimal(calls);
            Console.Write(" failures=");
            Console.WriteDecimal(failures);
            Console.Write(" mismatches=");
            Console.WriteDecimal(mismatches);
            Console.Write(" retransmissions=");
            Console.WriteDecimal(retransmissions);
            Console.Write(" samples=");
            Console.WriteDecimal((ulong)ticks.Length);
            for (int i = 0; i < s_points.Length; i++)
            {
                Console.Write(' ');
                Console.Write(s_names[i]);
                Console.Write('=');
                Console.WriteDecimal(Clock.TicksToNanoseconds(Percentiles.OfSorted(ticks, s_points[i])));
            }
            Console.Write(" mean=");
            Console.WriteDecimal(Clock.TicksToNanoseconds(Percentiles.Mean(ticks)));
            Console.WriteLine();
        }

        private static bool Same(byte[] reply, int length, byte[] request, int size)
        {
            if (length != size) return false;
            for (int i = 0; i < size; i++) if (reply[i] != request[i]) return false;
            return true;
        }

        private static ulong Option(string name, ulong fallback) =>
            KernelMain.CommandLine.TryGetSize(name, out ulong value) ? value : fallback;

        private static bool IsRpc(ReadOnlySpan<byte> text) =>
            text.Length == 3 && text[0] == 'r' && text[1] == 'p' && text[2] == 'c';
    }
}
