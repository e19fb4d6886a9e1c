using System.Text;
using Tessera.Core.Rpc;
using Tessera.Memory;

namespace Tessera.Tests.Host.Memory;

/// <summary>
/// The processor's side of the memory protocol (kernel/Core/Rpc/MemoryProtocol.cs), for tests:
/// builds each request, sends it through call (a MemoryService directly, an RpcEndpoint on a
/// simulated network, or the host's endpoint on a real rig) and decodes the reply.
/// </summary>
public sealed class MemoryClient(Func<ushort, byte[], (int Status, byte[] Reply)> call)
{
    public readonly record struct ExecResult(int Status, ulong Entry, ulong StackPointer, ulong Brk, (ulong FirstPage, ulong Count)[] Fresh);
    public readonly record struct MissResult(int Status, byte Kind, byte Protection, byte[] Data);
    public readonly record struct CallResult(int Status, long Result, bool Fresh);

    /// <summary>A client calling service directly as node.</summary>
    public static MemoryClient Direct(MemoryService service, ushort node) => new((opcode, request) =>
    {
        var reply = new byte[RpcMessage.MaxPayload];
        int status = service.Handle(opcode, node, request, reply, out int length);
        return (status, reply[..length]);
    });

    /// <summary>A client calling node through endpoint.</summary>
    public static MemoryClient Remote(RpcEndpoint endpoint, ushort node) => new((opcode, request) =>
    {
        var reply = new byte[RpcMessage.MaxPayload];
        int status = endpoint.Call(node, opcode, request, reply, out int length);
        return (status, reply[..length]);
    });

    public (int Status, byte[] Reply) Raw(ushort opcode, byte[] request) => call(opcode, request);

    public ExecResult Execve(uint pid, string path, string[] argv, string[] envp)
    {
        var strings = new List<byte>();
        foreach (var s in new[] { path }.Concat(argv).Concat(envp)) { strings.AddRange(Encoding.UTF8.GetBytes(s)); strings.Add(0); }
        var request = new byte[MemoryProtocol.ExecveHeader + strings.Count];
        Assert(MemoryProtocol.WriteExecve(request, pid, argv.Length, envp.Length, strings.ToArray()) == request.Length);
        var (status, reply) = call(RpcOpcode.Execve, request);
        if (status != 0) return new ExecResult(status, 0, 0, 0, []);
        int count = (int)RpcMessage.Get32(reply, 24);
        Assert(reply.Length == MemoryProtocol.ExecveReplyHeader + count * MemoryProtocol.FreshRangeSize);
        var fresh = new (ulong, ulong)[count];
        for (int i = 0; i < count; i++)
            fresh[i] = (RpcMessage.Get64(reply, 32 + 16 * i), RpcMessage.Get64(reply, 40 + 16 * i));
        return new ExecResult(0, RpcMessage.Get64(reply, 0), RpcMessage.Get64(reply, 8), RpcMessage.Get64(reply, 16), fresh);
    }

    public MissResult Miss(uint pid, ulong address, byte flags = 0, (uint Pid, ulong Address, byte[] Data)? victim = null)
    {
        var request = new byte[MemoryProtocol.MissWithVictimSize];
        int n = MemoryProtocol.WriteMiss(request, pid, address, false);
        request[4] = flags;
        if (victim is var (vpid, vaddress, data)) n = MemoryProtocol.AddVictim(request, vpid, vaddress, data);
        var (status, reply) = call(RpcOpcode.PcacheMiss, request[..n]);
        if (status != 0) return new MissResult(status, 0, 0, []);
        Assert(reply.Length == (reply[0] == MemoryProtocol.ReplyPage ? 8 + 4096 : 8));
        return new MissResult(0, reply[0], reply[1], reply[8..]);
    }

    /// <summary>The page's bytes as the processor would have them after a miss: the data, or zeros.</summary>
    public byte[] Read(uint pid, ulong address)
    {
        var r = Miss(pid, address);
        if (r.Status != 0) throw new InvalidOperationException($"miss at {address:x}: {r.Status}");
        return r.Kind == MemoryProtocol.ReplyPage ? r.Data : new byte[4096];
    }

    public int Flush(uint pid, ulong address, byte[] data)
    {
        var request = new byte[MemoryProtocol.FlushSize];
        MemoryProtocol.WriteFlush(request, pid, address, data);
        return call(RpcOpcode.PcacheFlush, request).Status;
    }

    public CallResult Mmap(uint pid, ulong address, ulong length, int prot, int flags, int fd = -1, ulong offset = 0)
    {
        var request = new byte[MemoryProtocol.CallSize];
        MemoryProtocol.WriteMmap(request, pid, prot, flags, fd, address, length, offset);
        return Result(call(RpcOpcode.Mmap, request));
    }

    public CallResult Munmap(uint pid, ulong address, ulong length) => Call(RpcOpcode.Munmap, pid, 0, address, length);
    public CallResult Mprotect(uint pid, ulong address, ulong length, int prot) => Call(RpcOpcode.Mprotect, pid, (uint)prot, address, length);
    public CallResult Mremap(uint pid, ulong oldAddress, ulong oldLength, ulong newLength, int flags, ulong newAddress = 0) =>
        Call(RpcOpcode.Mremap, pid, (uint)flags, oldAddress, oldLength, newLength, newAddress);
    public CallResult Brk(uint pid, ulong brk) => Call(RpcOpcode.Brk, pid, 0, brk, 0);

    public int Exit(uint pid)
    {
        var request = new byte[4];
        RpcMessage.Put32(request, 0, pid);
        return call(RpcOpcode.Exit, request).Status;
    }

    private CallResult Call(ushort opcode, uint pid, uint a, ulong x, ulong y, ulong z = 0, ulong w = 0)
    {
        var request = new byte[MemoryProtocol.CallSize];
        MemoryProtocol.WriteCall(request, pid, a, x, y, z, w);
        return Result(call(opcode, request));
    }

    private static CallResult Result((int Status, byte[] Reply) r)
    {
        if (r.Status != 0) return new CallResult(r.Status, 0, false);
        long result = MemoryProtocol.ReadResult(r.Reply, out bool fresh);
        return new CallResult(0, result, fresh);
    }

    private static void Assert(bool condition)
    {
        if (!condition) throw new InvalidOperationException("malformed memory-protocol reply");
    }
}

/// <summary>The platform for host tests: fixed AT_RANDOM, no AT_HWCAP, and every report recorded.</summary>
public sealed class RecordingPlatform : MemoryServicePlatform
{
    public readonly List<string> Reports = [];
    public override void FillRandom(Span<byte> bytes) { for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)(0x30 + i); }
    public override ulong HardwareCapabilities => 0x178bfbff;
    public override void Executed(ProcessAddressSpace space, ReadOnlySpan<byte> path, in ProgramStart start) =>
        Reports.Add($"exec {space.Node}/{space.Pid} {Encoding.ASCII.GetString(path)}");
    public override void ExecFailed(ushort node, uint pid, ReadOnlySpan<byte> path, int errno, ElfError elfError) =>
        Reports.Add($"exec-failed {node}/{pid} {Encoding.ASCII.GetString(path)} {errno} {elfError}");
    public override void Exited(ProcessAddressSpace space, long framesInUse, int liveProcesses) =>
        Reports.Add($"exit {space.Node}/{space.Pid} misses={space.Counters.Misses} writebacks={space.Counters.WriteBacks} dropped={space.Counters.VictimsDropped} stored={space.Pages.StoredPages}");
}
