// The processor <-> memory component protocol (issue 5; LegoOS's opcodes, DESIGN §1).
// Every payload is little-endian; addresses are user virtual addresses; a process is named by
// the processor's node (the RPC source) and the pid the processor chose. Results that are
// Linux syscall results (mmap, brk, ...) travel as an i64 in an OK reply, so -ENOMEM etc.
// reach the program unchanged; RPC error replies mean the request itself was bad.
//
//  EXECVE   req: u32 pid | u16 argc | u16 envc | then NUL-terminated strings:
//                path, argv[0..argc), envp[0..envc)
//           rep: u64 entry | u64 rsp | u64 brk | u32 freshCount | u32 0 |
//                freshCount x (u64 firstPage | u64 pageCount)   (pages = address >> 12)
//           The memory component builds the address space (ELF segments, bss, stack with argv,
//           envp and auxv). Fresh ranges are anonymous pages no one has written: the processor
//           zero-fills them locally on a miss, with no RPC (ExCache zero-fill).
//  PCACHE_MISS
//           req: u32 pid | u8 flags (1 = write access, 2 = a victim follows) | u8 0 | u16 0 |
//                u64 page address | [u32 victim pid | u32 0 | u64 victim address | 4096 bytes]
//           rep: u8 kind (0 = the page follows, 1 = zero page: nothing follows) | 7 x 0 | [4096]
//           errors: -EFAULT (no area there: segfault), -EACCES (the access is not allowed)
//           A dirty victim rides with the miss (LegoOS combines them); it is stored before the
//           miss is served.
//  PCACHE_FLUSH  (a dirty page written back on its own: munmap, mremap, a zero-filled miss' victim)
//           req: u32 pid | u32 0 | u64 page address | 4096 bytes        rep: empty
//  MMAP     req: u32 pid | u32 prot | u32 flags | i32 fd | u64 addr | u64 length | u64 offset
//           rep: i64 result | u32 fresh (1: [result, result + length) is fresh anonymous) | u32 0
//  MUNMAP   req: u32 pid | u32 0 | u64 addr | u64 length                rep: i64 result
//  MPROTECT req: u32 pid | u32 prot | u64 addr | u64 length             rep: i64 result
//  MREMAP   req: u32 pid | u32 flags | u64 old addr | u64 old length | u64 new length | u64 new addr
//           rep: i64 result | u32 fresh (the grown tail is fresh) | u32 0
//           The processor writes back and drops its cached lines of the old range first.
//  BRK      req: u32 pid | u32 0 | u64 new brk (0: query)               rep: i64 brk | u32 fresh | u32 0
//           When brk grew, [old brk rounded up, new brk rounded up) is fresh.
//  EXIT     req: u32 pid                                                rep: empty
//           The address space and its pages are freed; cached lines are simply dropped.
//
// Additions made by the memory service (branch memsvc), all compatible with the above:
//  - PCACHE_MISS flags bit 4 = instruction fetch (checked against PROT_EXEC; 1 and 4 together
//    are -EINVAL). Reply byte 1 = the area's protection (PROT_READ 1 | PROT_WRITE 2 |
//    PROT_EXEC 4): the processor maps the page writable only with PROT_WRITE and executable
//    only with PROT_EXEC (x86 page tables cannot say write-only; NX needs EFER.NXE).
//    The address may be anywhere inside the page (it is rounded down), here and in FLUSH.
//  - Errors (RPC error replies) in every request: -EINVAL for a malformed payload (wrong
//    length, reserved bytes not zero, unknown flag bits), -ESRCH when (node, pid) has no
//    address space. EXECVE's own failures are error replies too, with execve's errno:
//    -ENOENT (no such executable), -ENOEXEC (not a static x86-64 ELF), -E2BIG (arguments),
//    -ENOMEM (out of frames; a failure after the old image was dropped leaves no process).
//    PCACHE_MISS and PCACHE_FLUSH give -ENOMEM when no frame is left to store a page.
//  - MMAP, MUNMAP, MPROTECT, MREMAP, BRK and EXIT may be padded with zeros up to 40 bytes (the
//    shape WriteCall writes); longer is -EINVAL. MUNMAP and MPROTECT reply 8 bytes.
//  - A victim that cannot be stored (its pid has exited, or no area covers it any more: the
//    processor should not send such, but a late victim must not fail somebody's miss) is
//    dropped and counted; the miss is served. PCACHE_FLUSH of such a page is -EFAULT/-ESRCH.
//  - MMAP without MAP_ANONYMOUS returns -ENODEV: file mappings come with the storage issue.
//  - A page never written back reads as its area says: zeros (reply kind 1) for anonymous
//    memory, the executable's bytes for its file pages (kind 0, read from the boot module on
//    each miss until the processor writes the page back). Fresh ranges at EXECVE: every whole
//    bss page (the tail of the last file page of a segment is zero but comes with the file
//    page, so it is not fresh), and the stack area below the pages holding the initial stack.
//    Fresh pages are read-write (plus execute for the bss of an executable segment, or with
//    PT_GNU_STACK's PF_X for the stack).
//  - Any call that takes pages away (MUNMAP, a BRK shrink, MMAP with MAP_FIXED over a mapping,
//    MREMAP) frees the stored pages of what it removed or replaced. The processor drops its
//    cached lines of such a range (writing them back first, before the request, is allowed and
//    pointless): a write-back after the reply would be -EFAULT, or, for MAP_FIXED, would put
//    stale bytes into the new mapping.
//  - MPROTECT changes the areas only: the processor re-protects (or drops) the lines it caches
//    in the range, since it mapped them with the protection the miss reply gave.
// Pure logic: compiled into the kernels and the host tests.
using System;

