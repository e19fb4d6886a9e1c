// The kernel's own GDT with a TSS, replacing the boot stub's three-entry table
// (boot/entry.asm). Long mode ignores segment bases and limits for code and
// data, so the GDT matters for two things: the privilege level of CS/SS, and
// the TSS, which in 64-bit mode holds no task state, only stack pointers: RSP0
// for entry from user mode and the seven interrupt-stack-table (IST) pointers
// (Intel SDM Vol. 3A "Task Management in 64-bit Mode", Figure "64-Bit TSS Format").
//
//   0x00 null   0x08 kernel code   0x10 kernel data
//   0x18 null (where a 32-bit user code segment would go)   0x20 user data   0x28 user code
//   0x30 TSS (16 bytes)
//
// Kernel code and data keep the selectors the boot stub used. The user segments sit where
// SYSCALL/SYSRET need them (Intel SDM Vol. 2B SYSCALL, SYSRET; Vol. 3A §5.8.8): SYSCALL loads
// CS = STAR[47:32] and SS = STAR[47:32] + 8 (0x08, 0x10); SYSRET to 64-bit mode loads
// CS = STAR[63:48] + 16 and SS = STAR[63:48] + 8, both with RPL 3, so with STAR[63:48] = 0x18
// user code must be 0x28 and user data 0x20. Returns through iretq (interrupts from ring 3)
// read the same two descriptors.
using System.Runtime.InteropServices;

namespace Tessera.Core
{
    public static unsafe class GlobalDescriptorTable
    {
        public const ushort KernelCode = 0x08;
        public const ushort KernelData = 0x10;
        public const ushort UserData = 0x20 | 3;
        public const ushort UserCode = 0x28 | 3;
        /// <summary>STAR[63:48]: SYSRET derives UserData (+8) and UserCode (+16) from it.</summary>
        public const ushort SysretBase = 0x18 | 3;
        public const ushort TaskState = 0x30;

        /// <summary>TSS IST slots (1-based, 0 = no stack switch) for the vectors that must survive a broken stack.</summary>
        public const int DoubleFaultStack = 1, NmiStack = 2, MachineCheckStack = 3;
        public const int InterruptStackCount = 3;

        private const int EntryCount = 8;
        private const int TssSize = 104;
        private const int TssRsp0 = 0x04;
        private const int TssIst1 = 0x24;           // IST1..IST7 at 0x24 + 8 * (n - 1)
        private const int TssIoMapBase = 0x66;

        [StructLayout(LayoutKind.Sequential)]
        private struct Storage
        {
            public fixed ulong Gdt[EntryCount];
            public fixed byte Tss[TssSize];
        }

        // In the image's static data, not on the heap: installed before anything else runs.
        private static Storage s_storage;
        private static ulong* s_gdt;
        private static byte* s_tss;

        public static void Install()
        {
            fixed (ulong* gdt = s_storage.Gdt) s_gdt = gdt;
            fixed (byte* tss = s_storage.Tss) s_tss = tss;

            for (int i = 1; i <= InterruptStackCount; i++)
                *(ulong*)(s_tss + TssIst1 + 8 * (i - 1)) = (ulong)InterruptStacks.Top(i);
            // An I/O map base at or past the limit means "no I/O permission bitmap":
            // user mode gets no port access (SDM Vol. 1 §19.5.2).
            *(ushort*)(s_tss + TssIoMapBase) = TssSize;

            s_gdt[0] = 0;
            s_gdt[KernelCode / 8] = DescriptorEncoding.CodeSegment64(0);
            s_gdt[KernelData / 8] = DescriptorEncoding.DataSegment(0);
            s_gdt[3] = 0;
            s_gdt[UserData / 8] = DescriptorEncoding.DataSegment(3);
            s_gdt[UserCode / 8] = DescriptorEncoding.CodeSegment64(3);
            DescriptorEncoding.TssDescriptor((ulong)s_tss, TssSize - 1, out s_gdt[TaskState / 8], out s_gdt[TaskState / 8 + 1]);

            byte* pointer = stackalloc byte[16];
            *(ushort*)pointer = EntryCount * 8 - 1;
            *(ulong*)(pointer + 2) = (ulong)s_gdt;
            Cpu.LoadGdt(pointer, KernelCode, KernelData);
            // ltr marks the descriptor busy (type 9 -> 11), so the GDT must be writable.
            Cpu.LoadTaskRegister(TaskState);
        }

        /// <summary>
        /// TSS.RSP0: the stack the CPU switches to when an interrupt or exception arrives in ring 3
        /// (SDM Vol. 3A §6.14.4): the top of the running user thread's kernel stack.
        /// </summary>
        public static void SetKernelStack(ulong top) => *(ulong*)(s_tss + TssRsp0) = top;

        public static ulong KernelStack => *(ulong*)(s_tss + TssRsp0);

        /// <summary>The stack pointer TSS IST slot ist (1-3) switches to.</summary>
        public static ulong InterruptStackPointer(int ist) => *(ulong*)(s_tss + TssIst1 + 8 * (ist - 1));
    }

    /// <summary>The IST stacks reserved in boot/interrupts.asm (16 KiB each).</summary>
    public static unsafe class InterruptStacks
    {
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.InternalCall), System.Runtime.RuntimeImport("interrupt_stack_bottom")]
        public static extern byte* Bottom(int ist);
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.InternalCall), System.Runtime.RuntimeImport("interrupt_stack_top")]
        public static extern byte* Top(int ist);
    }
}
