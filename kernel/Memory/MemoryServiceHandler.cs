// The memory service's opcodes on an RPC endpoint: one handler object per opcode, each
// handing its requests to the one MemoryService (kernel/Memory/MemoryService.cs).
// Pure logic: compiled into the memory kernel and the host tests.
using System;
using Tessera.Core.Rpc;

namespace Tessera.Memory
{
    public sealed class MemoryServiceHandler : RpcHandler
    {
        /// <summary>Every opcode the memory service answers (MemoryProtocol.cs).</summary>
        public static readonly ushort[] Opcodes =
        {
            RpcOpcode.Execve, RpcOpcode.PcacheMiss, RpcOpcode.PcacheFlush, RpcOpcode.Mmap, RpcOpcode.Munmap,
            RpcOpcode.Mprotect, RpcOpcode.Mremap, RpcOpcode.Brk, RpcOpcode.Exit,
        };

        private readonly MemoryService _service;
        private readonly ushort _opcode;

        public MemoryServiceHandler(MemoryService service, ushort opcode)
        {
            _service = service;
            _opcode = opcode;
        }

        public override int Handle(ushort source, ReadOnlySpan<byte> request, Span<byte> reply, out int replyLength) =>
            _service.Handle(_opcode, source, request, reply, out replyLength);

        /// <summary>Registers the service's handlers on endpoint.</summary>
        public static void RegisterAll(RpcEndpoint endpoint, MemoryService service)
        {
            for (int i = 0; i < Opcodes.Length; i++) endpoint.Register(Opcodes[i], new MemoryServiceHandler(service, Opcodes[i]));
        }
    }
}
