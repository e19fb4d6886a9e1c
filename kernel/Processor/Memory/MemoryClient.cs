// The processor's side of the memory protocol (kernel/Core/Rpc/MemoryProtocol.cs): one
// memory component, reached through an RPC endpoint. Requests are built in the client's own
// buffers, so the miss path allocates nothing; one call at a time (one CPU, and the endpoint
// allows one call in flight).
//
// Results: Execve, Miss, Flush and Exit return 0 or a negative errno - the memory component's
// error reply (-EFAULT, -EACCES, -ENOENT ...) or the RPC layer's own (-ETIMEDOUT when the
// component does not answer). The address-space calls return the Linux result the component
// computed (an address, 0, or -errno), or the RPC error when the request failed as a message.
// Pure logic: compiled into the processor image and the host tests.
using System;
using Tessera.Core.Rpc;

namespace Tessera.Processor
{
    /// <summary>What EXECVE built: where to start, and which pages are fresh (zero-fill).</summary>
    public sealed class ExecImage
    {
        public ulong Entry;
        public ulong StackPointer;
        public ulong Brk;
        public int FreshCount;
        public ulong[] FreshFirstPage = new ulong[0];
        public ulong[] FreshPageCount = new ulong[0];
    }

    public sealed class MemoryClient
    {
        public readonly RpcEndpoint Endpoint;
        public readonly ushort Node;
        private readonly byte[] _request = new byte[RpcMessage.MaxPayload];
        private readonly byte[] _reply = new byte[RpcMessage.MaxPayload];

        public MemoryClient(RpcEndpoint endpoint, ushort node)
        {
            Endpoint = endpoint;
            Node = node;
        }

        /// <summary>
        /// EXECVE: strings is the path, argc argv strings and envc envp strings, each NUL-terminated
        /// (ProgramArguments.BuildExecveStrings). Fills image on success.
        /// </summary>
        public int Execve(uint pid, ReadOnlySpan<byte> strings, int argc, int envc, ExecImage image)
        {
            int requestLength = MemoryProtocol.WriteExecve(_request, pid, argc, envc, strings);
            if (requestLength < 0) return -Syscalls.Errno.E2BIG;
            int status = Endpoint.Call(Node, RpcOpcode.Execve, new ReadOnlySpan<byte>(_request, 0, requestLength), _reply, out int length);
            if (status != RpcStatus.Ok) return status;
            ReadOnlySpan<byte> r = new ReadOnlySpan<byte>(_reply, 0, length);
            const int header = MemoryProtocol.ExecveReplyHeader, range = MemoryProtocol.FreshRangeSize;
            if (length < header) return -Syscalls.Errno.EIO;
            int fresh = (int)RpcMessage.Get32(r, 24);
            if (fresh < 0 || header + (long)fresh * range > length) return -Syscalls.Errno.EIO;
            image.Entry = RpcMessage.Get64(r, 0);
            image.StackPointer = RpcMessage.Get64(r, 8);
            image.Brk = RpcMessage.Get64(r, 16);
            image.FreshCount = fresh;
            image.FreshFirstPage = new ulong[fresh];
            image.FreshPageCount = new ulong[fresh];
            for (int i = 0; i < fresh; i++)
            {
                image.FreshFirstPage[i] = RpcMessage.Get64(r, header + i * range);
                image.FreshPageCount[i] = RpcMessage.Get64(r, header + i * range + 8);
            }
            return 0;
        }

