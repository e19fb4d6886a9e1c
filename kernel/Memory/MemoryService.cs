// The memory component's service to processors (DESIGN §1, issue 5): address spaces keyed by
// (processor node, pid), exec, the page service (miss, miss with a dirty victim, write-back)
// and the address-space system calls. The wire format is kernel/Core/Rpc/MemoryProtocol.cs;
// this file is what each request does, in the order Linux would do it:
//
//  EXECVE       parse the request, find the executable, parse the ELF, size the initial
//               stack (all before anything changes: a failure here leaves an old image
//               intact, as execve's errors before the point of no return do); then drop the
//               old image, ProgramLoader.Load, store the pages holding the initial stack,
//               reply with entry, rsp, brk and the fresh ranges.
//  PCACHE_MISS  store the victim first (it may be the very page asked for), then the verdict
//               of VmaSet.CheckFault (which also grows a stack), then the page: stored,
//               else the executable's bytes for a file page, else "zero page".
//  PCACHE_FLUSH store the page if an area covers it.
//  MMAP ...BRK  the VmaSet call; then the page store follows the areas: pages of a range that
//               no area covers any more are freed (munmap, brk shrink, the old range of an
//               mremap), pages under a MAP_FIXED mapping are freed (it replaces them), pages
//               of a moved area move with it.
//  EXIT         free everything, report the counters.
//
// Invariant: every stored page lies inside an area of its process. Every request is
// validated before use (lengths, reserved bytes, flags, pid); nothing a processor sends can
// make the service fault, and a refused request changes nothing.
// Handlers run on the RPC receive path: nothing here blocks or waits.
// Pure logic: compiled into the memory kernel and the host tests.
using System;
using Tessera.Core.Rpc;

namespace Tessera.Memory
{
    public sealed unsafe class MemoryService
    {
        private const ulong Page = AddressSpaceLayout.PageSize;
        private const int PageBytes = MemoryProtocol.PageSize;
        /// <summary>
        /// Room for the initial stack. An EXECVE request carries at most MaxPayload (8 KiB) of
        /// strings, i.e. at most 4096 strings: 8 KiB of strings, 32 KiB of pointers, the file
        /// name again and a few hundred bytes of auxv and padding stay under 64 KiB.
        /// </summary>
        public const int StackBufferBytes = 64 * 1024;

        private readonly PageFrames _frames;
        private readonly ExecutableSource _executables;
        private readonly MemoryServicePlatform _platform;
        private readonly AddressSpaceLayout _layout;
        private readonly ElfImage _image = new ElfImage();
        private readonly byte[] _stack = new byte[StackBufferBytes];
        private ProcessAddressSpace?[] _spaces = new ProcessAddressSpace?[8];
        private int _spaceCount;
        private int _lastFound;

        public MemoryService(PageFrames frames, ExecutableSource executables, MemoryServicePlatform platform, AddressSpaceLayout layout)
        {
            _frames = frames;
            _executables = executables;
            _platform = platform;
            _layout = layout;
        }

        public MemoryService(PageFrames frames, ExecutableSource executables, MemoryServicePlatform platform)
            : this(frames, executables, platform, AddressSpaceLayout.LinuxX8664) { }

        public ExecutableSource Executables => _executables;

        /// <summary>Processes with an address space.</summary>
        public int LiveProcesses
        {
            get
            {
                int n = 0;
                for (int i = 0; i < _spaceCount; i++) if (_spaces[i]!.Live) n++;
                return n;
            }
        }

        /// <summary>Frames held for every process: stored pages plus page-store tables.</summary>
        public long FramesInUse
        {
            get
            {
                long n = 0;
                for (int i = 0; i < _spaceCount; i++) if (_spaces[i]!.Live) n += _spaces[i]!.Pages.FramesInUse;
                return n;
            }
        }

