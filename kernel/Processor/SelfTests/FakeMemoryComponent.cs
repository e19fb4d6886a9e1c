// A memory component in miniature for the ExCache self-test: the server side of
// MemoryProtocol on an RpcEndpoint joined to the processor's by an in-memory link
// (kernel/Core/SelfTests/RpcSelfTest.cs's LoopbackLink), so the processor's real miss path -
// ExCache, MemoryClient, RPC codec - runs with no network and no second VM. It keeps a few
// areas and a few stored pages (local frames) for one process, and serves PCACHE_MISS (the
// page, or "zero page" when it holds none; victims stored first; -EFAULT outside any area,
// -EACCES for an access the area forbids), PCACHE_FLUSH, anonymous MMAP, MUNMAP, BRK and EXIT.
// The real service (kernel/Memory) does all of this for any number of processes; this one
// only needs to be right for the programs of boot/usertests.asm.
using System;
using Tessera.Core.Memory;
using Tessera.Core.Rpc;

namespace Tessera.Processor
{
    internal sealed unsafe class FakeMemoryComponent
    {
        private const int MaxAreas = 8, MaxPages = 96;
        private const int ProtRead = 1, ProtWrite = 2, ProtExec = 4;

        private readonly ulong[] _areaStart = new ulong[MaxAreas], _areaEnd = new ulong[MaxAreas];
        private readonly int[] _areaProt = new int[MaxAreas];
        private int _areas;
        private readonly ulong[] _pageAddress = new ulong[MaxPages], _pageFrame = new ulong[MaxPages];
        private int _pages;
        private ulong _nextMmap = 0x10000000;
        private ulong _brkStart, _brk;

        public uint Pid;
        public bool ExitReceived;
        public ulong PagesStored, MissesServed, ZeroReplies, VictimsStored, Refused;

        public FakeMemoryComponent(RpcEndpoint server)
        {
            server.Register(RpcOpcode.PcacheMiss, new MissHandler(this));
            server.Register(RpcOpcode.PcacheFlush, new FlushHandler(this));
            server.Register(RpcOpcode.Mmap, new MmapHandler(this));
            server.Register(RpcOpcode.Munmap, new MunmapHandler(this));
            server.Register(RpcOpcode.Brk, new BrkHandler(this));
            server.Register(RpcOpcode.Exit, new ExitHandler(this));
        }

        public void AddArea(ulong start, ulong end, int prot)
        {
            _areaStart[_areas] = start;
            _areaEnd[_areas] = end;
            _areaProt[_areas] = prot;
            _areas++;
        }

        public void SetBreak(ulong start) { _brkStart = _brk = start; }

        /// <summary>Stores bytes as the content of the page at address (a loaded program, preset data).</summary>
        public bool Preload(ulong address, byte* bytes, int length)
        {
            byte* page = PageFor(address, create: true);
            if (page == null) return false;
            for (int i = 0; i < length && i < 4096; i++) page[i] = bytes[i];
            return true;
        }

        /// <summary>The stored copy of the page at address (null when the fake holds none).</summary>
        public byte* StoredPage(ulong address) => PageFor(address, create: false);

        public int StoredPages => _pages;

        private int AreaOf(ulong address)
        {
            for (int i = 0; i < _areas; i++) if (address >= _areaStart[i] && address < _areaEnd[i]) return i;
            return -1;
        }

        private byte* PageFor(ulong address, bool create)
        {
            address &= ~4095UL;
            for (int i = 0; i < _pages; i++) if (_pageAddress[i] == address) return DirectMap.ToVirtual(_pageFrame[i]);
            if (!create || _pages == MaxPages || !PhysicalFrames.TryAllocate(out ulong frame)) return null;
            _pageAddress[_pages] = address;
            _pageFrame[_pages] = frame;
            _pages++;
            byte* bytes = DirectMap.ToVirtual(frame);
            new Span<ulong>(bytes, 512).Clear();
            return bytes;
        }