namespace Tessera.Core.Rpc
{
    public static class MemoryProtocol
    {
        public const int PageSize = 4096;

        public const byte MissWrite = 1;
        public const byte MissWithVictim = 2;
        public const byte MissExecute = 4;
        public const byte ReplyPage = 0;
        public const byte ReplyZeroPage = 1;

        public const int MissHeader = 16;                    // pid, flags, page address
        public const int VictimHeader = 16;                  // victim pid, victim address
        public const int MissWithVictimSize = MissHeader + VictimHeader + PageSize;
        public const int MissReplyHeader = 8;
        /// <summary>Offset of the area's protection (PROT_* bits) in a miss reply.</summary>
        public const int MissReplyProtection = 1;
        /// <summary>Longest address-space call (MMAP, MREMAP; the others may be padded to this).</summary>
        public const int CallSize = 40;
        public const int ExecveHeader = 8;
        public const int ExecveReplyHeader = 32;
        public const int FreshRangeSize = 16;
        public const int FlushSize = 16 + PageSize;

        public static int WriteMiss(Span<byte> b, uint pid, ulong page, bool write)
        {
            RpcMessage.Put32(b, 0, pid);
            b[4] = write ? MissWrite : (byte)0;
            b[5] = 0; b[6] = 0; b[7] = 0;
            RpcMessage.Put64(b, 8, page);
            return MissHeader;
        }

        /// <summary>Appends a dirty victim to a miss request written by WriteMiss; returns the new length.</summary>
        public static int AddVictim(Span<byte> b, uint victimPid, ulong victimPage, ReadOnlySpan<byte> data)
        {
            b[4] |= MissWithVictim;
            RpcMessage.Put32(b, MissHeader, victimPid);
            RpcMessage.Put32(b, MissHeader + 4, 0);
            RpcMessage.Put64(b, MissHeader + 8, victimPage);
            data.Slice(0, PageSize).CopyTo(b.Slice(MissHeader + VictimHeader));
            return MissWithVictimSize;
        }

        /// <summary>
        /// An EXECVE request: strings holds path, the argc argv strings and the envc envp
        /// strings, each NUL-terminated, back to back. Returns the length, or -1 if it does not fit.
        /// </summary>
        public static int WriteExecve(Span<byte> b, uint pid, int argc, int envc, ReadOnlySpan<byte> strings)
        {
            if (argc < 0 || argc > 0xFFFF || envc < 0 || envc > 0xFFFF || ExecveHeader + strings.Length > b.Length) return -1;
            RpcMessage.Put32(b, 0, pid);
            RpcMessage.Put16(b, 4, (ushort)argc);
            RpcMessage.Put16(b, 6, (ushort)envc);
            strings.CopyTo(b.Slice(ExecveHeader));
            return ExecveHeader + strings.Length;
        }

        /// <summary>An MMAP request (its fields do not line up with WriteCall's).</summary>
        public static int WriteMmap(Span<byte> b, uint pid, int prot, int flags, int fd, ulong address, ulong length, ulong offset)
        {
            RpcMessage.Put32(b, 0, pid);
            RpcMessage.Put32(b, 4, (uint)prot);
            RpcMessage.Put32(b, 8, (uint)flags);
            RpcMessage.Put32(b, 12, (uint)fd);
            RpcMessage.Put64(b, 16, address);
            RpcMessage.Put64(b, 24, length);
            RpcMessage.Put64(b, 32, offset);
            return CallSize;
        }

        public static int WriteFlush(Span<byte> b, uint pid, ulong page, ReadOnlySpan<byte> data)
        {
            RpcMessage.Put32(b, 0, pid);
            RpcMessage.Put32(b, 4, 0);
            RpcMessage.Put64(b, 8, page);
            data.Slice(0, PageSize).CopyTo(b.Slice(16));
            return FlushSize;
        }

        /// <summary>pid | u32 a | u64 b | u64 c | u64 d | u64 e: the shape of the address-space calls.</summary>
        public static int WriteCall(Span<byte> b, uint pid, uint a, ulong x, ulong y, ulong z = 0, ulong w = 0)
        {
            RpcMessage.Put32(b, 0, pid);
            RpcMessage.Put32(b, 4, a);
            RpcMessage.Put64(b, 8, x);
            RpcMessage.Put64(b, 16, y);
            RpcMessage.Put64(b, 24, z);
            RpcMessage.Put64(b, 32, w);
            return 40;
        }

        public static int WriteResult(Span<byte> b, long result, bool fresh)
        {
            RpcMessage.Put64(b, 0, (ulong)result);
            RpcMessage.Put32(b, 8, fresh ? 1u : 0u);
            RpcMessage.Put32(b, 12, 0);
            return 16;
        }

        public static long ReadResult(ReadOnlySpan<byte> b, out bool fresh)
        {
            fresh = b.Length >= 12 && RpcMessage.Get32(b, 8) == 1;
            return b.Length >= 8 ? (long)RpcMessage.Get64(b, 0) : -22;
        }
    }
}