        /// <summary>The live address space of (node, pid), or null.</summary>
        public ProcessAddressSpace? Find(ushort node, uint pid)
        {
            if (_lastFound < _spaceCount)
            {
                ProcessAddressSpace s = _spaces[_lastFound]!;
                if (s.Live && s.Node == node && s.Pid == pid) return s;
            }
            for (int i = 0; i < _spaceCount; i++)
            {
                ProcessAddressSpace s = _spaces[i]!;
                if (s.Live && s.Node == node && s.Pid == pid)
                {
                    _lastFound = i;
                    return s;
                }
            }
            return null;
        }

        /// <summary>Serves one request; the result is RpcStatus.Ok or a negative errno (an error reply).</summary>
        public int Handle(ushort opcode, ushort source, ReadOnlySpan<byte> request, Span<byte> reply, out int replyLength)
        {
            replyLength = 0;
            int status;
            switch (opcode)
            {
                case RpcOpcode.Execve: status = Execve(source, request, reply, out replyLength); break;
                case RpcOpcode.PcacheMiss: status = Miss(source, request, reply, out replyLength); break;
                case RpcOpcode.PcacheFlush: status = Flush(source, request); break;
                case RpcOpcode.Mmap: status = Mmap(source, request, reply, out replyLength); break;
                case RpcOpcode.Munmap: status = Munmap(source, request, reply, out replyLength); break;
                case RpcOpcode.Mprotect: status = Mprotect(source, request, reply, out replyLength); break;
                case RpcOpcode.Mremap: status = Mremap(source, request, reply, out replyLength); break;
                case RpcOpcode.Brk: status = Brk(source, request, reply, out replyLength); break;
                case RpcOpcode.Exit: status = Exit(source, request); break;
                default: return RpcStatus.ENOSYS;
            }
            if (status != RpcStatus.Ok) replyLength = 0;
            return status;
        }

        // ---- EXECVE ----------------------------------------------------------------------