        private void DropPages(ulong start, ulong end)
        {
            for (int i = 0; i < _pages;)
            {
                if (_pageAddress[i] < start || _pageAddress[i] >= end) { i++; continue; }
                PhysicalFrames.Free(_pageFrame[i]);
                _pages--;
                _pageAddress[i] = _pageAddress[_pages];
                _pageFrame[i] = _pageFrame[_pages];
            }
        }

        private bool Store(ulong address, ReadOnlySpan<byte> data)
        {
            if (AreaOf(address) < 0) return false;
            byte* page = PageFor(address, create: true);
            if (page == null) return false;
            data.Slice(0, 4096).CopyTo(new Span<byte>(page, 4096));
            PagesStored++;
            return true;
        }

        /// <summary>Frees every stored page (the test's cleanup, and EXIT).</summary>
        public void Clear()
        {
            DropPages(0, ulong.MaxValue);
            _areas = 0;
            _nextMmap = 0x10000000;
            PagesStored = MissesServed = ZeroReplies = VictimsStored = Refused = 0;
        }

        private sealed class MissHandler : RpcHandler
        {
            private readonly FakeMemoryComponent _m;
            public MissHandler(FakeMemoryComponent m) { _m = m; }

            public override int Handle(ushort source, ReadOnlySpan<byte> request, Span<byte> reply, out int replyLength)
            {
                replyLength = 0;
                if (request.Length < MemoryProtocol.MissHeader || RpcMessage.Get32(request, 0) != _m.Pid) return RpcStatus.EINVAL;
                byte flags = request[4];
                ulong address = RpcMessage.Get64(request, 8);
                if ((flags & MemoryProtocol.MissWithVictim) != 0)
                {
                    if (request.Length != MemoryProtocol.MissWithVictimSize) return RpcStatus.EINVAL;
                    ulong victim = RpcMessage.Get64(request, MemoryProtocol.MissHeader + 8);
                    if (_m.Store(victim, request.Slice(MemoryProtocol.MissHeader + MemoryProtocol.VictimHeader, 4096))) _m.VictimsStored++;
                }
                int area = _m.AreaOf(address);
                if (area < 0) { _m.Refused++; return RpcStatus.EFAULT; }
                int prot = _m._areaProt[area];
                bool write = (flags & MemoryProtocol.MissWrite) != 0, execute = (flags & MemoryProtocol.MissExecute) != 0;
                if ((write && (prot & ProtWrite) == 0) || (execute && (prot & ProtExec) == 0) || prot == 0)
                {
                    _m.Refused++;
                    return -13;   // EACCES
                }
                _m.MissesServed++;
                reply.Slice(0, MemoryProtocol.MissReplyHeader).Clear();
                reply[MemoryProtocol.MissReplyProtection] = (byte)prot;
                byte* page = _m.PageFor(address, create: false);
                if (page == null)
                {
                    _m.ZeroReplies++;
                    reply[0] = MemoryProtocol.ReplyZeroPage;
                    replyLength = MemoryProtocol.MissReplyHeader;
                    return RpcStatus.Ok;
                }
                reply[0] = MemoryProtocol.ReplyPage;
                new ReadOnlySpan<byte>(page, 4096).CopyTo(reply.Slice(MemoryProtocol.MissReplyHeader));
                replyLength = MemoryProtocol.MissReplyHeader + 4096;
                return RpcStatus.Ok;
            }
        }

        private sealed class FlushHandler : RpcHandler
        {
            private readonly FakeMemoryComponent _m;
            public FlushHandler(FakeMemoryComponent m) { _m = m; }

            public override int Handle(ushort source, ReadOnlySpan<byte> request, Span<byte> reply, out int replyLength)
            {
                replyLength = 0;
                if (request.Length != MemoryProtocol.FlushSize || RpcMessage.Get32(request, 0) != _m.Pid) return RpcStatus.EINVAL;
                return _m.Store(RpcMessage.Get64(request, 8), request.Slice(16, 4096)) ? RpcStatus.Ok : RpcStatus.EFAULT;
            }
        }

