// The RPC layer's link over the virtio-net NIC.
using System;
using Tessera.Core.Rpc;
using Tessera.Drivers;

namespace Tessera.Core.Net
{
    public sealed class NicLink : RpcLink
    {
        private readonly VirtioNet _nic;

        public NicLink(VirtioNet nic) { _nic = nic; }

        public override bool Send(ReadOnlySpan<byte> frame) => _nic.Send(frame);

        public override int Receive(Span<byte> buffer) => _nic.Receive(buffer);
    }

    public sealed class TscClock : RpcClock
    {
        public override ulong NowNanoseconds => Clock.NanosecondsSinceReset();
    }
}