        private int Execve(ushort source, ReadOnlySpan<byte> request, Span<byte> reply, out int replyLength)
        {
            replyLength = 0;
            if (request.Length < MemoryProtocol.ExecveHeader) return -Errno.EINVAL;
            uint pid = RpcMessage.Get32(request, 0);
            int argc = RpcMessage.Get16(request, 4);
            int envc = RpcMessage.Get16(request, 6);
            if (pid == 0) return -Errno.EINVAL;
            ReadOnlySpan<byte> strings = request.Slice(MemoryProtocol.ExecveHeader);

            // path, argv, envp: exactly 1 + argc + envc NUL-terminated strings, nothing after.
            int pathEnd = SkipStrings(strings, 0, 1);
            if (pathEnd < 0) return -Errno.EINVAL;
            int argEnd = SkipStrings(strings, pathEnd, argc);
            if (argEnd < 0) return -Errno.EINVAL;
            int envEnd = SkipStrings(strings, argEnd, envc);
            if (envEnd != strings.Length) return -Errno.EINVAL;
            ReadOnlySpan<byte> path = strings.Slice(0, pathEnd - 1);
            if (path.Length == 0) return ExecFailed(source, pid, path, -Errno.ENOENT, ElfError.None);

            ulong fileId = _executables.Find(path);
            if (fileId == 0) return ExecFailed(source, pid, path, -Errno.ENOENT, ElfError.None);
            ElfError elf = _image.Parse(_executables.Bytes(fileId));
            if (elf != ElfError.None) return ExecFailed(source, pid, path, -Errno.ENOEXEC, elf);

            Span<byte> random = stackalloc byte[16];
            _platform.FillRandom(random);
            var input = new InitialStackInput
            {
                Arguments = strings.Slice(pathEnd, argEnd - pathEnd),
                Environment = strings.Slice(argEnd, envEnd - argEnd),
                ExecFn = path,
                Random = random,
                HwCap = _platform.HardwareCapabilities,
            };
            ulong required = InitialStack.RequiredBytes(input, _layout.StackLimit);
            ulong stackBytes = AddressSpaceLayout.PageAlign(required);
            if (required == 0 || stackBytes > (ulong)_stack.Length) return ExecFailed(source, pid, path, -Errno.E2BIG, ElfError.None);

            // The point of no return: the old image (if any) goes.
            ProcessAddressSpace? space = Find(source, pid);
            if (space is null) space = Create(source, pid);
            else space.Reset();
            space.FileId = fileId;

            Span<byte> stack = new Span<byte>(_stack, 0, (int)stackBytes);
            int loaded = ProgramLoader.Load(space.Areas, _image, fileId, input, stack, out ProgramStart start);
            if (loaded < 0)
            {
                Release(space);
                return ExecFailed(source, pid, path, loaded, ElfError.None);
            }
            ulong bottom = start.StackTop - stackBytes;
            for (ulong p = start.StackPopulatedStart; p < start.StackTop; p += Page)
            {
                if (space.Pages.Store(p, stack.Slice((int)(p - bottom), PageBytes)) < 0)
                {
                    Release(space);
                    return ExecFailed(source, pid, path, -Errno.ENOMEM, ElfError.None);
                }
            }
            space.NotePeak();

            RpcMessage.Put64(reply, 0, start.Entry);
            RpcMessage.Put64(reply, 8, start.StackPointer);
            RpcMessage.Put64(reply, 16, start.BrkStart);
            int fresh = 0;
            int at = MemoryProtocol.ExecveReplyHeader;
            for (int i = 0; i < space.Areas.Count; i++)
            {
                Vma area = space.Areas[i];
                ulong freshEnd = area.Kind == VmaKind.Anonymous ? area.End
                    : area.Kind == VmaKind.Stack ? (start.StackPopulatedStart < area.End ? start.StackPopulatedStart : area.End)
                    : area.Start;
                if (freshEnd <= area.Start || at + MemoryProtocol.FreshRangeSize > reply.Length) continue;
                RpcMessage.Put64(reply, at, area.Start >> 12);
                RpcMessage.Put64(reply, at + 8, (freshEnd - area.Start) >> 12);
                at += MemoryProtocol.FreshRangeSize;
                fresh++;
            }
            RpcMessage.Put32(reply, 24, (uint)fresh);
            RpcMessage.Put32(reply, 28, 0);
            replyLength = at;
            _platform.Executed(space, path, start);
            return RpcStatus.Ok;
        }

        // Offset just after count NUL-terminated strings starting at offset, or -1.
        private static int SkipStrings(ReadOnlySpan<byte> s, int offset, int count)
        {
            for (int n = 0; n < count; n++)
            {
                while (offset < s.Length && s[offset] != 0) offset++;
                if (offset >= s.Length) return -1;
                offset++;
            }
            return offset;
        }

        private int ExecFailed(ushort node, uint pid, ReadOnlySpan<byte> path, int errno, ElfError elf)
        {
            _platform.ExecFailed(node, pid, path, errno, elf);
            return errno;
        }

        private ProcessAddressSpace Create(ushort node, uint pid)
        {
            ProcessAddressSpace? space = null;
            for (int i = 0; i < _spaceCount; i++)
            {
                if (!_spaces[i]!.Live) { space = _spaces[i]; break; }
            }
            if (space is null)
            {
                if (_spaceCount == _spaces.Length)
                {
                    var bigger = new ProcessAddressSpace?[_spaces.Length * 2];
                    for (int i = 0; i < _spaceCount; i++) bigger[i] = _spaces[i];
                    _spaces = bigger;
                }
                space = new ProcessAddressSpace(_layout, _frames);
                _spaces[_spaceCount++] = space;
            }
            space.Reset();
            space.Node = node;
            space.Pid = pid;
            space.Live = true;
            return space;
        }

        private static void Release(ProcessAddressSpace space)
        {
            space.Reset();
            space.Live = false;
        }

        // ---- the page service -------------------------------------------------------------

