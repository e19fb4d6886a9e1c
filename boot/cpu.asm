; Instructions C# cannot express: port I/O, control registers, MSRs, TSC, hlt.
; Each is a plain System V function (args in rdi, rsi; result in rax).
bits 64
section .text

global cpu_outb, cpu_outw, cpu_outd, cpu_inb, cpu_inw, cpu_ind
cpu_outb:
    mov dx, di
    mov al, sil
    out dx, al
    ret
cpu_outw:
    mov dx, di
    mov ax, si
    out dx, ax
    ret
cpu_outd:
    mov dx, di
    mov eax, esi
    out dx, eax
    ret
cpu_inb:
    mov dx, di
    xor eax, eax
    in al, dx
    ret
cpu_inw:
    mov dx, di
    xor eax, eax
    in ax, dx
    ret
cpu_ind:
    mov dx, di
    in eax, dx
    ret

global cpu_rdtsc
cpu_rdtsc:
    lfence
    rdtsc
    shl rdx, 32
    or rax, rdx
    ret

; A full memory barrier: no later load passes an earlier store (x86 may otherwise
; reorder exactly that pair, Intel SDM Vol. 3A §9.2.3.4); virtio needs it between
; publishing buffers and reading whether the device wants to be told (virtio 1.1 §2.6.13.6).
global cpu_memory_fence
cpu_memory_fence:
    mfence
    ret

global cpu_halt, cpu_pause, cpu_disable_interrupts, cpu_enable_interrupts
cpu_halt:
    hlt
    ret
cpu_pause:
    pause
    ret
cpu_disable_interrupts:
    cli
    ret
cpu_enable_interrupts:
    sti
    ret

global cpu_read_cr0, cpu_read_cr2, cpu_read_cr3, cpu_read_cr4, cpu_read_rflags
cpu_read_cr0:
    mov rax, cr0
    ret
cpu_read_cr2:
    mov rax, cr2
    ret
cpu_read_cr3:
    mov rax, cr3
    ret
cpu_read_cr4:
    mov rax, cr4
    ret
cpu_read_rflags:
    pushfq
    pop rax
    ret

global cpu_rdmsr, cpu_wrmsr
cpu_rdmsr:                  ; ulong cpu_rdmsr(uint msr)
    mov ecx, edi
    rdmsr
    shl rdx, 32
    or rax, rdx
    ret
cpu_wrmsr:                  ; void cpu_wrmsr(uint msr, ulong value)
    mov ecx, edi
    mov eax, esi
    mov rdx, rsi
    shr rdx, 32
    wrmsr
    ret

global cpu_cpuid           ; void cpu_cpuid(uint leaf, uint subleaf, uint* out4)
cpu_cpuid:
    push rbx
    mov eax, edi
    mov ecx, esi
    mov r8, rdx
    cpuid
    mov [r8], eax
    mov [r8 + 4], ebx
    mov [r8 + 8], ecx
    mov [r8 + 12], edx
    pop rbx
    ret

; void cpu_capture_registers(ulong* out) — rax..r15, rip (caller), rflags, cr0, cr2, cr3, cr4
; in the order of Tessera.Core.RegisterSnapshot. rsp and rbp are the caller's.
global cpu_capture_registers
cpu_capture_registers:
    mov [rdi + 0*8], rax
    mov [rdi + 1*8], rbx
    mov [rdi + 2*8], rcx
    mov [rdi + 3*8], rdx
    mov [rdi + 4*8], rsi
    mov [rdi + 5*8], rdi
    mov [rdi + 6*8], rbp
    lea rax, [rsp + 8]
    mov [rdi + 7*8], rax
    mov [rdi + 8*8], r8
    mov [rdi + 9*8], r9
    mov [rdi + 10*8], r10
    mov [rdi + 11*8], r11
    mov [rdi + 12*8], r12
    mov [rdi + 13*8], r13
    mov [rdi + 14*8], r14
    mov [rdi + 15*8], r15
    mov rax, [rsp]
    mov [rdi + 16*8], rax
    pushfq
    pop rax
    mov [rdi + 17*8], rax
    mov rax, cr0
    mov [rdi + 18*8], rax
    mov rax, cr2
    mov [rdi + 19*8], rax
    mov rax, cr3
    mov [rdi + 20*8], rax
    mov rax, cr4
    mov [rdi + 21*8], rax
    mov rax, [rdi + 0*8]
    ret

; CR3 and CR4 writes, and INVLPG (SDM Vol. 3A §4.10.4.1: invalidates the TLB
; entries for one page and all paging-structure-cache entries).
global cpu_write_cr3, cpu_write_cr4, cpu_invlpg
cpu_write_cr3:
    mov cr3, rdi
    ret
cpu_write_cr4:
    mov cr4, rdi
    ret
cpu_invlpg:
    invlpg [rdi]
    ret

global cpu_read_rbp
cpu_read_rbp:
    mov rax, rbp
    ret

; Descriptor tables (Intel SDM Vol. 3A §2.4 "Memory-Management Registers").
; void cpu_load_gdt(void* pointer /*limit:16, base:64*/, ushort code, ushort data)
; Loads GDTR, then reloads every segment register from the new table: CS through a
; far return (there is no mov to CS), DS/ES/SS directly. FS and GS stay null; their
; bases come from MSRs in 64-bit mode.
global cpu_load_gdt, cpu_load_idt, cpu_load_task_register
cpu_load_gdt:
    lgdt [rdi]
    mov ds, dx
    mov es, dx
    mov ss, dx
    movzx rsi, si
    push rsi
    lea rax, [rel .reloaded]
    push rax
    retfq
.reloaded:
    ret
cpu_load_idt:               ; void cpu_load_idt(void* pointer /*limit:16, base:64*/)
    lidt [rdi]
    ret
cpu_load_task_register:     ; void cpu_load_task_register(ushort selector)
    ltr di
    ret

; ulong cpu_save_flags_and_disable_interrupts(): RFLAGS as it was, then cli. The
; pair with a conditional sti is how interrupt-safe locks nest (SDM Vol. 1 §3.4.3.3, IF).
global cpu_save_flags_and_disable_interrupts, cpu_enable_interrupts_and_halt
cpu_save_flags_and_disable_interrupts:
    pushfq
    pop rax
    cli
    ret
; sti delays interrupt recognition by one instruction (SDM Vol. 2B, STI), so an
; interrupt that arrives between the caller's last check and hlt still wakes hlt.
cpu_enable_interrupts_and_halt:
    sti
    hlt
    ret

; Memory-mapped device registers: one access of exactly the stated width, which C#
; pointer code does not promise (the JIT may merge, widen or hoist plain loads).
global mmio_read32, mmio_write32, mmio_read64, mmio_write64
mmio_read32:                ; uint mmio_read32(void* address)
    mov eax, [rdi]
    ret
mmio_write32:               ; void mmio_write32(void* address, uint value)
    mov [rdi], esi
    ret
mmio_read64:
    mov rax, [rdi]
    ret
mmio_write64:
    mov [rdi], rsi
    ret

section .note.GNU-stack noalloc noexec nowrite progbits
