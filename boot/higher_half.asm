; The first code at the kernel's higher-half addresses (boot/linker.ld), jumped
; to from boot/entry.asm's long_mode_entry with EDI = multiboot magic and
; ESI = boot information address. In its own file because NASM describes one
; file's code as a single DWARF address range, and this code is 2 GiB-odd away
; from the 32-bit boot code: together, gdb would lose track of both.
bits 64
extern kmain, gdt64_pointer, kernel_stack_top

section .text
global higher_half_entry
higher_half_entry:
    ; The GDT through its higher-half address: the boot identity map goes away.
    lgdt [rel gdt64_pointer]
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor ax, ax
    mov fs, ax
    mov gs, ax

    mov rsp, kernel_stack_top
    xor rbp, rbp            ; ends the return-address chain the panic walks

    ; SSE state: default MXCSR (all exceptions masked) and a clean x87.
    fninit
    push qword 0x1F80
    ldmxcsr [rsp]
    add rsp, 8

    call kmain
.halt:
    cli
    hlt
    jmp .halt

section .note.GNU-stack noalloc noexec nowrite progbits