        private int Miss(ushort source, ReadOnlySpan<byte> request, Span<byte> reply, out int replyLength)
        {
            replyLength = 0;
            if (request.Length < MemoryProtocol.MissHeader) return -Errno.EINVAL;
            byte flags = request[4];
            if ((flags & ~(MemoryProtocol.MissWrite | MemoryProtocol.MissWithVictim | MemoryProtocol.MissExecute)) != 0) return -Errno.EINVAL;
            if ((flags & MemoryProtocol.MissWrite) != 0 && (flags & MemoryProtocol.MissExecute) != 0) return -Errno.EINVAL;
            if (request[5] != 0 || request[6] != 0 || request[7] != 0) return -Errno.EINVAL;
            bool withVictim = (flags & MemoryProtocol.MissWithVictim) != 0;
            if (request.Length != (withVictim ? MemoryProtocol.MissWithVictimSize : MemoryProtocol.MissHeader)) return -Errno.EINVAL;
            if (withVictim && RpcMessage.Get32(request, MemoryProtocol.MissHeader + 4) != 0) return -Errno.EINVAL;
            ProcessAddressSpace? space = Find(source, RpcMessage.Get32(request, 0));
            if (space is null) return -Errno.ESRCH;

            if (withVictim)
            {
                // Stored before the miss is served: the victim may be the page asked for.
                uint victimPid = RpcMessage.Get32(request, MemoryProtocol.MissHeader);
                ulong victimAddress = RpcMessage.Get64(request, MemoryProtocol.MissHeader + 8);
                ProcessAddressSpace? owner = victimPid == space.Pid ? space : Find(source, victimPid);
                if (owner is null || owner.Areas.IndexOf(victimAddress) < 0)
                {
                    space.Counters.VictimsDropped++;
                }
                else
                {
                    int written = owner.Pages.Store(AddressSpaceLayout.PageDown(victimAddress),
                        request.Slice(MemoryProtocol.MissHeader + MemoryProtocol.VictimHeader, PageBytes));
                    if (written < 0) return written;
                    owner.Counters.WriteBacks++;
                    owner.Counters.Victims++;
                    owner.NotePeak();
                }
            }

            ulong address = RpcMessage.Get64(request, 8);
            FaultAccess access = (flags & MemoryProtocol.MissWrite) != 0 ? FaultAccess.Write
                : (flags & MemoryProtocol.MissExecute) != 0 ? FaultAccess.Execute : FaultAccess.Read;
            FaultVerdict verdict = space.Areas.CheckFault(address, access, out Vma area);
            if (verdict != FaultVerdict.Allowed)
            {
                space.Counters.Refused++;
                return verdict == FaultVerdict.Unmapped ? -Errno.EFAULT : -Errno.EACCES;
            }

            ulong page = AddressSpaceLayout.PageDown(address);
            for (int i = 0; i < MemoryProtocol.MissReplyHeader; i++) reply[i] = 0;
            reply[MemoryProtocol.MissReplyProtection] = area.Protection;
            space.Counters.Misses++;
            Span<byte> data = reply.Slice(MemoryProtocol.MissReplyHeader, PageBytes);
            byte* stored = space.Pages.Find(page);
            if (stored != null)
            {
                fixed (byte* d = data) PageStore.CopyPage(d, stored);
                space.Counters.StoredPages++;
            }
            else if (area.FileSource(page, out ulong offset, out uint bytes) && bytes > 0)
            {
                ReadOnlySpan<byte> file = _executables.Bytes(area.FileId);
                // ElfImage checked every segment against the file; clamp anyway.
                int n = offset >= (ulong)file.Length ? 0 : (ulong)file.Length - offset < bytes ? (int)((ulong)file.Length - offset) : (int)bytes;
                if (n > 0) file.Slice((int)offset, n).CopyTo(data);
                data.Slice(n).Clear();
                space.Counters.FilePages++;
            }
            else
            {
                reply[0] = MemoryProtocol.ReplyZeroPage;
                space.Counters.ZeroPages++;
                replyLength = MemoryProtocol.MissReplyHeader;
                return RpcStatus.Ok;
            }
            reply[0] = MemoryProtocol.ReplyPage;
            replyLength = MemoryProtocol.MissReplyHeader + PageBytes;
            return RpcStatus.Ok;
        }

