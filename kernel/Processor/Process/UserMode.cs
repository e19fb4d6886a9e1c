// The way into ring 3 and back (boot/usermode.asm), and the MSRs that make SYSCALL work.
//
// SYSCALL/SYSRET (Intel SDM Vol. 2B SYSCALL, SYSRET; Vol. 3A §5.8.8):
//   IA32_EFER.SCE (bit 0) enables the instructions;
//   IA32_STAR[47:32] = kernel CS (SS = +8), IA32_STAR[63:48] = the base SYSRET adds 8 (SS)
//     and 16 (64-bit CS) to - GlobalDescriptorTable lays the selectors out for that;
//   IA32_LSTAR = the 64-bit entry point (syscall_entry);
//   IA32_FMASK = RFLAGS bits SYSCALL clears: IF (the entry runs on the user's stack until it
//     switches), DF (the ABI wants it clear in the kernel), TF (no single-step trap inside the
//     kernel), AC, NT and IOPL, as Linux does.
// FS and GS bases are the user's: the kernel uses neither segment (FS and GS selectors stay
// null, boot/cpu.asm), so IA32_FS_BASE / IA32_GS_BASE hold the running thread's values and
// arch_prctl writes them directly.
using System.Runtime;
using System.Runtime.CompilerServices;
using Tessera.Core;

namespace Tessera.Processor
{
    public static unsafe class UserMode
    {
        public const uint Efer = 0xC0000080;
        public const uint Star = 0xC0000081;
        public const uint LStar = 0xC0000082;
        public const uint FMask = 0xC0000084;
        public const uint FsBase = 0xC0000100;
        public const uint GsBase = 0xC0000101;

        private const ulong EferSyscallEnable = 1UL << 0;
        // RFLAGS bits (SDM Vol. 1 §3.4.3): TF 8, IF 9, DF 10, IOPL 12-13, NT 14, AC 18.
        private const ulong MaskedFlags = (1UL << 8) | (1UL << 9) | (1UL << 10) | (3UL << 12) | (1UL << 14) | (1UL << 18);

        /// <summary>RFLAGS a user thread starts with: IF set, and bit 1, which is always 1.</summary>
        public const ulong InitialFlags = (1UL << 9) | (1UL << 1);

        /// <summary>What the last user address may be: the lower half minus the top page (as Linux's TASK_SIZE).</summary>
        public const ulong UserTop = 0x00007FFFFFFFF000UL;

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("user_enter")]
        private static extern ulong EnterAsm(InterruptFrame* frame, ulong* kernelContext);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("user_leave")]
        private static extern void LeaveAsm(ulong* kernelContext, ulong status);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("syscall_set_kernel_stack")]
        private static extern void SetSyscallStack(ulong top);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("syscall_entry_address")]
        private static extern ulong SyscallEntryAddress();

        /// <summary>Turns on SYSCALL and points it at syscall_entry (once per CPU).</summary>
        public static void EnableSyscalls()
        {
            Cpu.WriteMsr(Star, ((ulong)GlobalDescriptorTable.SysretBase << 48) | ((ulong)GlobalDescriptorTable.KernelCode << 32));
            Cpu.WriteMsr(LStar, SyscallEntryAddress());
            Cpu.WriteMsr(FMask, MaskedFlags);
            Cpu.WriteMsr(Efer, Cpu.ReadMsr(Efer) | EferSyscallEnable);
        }

        public static bool SyscallsEnabled => (Cpu.ReadMsr(Efer) & EferSyscallEnable) != 0 && Cpu.ReadMsr(LStar) == SyscallEntryAddress();

        /// <summary>
        /// The kernel stack of the thread about to run: where interrupts from ring 3 (TSS.RSP0)
        /// and SYSCALL (syscall_entry) put its frames.
        /// </summary>
        public static void SetKernelStack(ulong top)
        {
            GlobalDescriptorTable.SetKernelStack(top);
            SetSyscallStack(top);
        }

        /// <summary>Where a thread's user frame sits: the top of its kernel stack.</summary>
        public static InterruptFrame* FrameAt(ulong kernelStackTop) => (InterruptFrame*)(kernelStackTop - (ulong)sizeof(InterruptFrame));

        /// <summary>
        /// Runs the thread whose frame is at the top of the current kernel stack (SetKernelStack)
        /// in ring 3 until Leave is called with the same context; returns Leave's status.
        /// Interrupts must be off (the frame's RFLAGS turns them on in ring 3).
        /// </summary>
        public static ulong Enter(InterruptFrame* frame, ulong* kernelContext) => EnterAsm(frame, kernelContext);

        /// <summary>Abandons the current kernel stack and returns from Enter with status.</summary>
        public static void Leave(ulong* kernelContext, ulong status)
        {
            LeaveAsm(kernelContext, status);
            Panic.Halt("user_leave returned");
        }

        /// <summary>True for an address a user pointer may hold (canonical, lower half, below UserTop).</summary>
        public static bool IsUserAddress(ulong address) => address < UserTop;

        /// <summary>True when [address, address + length) lies within user addresses.</summary>
        public static bool IsUserRange(ulong address, ulong length) => address < UserTop && length <= UserTop - address;
    }
}
