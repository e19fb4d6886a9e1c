// A process's signal dispositions and blocked mask, as rt_sigaction and rt_sigprocmask see
// them (Linux kernel/signal.c semantics). Recorded only: nothing delivers signals yet, and a
// fault ends the process as the default action of SIGSEGV would.
//   - The kernel's struct sigaction on x86-64 is four u64: handler, flags, restorer, mask
//     (arch/x86/include/uapi/asm/signal.h, struct sigaction with SA_RESTORER).
//   - Signal n is bit n - 1 of a mask; the kernel's sigset is 64 bits, so sigsetsize must be 8.
//   - SIGKILL and SIGSTOP can neither be caught nor blocked: setting their action is -EINVAL,
//     and they are silently removed from every mask.
// Pure logic: compiled into the processor image and the host tests.
using System;

namespace Tessera.Processor.Syscalls
{
    public sealed class SignalState
    {
        public const int Count = 64;
        public const int SigKill = 9;
        public const int SigStop = 19;
        public const int SigBlock = 0, SigUnblock = 1, SigSetMask = 2;
        public const int ActionWords = 4;
        public const int ActionBytes = ActionWords * 8;
        /// <summary>The only sigsetsize the x86-64 kernel accepts.</summary>
        public const ulong SigsetSize = 8;

        private const ulong Unblockable = (1UL << (SigKill - 1)) | (1UL << (SigStop - 1));

        private readonly ulong[] _actions = new ulong[Count * ActionWords];

        /// <summary>The blocked signals.</summary>
        public ulong Mask;

        /// <summary>
        /// rt_sigaction: copies the current action of signal into oldAction (4 words) when asked,
        /// then installs newAction when given. Returns 0 or a negative errno.
        /// </summary>
        public int SetAction(int signal, ReadOnlySpan<ulong> newAction, bool hasNew, Span<ulong> oldAction, bool wantOld)
        {
            if (signal < 1 || signal > Count) return -Errno.EINVAL;
            if (hasNew && (signal == SigKill || signal == SigStop)) return -Errno.EINVAL;
            int at = (signal - 1) * ActionWords;
            if (wantOld) for (int i = 0; i < ActionWords; i++) oldAction[i] = _actions[at + i];
            if (hasNew)
            {
                for (int i = 0; i < ActionWords; i++) _actions[at + i] = newAction[i];
                _actions[at + 3] &= ~Unblockable;
            }
            return 0;
        }

        /// <summary>The handler word of signal's action (0 = SIG_DFL, 1 = SIG_IGN).</summary>
        public ulong HandlerOf(int signal) => signal >= 1 && signal <= Count ? _actions[(signal - 1) * ActionWords] : 0;

        /// <summary>rt_sigprocmask: old receives the mask before the change. Returns 0 or a negative errno.</summary>
        public int ChangeMask(int how, ulong set, bool hasSet, out ulong old)
        {
            old = Mask;
            if (!hasSet) return 0;
            if (how == SigBlock) Mask |= set;
            else if (how == SigUnblock) Mask &= ~set;
            else if (how == SigSetMask) Mask = set;
            else return -Errno.EINVAL;
            Mask &= ~Unblockable;
            return 0;
        }
    }
}
