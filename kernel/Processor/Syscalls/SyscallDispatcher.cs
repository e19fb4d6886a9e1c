// The C# side of SYSCALL (boot/usermode.asm's syscall_entry calls syscall_dispatch with the
// user's InterruptFrame). The Linux x86-64 convention (arch/x86/entry/entry_64.S): rax holds
// the number, rdi rsi rdx r10 r8 r9 the arguments, the result goes back in rax (-errno in
// [-4095, -1] for failures); every other register is preserved, which the entry stub does.
//
// What each call does is in docs/processor.md. Address-space calls go to the process's pager
// (the ExCache and its memory component). Every user pointer goes through UserAccess, so a
// bad one is -EFAULT. Any other syscall number returns -ENOSYS, and the first time a program
// makes it the kernel log names it (SyscallNames). `syscall_trace` on the command line logs
// every call with its arguments and result.
using System;
using System.Runtime;
using Tessera.Core;

namespace Tessera.Processor.Syscalls
{
    public static unsafe class SyscallDispatcher
    {
        /// <summary>Linux caps one read or write at this (MAX_RW_COUNT: INT_MAX rounded down to a page).</summary>
        public const ulong MaxTransfer = 0x7FFFF000;
        /// <summary>UIO_MAXIOV.</summary>
        public const int MaxIov = 1024;

        public const int ArchSetGs = 0x1001, ArchSetFs = 0x1002, ArchGetFs = 0x1003, ArchGetGs = 0x1004;

        private static readonly ulong[] s_reported = new ulong[(SyscallNames.Highest + 64) / 64 + 1];
        public static bool Trace;
        /// <summary>Syscalls answered -ENOSYS since boot.</summary>
        public static ulong Unimplemented;

        [RuntimeExport("syscall_dispatch")]
        private static void Dispatch(InterruptFrame* frame)
        {
            Process? p = Processes.Current;
            if (p is null) { Panic.Halt("syscall with no current process"); return; }
            long number = (long)frame->Rax;
            long result = Handle(p, number, frame->Rdi, frame->Rsi, frame->Rdx, frame->R10, frame->R8, frame->R9);
            if (Trace) TraceCall(p, number, frame, result);
            frame->Rax = (ulong)result;
        }

        public static long Handle(Process p, long number, ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5)
        {
            switch (number)
            {
                case SyscallNumbers.Read: return Read(p, (int)a0, a1, a2);
                case SyscallNumbers.Write: return Write(p, (int)a0, a1, a2);
                case SyscallNumbers.Writev: return Writev(p, (int)a0, a1, (int)a2);
                case SyscallNumbers.Exit:
                case SyscallNumbers.ExitGroup:
                    if (Trace) { Console.Write("syscall: "); Console.Write(SyscallNames.Of(number)); Console.Write('('); Console.WriteDecimal((long)a0); Console.WriteLine(")"); }
                    Processes.Exit(p, (int)a0);
                    return 0;
                case SyscallNumbers.Brk: return p.Pager.Brk(p, a0);
                case SyscallNumbers.Mmap: return p.Pager.Mmap(p, a0, a1, (int)a2, (int)a3, (int)a4, a5);
                case SyscallNumbers.Munmap: return Munmap(p, a0, a1);
                case SyscallNumbers.Mprotect: return Mprotect(p, a0, a1, (int)a2);
                case SyscallNumbers.Mremap: return p.Pager.Mremap(p, a0, a1, a2, (int)a3, a4);
                case SyscallNumbers.Madvise: return p.Pager.Madvise(p, a0, a1, (int)a2);
                case SyscallNumbers.ArchPrctl: return ArchPrctl(p, (int)a0, a1);
                case SyscallNumbers.SetTidAddress: p.ClearChildTid = a0; return p.Pid;
                case SyscallNumbers.Getpid: return p.Pid;
                case SyscallNumbers.Gettid: return p.Pid;
                case SyscallNumbers.Uname: return Uname(p, a0);
                case SyscallNumbers.ClockGettime: return ClockGettime(p, (int)a0, a1);
                case SyscallNumbers.RtSigaction: return RtSigaction(p, (int)a0, a1, a2, a3);
                case SyscallNumbers.RtSigprocmask: return RtSigprocmask(p, (int)a0, a1, a2, a3);
                case SyscallNumbers.Ioctl: return (int)a0 >= 0 && (int)a0 <= 2 ? -Errno.ENOTTY : -Errno.EBADF;
                default: return NotImplemented(number);
            }
        }

