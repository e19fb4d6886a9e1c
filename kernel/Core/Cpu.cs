// Thin C# names for the instructions in boot/cpu.asm. RuntimeImport makes ILC
// emit a direct call to the symbol, with no marshalling or transition frame.
using System.Runtime;
using System.Runtime.CompilerServices;

namespace Tessera.Core
{
    public static unsafe class Cpu
    {
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("cpu_outb")] public static extern void OutByte(ushort port, byte value);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("cpu_outw")] public static extern void OutWord(ushort port, ushort value);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("cpu_outd")] public static extern void OutDword(ushort port, uint value);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("cpu_inb")] public static extern byte InByte(ushort port);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("cpu_inw")] public static extern ushort InWord(ushort port);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("cpu_ind")] public static extern uint InDword(ushort port);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("cpu_rdtsc")] public static extern ulong ReadTimestampCounter();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("cpu_halt")] public static extern void Halt();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("cpu_pause")] public static extern void Pause();
        /// <summary>mfence: every earlier load and store completes before any later one (virtio's "suitable memory barrier").</summary>
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("cpu_memory_fence")] public static extern void MemoryFence();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("cpu_disable_interrupts")] public static extern void DisableInterrupts();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("cpu_enable_interrupts")] public static extern void EnableInterrupts();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("cpu_read_cr0")] public static extern ulong ReadCr0();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("cpu_read_cr2")] public static extern ulong ReadCr2();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("cpu_read_cr3")] public static extern ulong ReadCr3();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("cpu_read_cr4")] public static extern ulong ReadCr4();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("cpu_read_rflags")] public static extern ulong ReadFlags();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("cpu_rdmsr")] public static extern ulong ReadMsr(uint msr);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("cpu_wrmsr")] public static extern void WriteMsr(uint msr, ulong value);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("cpu_cpuid")] public static extern void CpuId(uint leaf, uint subleaf, uint* out4);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("cpu_capture_registers")] public static extern void CaptureRegisters(ulong* out22);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("cpu_read_rbp")] public static extern ulong ReadFramePointer();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("cpu_write_cr3")] public static extern void WriteCr3(ulong value);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("cpu_write_cr4")] public static extern void WriteCr4(ulong value);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("cpu_invlpg")] public static extern void InvalidatePage(ulong virtualAddress);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("cpu_load_gdt")] public static extern void LoadGdt(void* pointer, ushort codeSelector, ushort dataSelector);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("cpu_load_idt")] public static extern void LoadIdt(void* pointer);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("cpu_load_task_register")] public static extern void LoadTaskRegister(ushort selector);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("cpu_save_flags_and_disable_interrupts")] public static extern ulong SaveFlagsAndDisableInterrupts();
        /// <summary>sti; hlt as one step: an interrupt pending at the sti still ends the hlt.</summary>
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("cpu_enable_interrupts_and_halt")] public static extern void EnableInterruptsAndHalt();

        /// <summary>RFLAGS.IF (bit 9): maskable interrupts are enabled.</summary>
        public const ulong InterruptFlag = 1UL << 9;

        public static bool InterruptsEnabled => (ReadFlags() & InterruptFlag) != 0;

        /// <summary>Re-enables interrupts if the saved RFLAGS had them enabled (pairs with SaveFlagsAndDisableInterrupts).</summary>
        public static void RestoreInterrupts(ulong savedFlags)
        {
            if ((savedFlags & InterruptFlag) != 0) EnableInterrupts();
        }

        /// <summary>Stops this CPU for good: interrupts off, then hlt forever.</summary>
        public static void HaltForever()
        {
            DisableInterrupts();
            while (true) Halt();
        }
    }

    // Where the linker put things (boot/linker.ld, read through boot/runtime.asm).
    // The kernel runs in the higher half: every address here is virtual
    // (VirtualBase + physical) except the two Physical* ones.
    public static unsafe class KernelLayout
    {
        /// <summary>Where the kernel image is linked: virtual = VirtualBase + physical (boot/linker.ld).</summary>
        public const ulong VirtualBase = 0xFFFFFFFF80000000;

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("layout_modules_start")] public static extern void** ModulesStart();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("layout_modules_end")] public static extern void** ModulesEnd();
        /// <summary>First byte of the higher-half image (= TextStart); the 32-bit boot code below it is not counted.</summary>
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("layout_kernel_start")] public static extern byte* KernelStart();
        /// <summary>End of the image (end of .bss), page aligned.</summary>
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("layout_kernel_end")] public static extern byte* KernelEnd();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("layout_text_start")] public static extern byte* TextStart();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("layout_text_end")] public static extern byte* TextEnd();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("layout_rodata_start")] public static extern byte* RodataStart();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("layout_rodata_end")] public static extern byte* RodataEnd();
        /// <summary>Start of .data; .data and .bss run from here to KernelEnd.</summary>
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("layout_data_start")] public static extern byte* DataStart();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("layout_bss_end")] public static extern byte* BssEnd();
        /// <summary>The unmapped page right under the boot kernel stack.</summary>
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("layout_stack_guard")] public static extern byte* StackGuard();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("layout_stack_bottom")] public static extern byte* StackBottom();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("layout_stack_top")] public static extern byte* StackTop();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("layout_boot_heap_start")] public static extern byte* BootHeapStart();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("layout_boot_heap_end")] public static extern byte* BootHeapEnd();
        /// <summary>Physical load address of the whole image, the 32-bit boot code and multiboot headers included (1 MiB).</summary>
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("layout_kernel_physical_start")] public static extern ulong PhysicalStart();
        /// <summary>Physical end of the image (end of .bss), page aligned.</summary>
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("layout_kernel_physical_end")] public static extern ulong PhysicalEnd();

        /// <summary>Physical address of a byte of the (higher-half) kernel image.</summary>
        public static ulong ToPhysical(void* imageAddress) => (ulong)imageAddress - VirtualBase;
    }
}