        private sealed class MmapHandler : RpcHandler
        {
            private readonly FakeMemoryComponent _m;
            public MmapHandler(FakeMemoryComponent m) { _m = m; }

            public override int Handle(ushort source, ReadOnlySpan<byte> request, Span<byte> reply, out int replyLength)
            {
                replyLength = 0;
                if (request.Length < MemoryProtocol.CallSize || RpcMessage.Get32(request, 0) != _m.Pid) return RpcStatus.EINVAL;
                int prot = (int)RpcMessage.Get32(request, 4);
                int flags = (int)RpcMessage.Get32(request, 8);
                ulong length = (RpcMessage.Get64(request, 24) + 4095) & ~4095UL;
                long result;
                if ((flags & 0x20) == 0 || (flags & 0x10) != 0 || length == 0 || _m._areas == MaxAreas) result = -22;
                else
                {
                    result = (long)_m._nextMmap;
                    _m.AddArea(_m._nextMmap, _m._nextMmap + length, prot);
                    _m._nextMmap += length + 4096;
                }
                replyLength = MemoryProtocol.WriteResult(reply, result, fresh: result > 0 && prot == (ProtRead | ProtWrite));
                return RpcStatus.Ok;
            }
        }

        private sealed class MunmapHandler : RpcHandler
        {
            private readonly FakeMemoryComponent _m;
            public MunmapHandler(FakeMemoryComponent m) { _m = m; }

            public override int Handle(ushort source, ReadOnlySpan<byte> request, Span<byte> reply, out int replyLength)
            {
                replyLength = 0;
                if (request.Length < 24 || RpcMessage.Get32(request, 0) != _m.Pid) return RpcStatus.EINVAL;
                ulong start = RpcMessage.Get64(request, 8), end = start + ((RpcMessage.Get64(request, 16) + 4095) & ~4095UL);
                // Only whole areas go (enough for the test programs).
                for (int i = 0; i < _m._areas; i++)
                {
                    if (_m._areaStart[i] < start || _m._areaEnd[i] > end) continue;
                    _m._areas--;
                    _m._areaStart[i] = _m._areaStart[_m._areas];
                    _m._areaEnd[i] = _m._areaEnd[_m._areas];
                    _m._areaProt[i] = _m._areaProt[_m._areas];
                    i--;
                }
                _m.DropPages(start, end);
                replyLength = MemoryProtocol.WriteResult(reply, 0, false);
                return RpcStatus.Ok;
            }
        }

        private sealed class BrkHandler : RpcHandler
        {
            private readonly FakeMemoryComponent _m;
            public BrkHandler(FakeMemoryComponent m) { _m = m; }

            public override int Handle(ushort source, ReadOnlySpan<byte> request, Span<byte> reply, out int replyLength)
            {
                replyLength = 0;
                if (request.Length < 16 || RpcMessage.Get32(request, 0) != _m.Pid) return RpcStatus.EINVAL;
                ulong wanted = RpcMessage.Get64(request, 8);
                bool fresh = false;
                if (wanted > _m._brk && _m._areas < MaxAreas)
                {
                    ulong oldEnd = (_m._brk + 4095) & ~4095UL, newEnd = (wanted + 4095) & ~4095UL;
                    if (newEnd > oldEnd) { _m.AddArea(oldEnd, newEnd, ProtRead | ProtWrite); fresh = true; }
                    _m._brk = wanted;
                }
                replyLength = MemoryProtocol.WriteResult(reply, (long)_m._brk, fresh);
                return RpcStatus.Ok;
            }
        }

        private sealed class ExitHandler : RpcHandler
        {
            private readonly FakeMemoryComponent _m;
            public ExitHandler(FakeMemoryComponent m) { _m = m; }

            public override int Handle(ushort source, ReadOnlySpan<byte> request, Span<byte> reply, out int replyLength)
            {
                replyLength = 0;
                if (request.Length < 4 || RpcMessage.Get32(request, 0) != _m.Pid) return RpcStatus.EINVAL;
                _m.ExitReceived = true;
                return RpcStatus.Ok;
            }
        }
    }
}
