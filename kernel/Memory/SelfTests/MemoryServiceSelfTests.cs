// Self-tests of the memory service inside the memory kernel, on real physical frames through
// the direct map: the page store, then a whole process life driven through the RPC handlers
// directly (no network, no rig): EXECVE of the embedded tiny executable, misses of file,
// stack, anonymous and stored pages, a write-back, a miss carrying a victim, mmap, brk,
// munmap, refused requests, and EXIT giving every frame back. The host tests check the same
// code in depth (tests/Tessera.Tests/Host/Memory/PageStoreTests.cs, MemoryServiceTests.cs).
using System;
using Tessera.Core;
using Tessera.Core.Rpc;

namespace Tessera.Memory
{
    public static class MemoryServiceSelfTests
    {
        public static void RunAll()
        {
            SelfTest.Run(new PageStoreSelfTest());
            SelfTest.Run(new MemoryServiceSelfTest());
        }
    }

    /// <summary>Physical frames, counted, so a test can see that every frame came back.</summary>
    internal sealed unsafe class CountingPhysicalFrames : PageFrames
    {
        private readonly PhysicalPageFrames _frames = new PhysicalPageFrames();
        public long Outstanding;

        public override bool TryAllocate(out ulong frame)
        {
            if (!_frames.TryAllocate(out frame)) return false;
            Outstanding++;
            return true;
        }

        public override void Free(ulong frame)
        {
            _frames.Free(frame);
            Outstanding--;
        }

        public override byte* Address(ulong frame) => _frames.Address(frame);
    }