        /// <summary>
        /// PCACHE_MISS for the page at address, with a dirty victim riding along when withVictim
        /// (its data is copied into the request before anything lands in line, which may be the
        /// same memory). The page arrives in line, or zeroPage says to zero it. protection is the
        /// area's PROT_* bits from the reply (0 when the memory component did not say).
        /// </summary>
        public int Miss(uint pid, ulong address, FaultAccess access, bool withVictim, uint victimPid, ulong victimAddress,
            ReadOnlySpan<byte> victimData, Span<byte> line, out bool zeroPage, out int protection)
        {
            zeroPage = false;
            protection = 0;
            Span<byte> b = _request;
            int length = MemoryProtocol.WriteMiss(b, pid, address & ~(ulong)(MemoryProtocol.PageSize - 1), access == FaultAccess.Write);
            if (access == FaultAccess.Execute) b[4] |= MemoryProtocol.MissExecute;
            if (withVictim) length = MemoryProtocol.AddVictim(b, victimPid, victimAddress, victimData);
            int status = Endpoint.Call(Node, RpcOpcode.PcacheMiss, b.Slice(0, length), _reply, out int replyLength);
            if (status != RpcStatus.Ok) return status;
            if (replyLength < MemoryProtocol.MissReplyHeader) return -Syscalls.Errno.EIO;
            protection = _reply[MemoryProtocol.MissReplyProtection];
            if (_reply[0] == MemoryProtocol.ReplyZeroPage) { zeroPage = true; return 0; }
            if (_reply[0] != MemoryProtocol.ReplyPage || replyLength < MemoryProtocol.MissReplyHeader + MemoryProtocol.PageSize)
                return -Syscalls.Errno.EIO;
            new ReadOnlySpan<byte>(_reply, MemoryProtocol.MissReplyHeader, MemoryProtocol.PageSize).CopyTo(line);
            return 0;
        }

        /// <summary>PCACHE_FLUSH: one dirty page written back on its own.</summary>
        public int Flush(uint pid, ulong address, ReadOnlySpan<byte> data)
        {
            int length = MemoryProtocol.WriteFlush(_request, pid, address, data);
            return Endpoint.Call(Node, RpcOpcode.PcacheFlush, new ReadOnlySpan<byte>(_request, 0, length), _reply, out _);
        }

        public long Mmap(uint pid, ulong address, ulong length, int prot, int flags, int fd, ulong offset, out bool fresh)
        {
            return Call(RpcOpcode.Mmap, MemoryProtocol.WriteMmap(_request, pid, prot, flags, fd, address, length, offset), out fresh);
        }

        public long Munmap(uint pid, ulong address, ulong length) =>
            Call(RpcOpcode.Munmap, MemoryProtocol.WriteCall(_request, pid, 0, address, length), out _);

        public long Mprotect(uint pid, ulong address, ulong length, int prot) =>
            Call(RpcOpcode.Mprotect, MemoryProtocol.WriteCall(_request, pid, (uint)prot, address, length), out _);

        public long Mremap(uint pid, ulong oldAddress, ulong oldLength, ulong newLength, int flags, ulong newAddress, out bool fresh) =>
            Call(RpcOpcode.Mremap, MemoryProtocol.WriteCall(_request, pid, (uint)flags, oldAddress, oldLength, newLength, newAddress), out fresh);

        public long Brk(uint pid, ulong address, out bool fresh) =>
            Call(RpcOpcode.Brk, MemoryProtocol.WriteCall(_request, pid, 0, address, 0), out fresh);

        /// <summary>EXIT: the address space and its pages are freed.</summary>
        public int Exit(uint pid)
        {
            int length = MemoryProtocol.WriteCall(_request, pid, 0, 0, 0);
            return Endpoint.Call(Node, RpcOpcode.Exit, new ReadOnlySpan<byte>(_request, 0, length), _reply, out _);
        }

        private long Call(ushort opcode, int length, out bool fresh)
        {
            fresh = false;
            int status = Endpoint.Call(Node, opcode, new ReadOnlySpan<byte>(_request, 0, length), _reply, out int replyLength);
            if (status != RpcStatus.Ok) return status;
            if (replyLength < 8) return -Syscalls.Errno.EIO;
            return MemoryProtocol.ReadResult(new ReadOnlySpan<byte>(_reply, 0, replyLength), out fresh);
        }
    }
}