        private int Flush(ushort source, ReadOnlySpan<byte> request)
        {
            if (request.Length != MemoryProtocol.FlushSize || RpcMessage.Get32(request, 4) != 0) return -Errno.EINVAL;
            ProcessAddressSpace? space = Find(source, RpcMessage.Get32(request, 0));
            if (space is null) return -Errno.ESRCH;
            ulong address = RpcMessage.Get64(request, 8);
            if (space.Areas.IndexOf(address) < 0)
            {
                space.Counters.Refused++;
                return -Errno.EFAULT;
            }
            int stored = space.Pages.Store(AddressSpaceLayout.PageDown(address), request.Slice(16, PageBytes));
            if (stored < 0) return stored;
            space.Counters.WriteBacks++;
            space.NotePeak();
            return RpcStatus.Ok;
        }

        // ---- address-space calls ----------------------------------------------------------

        // The calls are minimum bytes long, padded with anything up to CallSize (WriteCall
        // writes 40); reservedAt, if not -1, is a u32 that must be zero.
        private ProcessAddressSpace? CallSpace(ushort source, ReadOnlySpan<byte> request, int minimum, int reservedAt, out int status)
        {
            status = RpcStatus.Ok;
            if (request.Length < minimum || request.Length > MemoryProtocol.CallSize || (reservedAt >= 0 && RpcMessage.Get32(request, reservedAt) != 0))
            {
                status = -Errno.EINVAL;
                return null;
            }
            ProcessAddressSpace? space = Find(source, RpcMessage.Get32(request, 0));
            if (space is null) status = -Errno.ESRCH;
            return space;
        }

        private int Mmap(ushort source, ReadOnlySpan<byte> request, Span<byte> reply, out int replyLength)
        {
            replyLength = 0;
            ProcessAddressSpace? space = CallSpace(source, request, MemoryProtocol.CallSize, -1, out int status);
            if (space is null) return status;
            int prot = (int)RpcMessage.Get32(request, 4);
            int flags = (int)RpcMessage.Get32(request, 8);
            ulong address = RpcMessage.Get64(request, 16);
            ulong length = RpcMessage.Get64(request, 24);
            ulong offset = RpcMessage.Get64(request, 32);
            bool anonymous = (flags & MapFlags.Anonymous) != 0;
            long result = anonymous ? space.Areas.Mmap(address, length, prot, flags, 0, offset) : -Errno.ENODEV;
            if (result >= 0)
            {
                // A MAP_FIXED mapping replaces whatever was there, pages included.
                space.Pages.Drop((ulong)result, (ulong)result + AddressSpaceLayout.PageAlign(length));
            }
            replyLength = MemoryProtocol.WriteResult(reply, result, result >= 0);
            return RpcStatus.Ok;
        }

        private int Munmap(ushort source, ReadOnlySpan<byte> request, Span<byte> reply, out int replyLength)
        {
            replyLength = 0;
            ProcessAddressSpace? space = CallSpace(source, request, 24, 4, out int status);
            if (space is null) return status;
            ulong address = RpcMessage.Get64(request, 8);
            ulong length = RpcMessage.Get64(request, 16);
            int result = space.Areas.Munmap(address, length);
            if (result == 0) DropUnmapped(space, address, length);
            RpcMessage.Put64(reply, 0, (ulong)(long)result);
            replyLength = 8;
            return RpcStatus.Ok;
        }

        private int Mprotect(ushort source, ReadOnlySpan<byte> request, Span<byte> reply, out int replyLength)
        {
            replyLength = 0;
            ProcessAddressSpace? space = CallSpace(source, request, 24, -1, out int status);
            if (space is null) return status;
            int prot = (int)RpcMessage.Get32(request, 4);
            ulong address = RpcMessage.Get64(request, 8);
            ulong length = RpcMessage.Get64(request, 16);
            int result = space.Areas.Mprotect(address, length, prot);
            RpcMessage.Put64(reply, 0, (ulong)(long)result);
            replyLength = 8;
            return RpcStatus.Ok;
        }