        // ---------------- console I/O ----------------

        /// <summary>fd 0 has no input source yet: end of file. The output descriptors are write-only.</summary>
        private static long Read(Process p, int fd, ulong buffer, ulong count)
        {
            if (fd == 1 || fd == 2) return -Errno.EBADF;
            if (fd != 0) return -Errno.EBADF;
            if (count != 0 && !UserMode.IsUserRange(buffer, count)) return -Errno.EFAULT;
            return 0;
        }

        private static OutputSink? SinkOf(Process p, int fd) => fd == 1 ? p.Stdout : fd == 2 ? p.Stderr : null;

        private static long Write(Process p, int fd, ulong buffer, ulong count)
        {
            OutputSink? sink = SinkOf(p, fd);
            if (sink is null) return -Errno.EBADF;
            if (count > MaxTransfer) count = MaxTransfer;
            if (count == 0) return 0;
            if (!UserMode.IsUserRange(buffer, count)) return -Errno.EFAULT;
            ulong written = WriteFromUser(p, sink, buffer, count);
            return written == 0 ? -Errno.EFAULT : (long)written;
        }

        /// <summary>Copies count bytes from user memory to sink a page at a time; returns how many went out before a bad page.</summary>
        private static ulong WriteFromUser(Process p, OutputSink sink, ulong buffer, ulong count)
        {
            ulong written = 0;
            while (written < count)
            {
                ulong at = buffer + written;
                byte* from = UserAccess.Translate(p, at, write: false);
                if (from == null) break;
                ulong chunk = 4096 - (at & 4095);
                if (chunk > count - written) chunk = count - written;
                sink.Write(new ReadOnlySpan<byte>(from, (int)chunk));
                written += chunk;
            }
            return written;
        }

        /// <summary>writev: the iovec array is read and checked whole first (as Linux's import_iovec), then written in order.</summary>
        private static long Writev(Process p, int fd, ulong iov, int count)
        {
            OutputSink? sink = SinkOf(p, fd);
            if (sink is null) return -Errno.EBADF;
            if (count < 0 || count > MaxIov) return -Errno.EINVAL;
            if (count == 0) return 0;
            ulong* vectors = stackalloc ulong[count * 2];
            if (!UserAccess.CopyFromUser(p, vectors, iov, (ulong)count * 16)) return -Errno.EFAULT;
            ulong total = 0;
            for (int i = 0; i < count; i++)
            {
                ulong length = vectors[i * 2 + 1];
                if ((long)length < 0) return -Errno.EINVAL;
                if (length > MaxTransfer - total) vectors[i * 2 + 1] = length = MaxTransfer - total;
                if (length != 0 && !UserMode.IsUserRange(vectors[i * 2], length)) return -Errno.EFAULT;
                total += length;
            }
            ulong written = 0;
            for (int i = 0; i < count; i++)
            {
                ulong length = vectors[i * 2 + 1];
                if (length == 0) continue;
                ulong done = WriteFromUser(p, sink, vectors[i * 2], length);
                written += done;
                if (done < length) return written == 0 ? -Errno.EFAULT : (long)written;
            }
            return (long)written;
        }

        // ---------------- memory ----------------

        private static long Munmap(Process p, ulong address, ulong length)
        {
            if ((address & 4095) != 0 || length == 0 || !UserMode.IsUserRange(address, length)) return -Errno.EINVAL;
            return p.Pager.Munmap(p, address, length);
        }

        private static long Mprotect(Process p, ulong address, ulong length, int prot)
        {
            if ((address & 4095) != 0) return -Errno.EINVAL;
            if (length == 0) return 0;
            return p.Pager.Mprotect(p, address, length, prot);
        }

        // ---------------- process state ----------------

        private static long ArchPrctl(Process p, int code, ulong address)
        {
            switch (code)
            {
                case ArchSetFs:
                case ArchSetGs:
                    // The MSRs take any canonical address; a user may only name its own half (Linux: -EPERM).
                    if (address >= UserMode.UserTop) return -Errno.EPERM;
                    if (code == ArchSetFs) { p.FsBase = address; Cpu.WriteMsr(UserMode.FsBase, address); }
                    else { p.GsBase = address; Cpu.WriteMsr(UserMode.GsBase, address); }
                    return 0;
                case ArchGetFs:
                    return UserAccess.WriteUInt64(p, address, p.FsBase) ? 0 : -Errno.EFAULT;
                case ArchGetGs:
                    return UserAccess.WriteUInt64(p, address, p.GsBase) ? 0 : -Errno.EFAULT;
                default:
                    return -Errno.EINVAL;
            }
        }

