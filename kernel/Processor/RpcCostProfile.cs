// `bench=rpc` also prints what the pieces of one RPC cost on this (emulated) CPU, so a round
// trip can be taken apart (docs/bench-rpc.md, "Where the time goes"): each piece is run
// `Repetitions` times back to back and its mean printed, in nanoseconds:
//   bench: cost name=crc32c-4096 ns=...
// The pieces are what both ends do per message: the checksum, encoding and decoding a frame,
// copying a payload (memmove, and the byte-at-a-time loop the NIC driver used to copy frames
// with), telling the device about a queue (an MMIO write: under TCG a trip into QEMU's device
// model), reading the clock, and one empty poll of the endpoint.
using System;
using Tessera.Core;
using Tessera.Core.Net;
using Tessera.Core.Rpc;

namespace Tessera
{
    public static class RpcCostProfile
    {
        private const int Repetitions = 1000;

        public static void Run(byte[] payload)
        {
            var frame = new byte[RpcMessage.MaxFrame];
            var copy = new byte[4096];
            for (int size = 64; size <= 4096; size *= 64)   // 64, then 4096
            {
                var data = new ReadOnlySpan<byte>(payload, 0, size);
                var header = new RpcHeader { Flags = RpcFlags.Request, Opcode = RpcOpcode.Echo, Source = 1, Destination = 2, RequestId = 7, FragmentCount = 1 };

                ulong start = Clock.Ticks;
                uint sink = 0;
                for (int i = 0; i < Repetitions; i++) sink ^= Crc32c.Compute(data);
                Print("crc32c-", size, Clock.Ticks - start);

                start = Clock.Ticks;
                int length = 0;
                for (int i = 0; i < Repetitions; i++) length = RpcMessage.Encode(frame, header, data);
                Print("encode-", size, Clock.Ticks - start);

                start = Clock.Ticks;
                for (int i = 0; i < Repetitions; i++) RpcMessage.Decode(new ReadOnlySpan<byte>(frame, 0, length), out _);
                Print("decode-", size, Clock.Ticks - start);

                start = Clock.Ticks;
                for (int i = 0; i < Repetitions; i++) data.CopyTo(copy);
                Print("memmove-", size, Clock.Ticks - start);

                start = Clock.Ticks;
                for (int i = 0; i < Repetitions; i++) ByteLoop(data, copy);
                Print("byte-loop-copy-", size, Clock.Ticks - start);
                if (sink == 0x5EED) Console.Write("");   // keeps the CRC loop from being optimised away
            }

            ulong t = Clock.Ticks;
            ulong clockSink = 0;
            for (int i = 0; i < Repetitions; i++) clockSink += ClusterNode.Clock.NowNanoseconds;
            Print("clock-read", -1, Clock.Ticks - t);

            RpcEndpoint endpoint = ClusterNode.Endpoint!;
            t = Clock.Ticks;
            for (int i = 0; i < Repetitions; i++) endpoint.Poll();
            Print("empty-poll", -1, Clock.Ticks - t);

            // A notification with nothing new in the queue: the device looks and finds no work,
            // so this is the cost of the MMIO write alone.
            t = Clock.Ticks;
            for (int i = 0; i < Repetitions; i++) ClusterNode.Nic!.NotifyTransmitQueue();
            Print("queue-notify", -1, Clock.Ticks - t);
            if (clockSink == 1) Console.Write("");
        }

        // The shape of the loop drivers/VirtioNet.cs copied frames with before it used memmove.
        private static void ByteLoop(ReadOnlySpan<byte> source, Span<byte> destination)
        {
            for (int i = 0; i < source.Length; i++) destination[i] = source[i];
        }

        private static void Print(string name, int size, ulong ticks)
        {
            Console.Write("bench: cost name=");
            Console.Write(name);
            if (size >= 0) Console.WriteDecimal((ulong)size);
            Console.Write(" ns=");
            Console.WriteDecimal(Clock.TicksToNanoseconds(ticks) / Repetitions);
            Console.WriteLine();
        }
    }
}