    /// <summary>No log lines (they would land inside the self-test's own line); fixed AT_RANDOM.</summary>
    internal sealed class QuietPlatform : MemoryServicePlatform
    {
        public int Exits;
        public override void FillRandom(Span<byte> bytes) { for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)(0xA0 + i); }
        public override ulong HardwareCapabilities => 0;
        public override void Exited(ProcessAddressSpace space, long framesInUse, int liveProcesses) => Exits++;
    }

    internal sealed unsafe class PageStoreSelfTest : SelfTestCase
    {
        public override string Name => "memory.page-store";

        public override string? Run()
        {
            var frames = new CountingPhysicalFrames();
            var store = new PageStore(frames);
            var page = new byte[4096];
            // Pages spread over every level of the tree: low, 2 MiB and 1 GiB apart, near the top.
            ulong[] addresses = { 0x400000, 0x401000, 0x600000, 0x40000000, 0x7ffffffde000, 0x7ffffffff000 - 4096 };
            for (int i = 0; i < addresses.Length; i++)
            {
                for (int k = 0; k < page.Length; k++) page[k] = (byte)(i * 31 + k);
                if (store.Store(addresses[i], page) != 0) return "store failed";
            }
            if (store.StoredPages != addresses.Length) return "page count";
            for (int i = 0; i < addresses.Length; i++)
            {
                byte* p = store.Find(addresses[i] + 123);
                if (p == null) return "stored page not found";
                if (p[0] != (byte)(i * 31) || p[4095] != (byte)(i * 31 + 4095)) return "stored bytes differ";
            }
            if (store.Find(0x402000) != null || store.Find(0x7ffffffdd000) != null) return "a page never stored was found";
            if (store.NextStored(0x402000, 0x7fffffffffff) != 0x600000) return "NextStored";
            store.Move(0x400000, 0x2000, 0x10000000);
            if (store.Find(0x400000) != null || store.Find(0x10001000) == null || store.Find(0x10001000)[0] != 31) return "move";
            store.Drop(0x10000000, 0x7ffffffde000);
            if (store.StoredPages != 3 || store.Find(0x40000000) != null || store.Find(0x600000) == null || store.Find(0x7ffffffde000) == null) return "drop range";
            store.Clear();
            if (store.StoredPages != 0 || store.TableFrames != 0 || frames.Outstanding != 0) return "frames not all given back";
            return null;
        }
    }

    internal sealed unsafe class MemoryServiceSelfTest : SelfTestCase
    {
        public override string Name => "memory.service";

        private const ushort Node = 1;
        private const uint Pid = 7;

        public override string? Run()
        {
            byte[] file = AddressSpaceSelfTests.TinyExecutable();
            var executables = new ExecutableList();
            executables.Add("tiny", file);
            var frames = new CountingPhysicalFrames();
            var platform = new QuietPlatform();
            var service = new MemoryService(frames, executables, platform);
            var request = new byte[RpcMessage.MaxPayload];
            var reply = new byte[RpcMessage.MaxPayload];
            int n, status;

            // EXECVE /bin/tiny tiny x, A=1.
            byte[] strings = Strings("/bin/tiny", "tiny", "x", "A=1");
            n = MemoryProtocol.WriteExecve(request, Pid, 2, 1, strings);
            status = service.Handle(RpcOpcode.Execve, Node, new ReadOnlySpan<byte>(request, 0, n), reply, out int length);
            if (status != 0) return "EXECVE refused";
            ulong entry = RpcMessage.Get64(reply, 0), rsp = RpcMessage.Get64(reply, 8), brk = RpcMessage.Get64(reply, 16);
            if (entry != 0x400100 || brk != 0x405000 || (rsp & 15) != 0) return "EXECVE entry, rsp or brk";
            uint freshCount = RpcMessage.Get32(reply, 24);
            if (length != 32 + 16 * (int)freshCount || freshCount != 2) return "EXECVE fresh ranges";
            if (RpcMessage.Get64(reply, 32) != 0x402 || RpcMessage.Get64(reply, 40) != 3) return "bss not fresh";

            // The entry page comes from the executable; writing it is not allowed.
            if (Miss(service, request, reply, 0x400100, 0, out length) != 0 || length != 8 + 4096 || reply[0] != MemoryProtocol.ReplyPage)
                return "miss of the entry page";
            if (reply[1] != (Prot.Read | Prot.Exec)) return "protection of the text page";
            for (int i = 0; i < 0x200; i++) if (reply[8 + i] != file[i]) return "text page differs from the file";
            for (int i = 0x200; i < 4096; i++) if (reply[8 + i] != 0) return "text page not zero past the segment";
            if (Miss(service, request, reply, 0x400100, MemoryProtocol.MissWrite, out _) != -Errno.EACCES) return "write to text allowed";
            if (Miss(service, request, reply, 0x400100, MemoryProtocol.MissExecute, out _) != 0) return "fetch from text refused";

            // The stack page holding rsp has argc = 2; the bss is a zero page.
            if (Miss(service, request, reply, rsp, MemoryProtocol.MissWrite, out _) != 0 || reply[0] != MemoryProtocol.ReplyPage) return "stack miss";
            if (RpcMessage.Get64(reply, 8 + (int)(rsp & 4095)) != 2) return "argc on the stack";
            if (Miss(service, request, reply, 0x402000, 0, out length) != 0 || reply[0] != MemoryProtocol.ReplyZeroPage || length != 8) return "bss not a zero page";

            // Write-back, then a miss carrying a victim for the page it asks for.
            var data = new byte[4096];
            for (int i = 0; i < data.Length; i++) data[i] = (byte)(i ^ 0x5A);
            n = MemoryProtocol.WriteFlush(request, Pid, 0x402000, data);
            if (service.Handle(RpcOpcode.PcacheFlush, Node, new ReadOnlySpan<byte>(request, 0, n), reply, out length) != 0 || length != 0) return "flush";
            if (Miss(service, request, reply, 0x402000, 0, out _) != 0 || reply[0] != MemoryProtocol.ReplyPage || reply[8 + 100] != (byte)(100 ^ 0x5A)) return "flushed page not served back";
            n = MemoryProtocol.WriteMiss(request, Pid, 0x403000, true);
            data[0] = 0xEE;
            n = MemoryProtocol.AddVictim(request, Pid, 0x403000, data);
            if (service.Handle(RpcOpcode.PcacheMiss, Node, new ReadOnlySpan<byte>(request, 0, n), reply, out _) != 0 || reply[8] != 0xEE) return "victim not stored before the miss";

            // mmap: a fresh area reading as zero; munmap: then a segfault.
            n = MemoryProtocol.WriteMmap(request, Pid, Prot.Read | Prot.Write, MapFlags.Private | MapFlags.Anonymous, -1, 0, 0x2000, 0);
            if (service.Handle(RpcOpcode.Mmap, Node, new ReadOnlySpan<byte>(request, 0, n), reply, out _) != 0) return "mmap refused";
            long mapped = MemoryProtocol.ReadResult(reply, out bool fresh);
            if (mapped <= 0 || !fresh) return "mmap result";
            if (Miss(service, request, reply, (ulong)mapped + 0x1000, MemoryProtocol.MissWrite, out _) != 0 || reply[0] != MemoryProtocol.ReplyZeroPage) return "mmap'd page not zero";
            n = MemoryProtocol.WriteFlush(request, Pid, (ulong)mapped, data);
            if (service.Handle(RpcOpcode.PcacheFlush, Node, new ReadOnlySpan<byte>(request, 0, n), reply, out _) != 0) return "flush into mmap'd area";
            long before = service.FramesInUse;
            n = MemoryProtocol.WriteCall(request, Pid, 0, (ulong)mapped, 0x2000);
            if (service.Handle(RpcOpcode.Munmap, Node, new ReadOnlySpan<byte>(request, 0, n), reply, out _) != 0 || RpcMessage.Get64(reply, 0) != 0) return "munmap";
            if (service.FramesInUse >= before) return "munmap kept the page";
            if (Miss(service, request, reply, (ulong)mapped, 0, out _) != -Errno.EFAULT) return "miss after munmap not a segfault";

            // brk: grows fresh, shrinks and frees.
            n = MemoryProtocol.WriteCall(request, Pid, 0, brk + 0x3000, 0);
            if (service.Handle(RpcOpcode.Brk, Node, new ReadOnlySpan<byte>(request, 0, n), reply, out _) != 0) return "brk refused";
            if ((ulong)MemoryProtocol.ReadResult(reply, out fresh) != brk + 0x3000 || !fresh) return "brk grow";
            n = MemoryProtocol.WriteFlush(request, Pid, brk + 0x2000, data);
            if (service.Handle(RpcOpcode.PcacheFlush, Node, new ReadOnlySpan<byte>(request, 0, n), reply, out _) != 0) return "flush into the heap";
            before = service.FramesInUse;
            n = MemoryProtocol.WriteCall(request, Pid, 0, brk, 0);
            service.Handle(RpcOpcode.Brk, Node, new ReadOnlySpan<byte>(request, 0, n), reply, out _);
            if ((ulong)MemoryProtocol.ReadResult(reply, out _) != brk || service.FramesInUse >= before) return "brk shrink";

            // Refusals: short, unknown pid, another node's pid.
            if (service.Handle(RpcOpcode.PcacheMiss, Node, new ReadOnlySpan<byte>(request, 0, 15), reply, out _) != -Errno.EINVAL) return "short miss accepted";
            n = MemoryProtocol.WriteMiss(request, Pid + 1, 0x400000, false);
            if (service.Handle(RpcOpcode.PcacheMiss, Node, new ReadOnlySpan<byte>(request, 0, n), reply, out _) != -Errno.ESRCH) return "unknown pid accepted";
            n = MemoryProtocol.WriteMiss(request, Pid, 0x400000, false);
            if (service.Handle(RpcOpcode.PcacheMiss, Node + 1, new ReadOnlySpan<byte>(request, 0, n), reply, out _) != -Errno.ESRCH) return "another node's process served";

            // EXIT gives every frame back.
            RpcMessage.Put32(request, 0, Pid);
            if (service.Handle(RpcOpcode.Exit, Node, new ReadOnlySpan<byte>(request, 0, 4), reply, out _) != 0 || platform.Exits != 1) return "exit";
            if (frames.Outstanding != 0 || service.FramesInUse != 0 || service.LiveProcesses != 0) return "frames left after exit";
            if (Miss(service, request, reply, 0x400000, 0, out _) != -Errno.ESRCH) return "miss after exit";
            return null;
        }

        private static int Miss(MemoryService service, byte[] request, byte[] reply, ulong address, byte flags, out int length)
        {
            int n = MemoryProtocol.WriteMiss(request, Pid, address, false);
            request[4] = flags;
            return service.Handle(RpcOpcode.PcacheMiss, Node, new ReadOnlySpan<byte>(request, 0, n), reply, out length);
        }

        private static byte[] Strings(string a, string b, string c, string d)
        {
            var bytes = new byte[a.Length + b.Length + c.Length + d.Length + 4];
            int at = 0;
            at = Put(bytes, at, a);
            at = Put(bytes, at, b);
            at = Put(bytes, at, c);
            Put(bytes, at, d);
            return bytes;
        }

        private static int Put(byte[] bytes, int at, string s)
        {
            for (int i = 0; i < s.Length; i++) bytes[at++] = (byte)s[i];
            bytes[at++] = 0;
            return at;
        }
    }
}