        private static long Uname(Process p, ulong buffer)
        {
            byte* b = stackalloc byte[Utsname.Size];
            Utsname.Fill(new Span<byte>(b, Utsname.Size));
            return UserAccess.CopyToUser(p, buffer, b, Utsname.Size) ? 0 : -Errno.EFAULT;
        }

        private static long ClockGettime(Process p, int clock, ulong timespec)
        {
            ulong ns;
            switch (clock)
            {
                case 0: case 5: ns = WallClock.NowNanoseconds(); break;                     // REALTIME, REALTIME_COARSE
                case 1: case 4: case 6: case 7: ns = Clock.MonotonicNanoseconds(); break;   // MONOTONIC, _RAW, _COARSE, BOOTTIME
                case 2: case 3: ns = Clock.TicksToNanoseconds(Clock.Ticks - p.StartTicks); break; // PROCESS_ / THREAD_CPUTIME_ID
                default: return -Errno.EINVAL;
            }
            ulong* t = stackalloc ulong[2];
            t[0] = ns / 1000000000UL;
            t[1] = ns % 1000000000UL;
            return UserAccess.CopyToUser(p, timespec, t, 16) ? 0 : -Errno.EFAULT;
        }

        private static long RtSigaction(Process p, int signal, ulong action, ulong oldAction, ulong setSize)
        {
            if (setSize != SignalState.SigsetSize) return -Errno.EINVAL;
            ulong* fresh = stackalloc ulong[SignalState.ActionWords];
            ulong* old = stackalloc ulong[SignalState.ActionWords];
            if (action != 0 && !UserAccess.CopyFromUser(p, fresh, action, SignalState.ActionBytes)) return -Errno.EFAULT;
            int status = p.Signals.SetAction(signal, new ReadOnlySpan<ulong>(fresh, SignalState.ActionWords), action != 0,
                new Span<ulong>(old, SignalState.ActionWords), oldAction != 0);
            if (status != 0) return status;
            if (oldAction != 0 && !UserAccess.CopyToUser(p, oldAction, old, SignalState.ActionBytes)) return -Errno.EFAULT;
            return 0;
        }

        private static long RtSigprocmask(Process p, int how, ulong set, ulong oldSet, ulong setSize)
        {
            if (setSize != SignalState.SigsetSize) return -Errno.EINVAL;
            ulong mask = 0;
            if (set != 0 && !UserAccess.ReadUInt64(p, set, out mask)) return -Errno.EFAULT;
            int status = p.Signals.ChangeMask(how, mask, set != 0, out ulong old);
            if (status != 0) return status;
            if (oldSet != 0 && !UserAccess.WriteUInt64(p, oldSet, old)) return -Errno.EFAULT;
            return 0;
        }

        // ---------------- the rest ----------------

        private static long NotImplemented(long number)
        {
            Unimplemented++;
            int bit = number >= 0 && number <= SyscallNames.Highest ? (int)number : SyscallNames.Highest + 1;
            if ((s_reported[bit >> 6] & (1UL << (bit & 63))) != 0) return -Errno.ENOSYS;
            s_reported[bit >> 6] |= 1UL << (bit & 63);
            if (Log.Begin(LogLevel.Warn))
            {
                Console.Write("syscall ");
                Console.WriteDecimal(number);
                string? name = SyscallNames.Of(number);
                Console.Write(name is null ? " (no such syscall)" : " (");
                if (name is not null) { Console.Write(name); Console.Write(')'); }
                Console.WriteLine(bit > SyscallNames.Highest ? " is not implemented: -ENOSYS (further unknown numbers are not reported)" : " is not implemented: -ENOSYS");
            }
            return -Errno.ENOSYS;
        }

        private static void TraceCall(Process p, long number, InterruptFrame* frame, long result)
        {
            Console.Write("syscall: ");
            string? name = SyscallNames.Of(number);
            if (name is null) { Console.Write('#'); Console.WriteDecimal(number); } else Console.Write(name);
            Console.Write('(');
            Console.WriteHex(frame->Rdi); Console.Write(", ");
            Console.WriteHex(frame->Rsi); Console.Write(", ");
            Console.WriteHex(frame->Rdx); Console.Write(", ");
            Console.WriteHex(frame->R10);
            Console.Write(") = ");
            Console.WriteDecimal(result);
            Console.WriteLine();
        }
    }
}