        private int Mremap(ushort source, ReadOnlySpan<byte> request, Span<byte> reply, out int replyLength)
        {
            replyLength = 0;
            ProcessAddressSpace? space = CallSpace(source, request, MemoryProtocol.CallSize, -1, out int status);
            if (space is null) return status;
            int flags = (int)RpcMessage.Get32(request, 4);
            ulong oldAddress = RpcMessage.Get64(request, 8);
            ulong oldLength = RpcMessage.Get64(request, 16);
            ulong newLength = RpcMessage.Get64(request, 24);
            ulong newAddress = RpcMessage.Get64(request, 32);
            long result = space.Areas.Mremap(oldAddress, oldLength, newLength, flags, newAddress, out MremapResult moved);
            bool fresh = false;
            if (result >= 0)
            {
                if (moved.Moved)
                {
                    // MREMAP_FIXED may have replaced a mapping at the destination: its pages go,
                    // then the old range's pages move in.
                    space.Pages.Drop(moved.NewAddress, moved.NewAddress + moved.NewLength);
                    ulong count = moved.OldLength < moved.NewLength ? moved.OldLength : moved.NewLength;
                    space.Pages.Move(moved.OldAddress, count, moved.NewAddress);
                }
                // Whatever of the old range no area covers any more (a shrunk tail, the
                // vacated old place) loses its pages.
                DropUnmapped(space, oldAddress, oldLength);
                ulong oldPages = AddressSpaceLayout.PageAlign(oldLength);
                int at = space.Areas.IndexOf((ulong)result);
                fresh = moved.NewLength > oldPages && at >= 0 && space.Areas[at].Kind != VmaKind.File;
            }
            replyLength = MemoryProtocol.WriteResult(reply, result, fresh);
            return RpcStatus.Ok;
        }

        private int Brk(ushort source, ReadOnlySpan<byte> request, Span<byte> reply, out int replyLength)
        {
            replyLength = 0;
            ProcessAddressSpace? space = CallSpace(source, request, 16, 4, out int status);
            if (space is null) return status;
            ulong requested = RpcMessage.Get64(request, 8);
            ulong oldTop = AddressSpaceLayout.PageAlign(space.Areas.CurrentBrk);
            ulong result = space.Areas.Brk(requested);
            ulong newTop = AddressSpaceLayout.PageAlign(result);
            if (newTop < oldTop) DropUnmapped(space, newTop, oldTop - newTop);
            replyLength = MemoryProtocol.WriteResult(reply, (long)result, newTop > oldTop);
            return RpcStatus.Ok;
        }

        private int Exit(ushort source, ReadOnlySpan<byte> request)
        {
            ProcessAddressSpace? space = CallSpace(source, request, 4, -1, out int status);
            if (space is null) return status;
            _platform.Exited(space, FramesInUse, LiveProcesses);
            Release(space);
            return RpcStatus.Ok;
        }

        // Frees the stored pages of [address, address + length) (page-rounded, clipped to the
        // user space) that no area covers.
        private void DropUnmapped(ProcessAddressSpace space, ulong address, ulong length)
        {
            ulong start = AddressSpaceLayout.PageDown(address);
            ulong top = _layout.TaskSize;
            if (start >= top) return;
            ulong end = length > top - start ? top : AddressSpaceLayout.PageAlign(address + length);
            if (end > top || end < start) end = top;
            VmaSet areas = space.Areas;
            ulong cursor = start;
            int i = areas.FindFirstEndingAfter(cursor);
            while (cursor < end)
            {
                ulong gapEnd = i < areas.Count && areas[i].Start < end ? areas[i].Start : end;
                if (gapEnd > cursor) space.Pages.Drop(cursor, gapEnd);
                if (i >= areas.Count || areas[i].Start >= end) break;
                cursor = areas[i].End;
                i++;
            }
        }
    }
}
