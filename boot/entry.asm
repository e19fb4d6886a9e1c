; Tessera boot stub: the first code of every kernel image.
;
; One ELF64 file boots two ways:
;  - GRUB reads the multiboot2 header, loads the ELF segments and jumps to
;    _start in 32-bit protected mode with EAX = 0x36d76289, EBX = info.
;  - QEMU's -kernel reads the multiboot1 header. QEMU refuses ELF64 images, so
;    the header sets flag bit 16 (the "a.out kludge", multiboot 0.6.96 §3.1.3)
;    and gives load and entry addresses; QEMU then copies the file bytes
;    itself. EAX = 0x2BADB002, EBX = info.
; Both arrive here with paging off, so we build boot page tables, enter long
; mode (Intel SDM Vol. 3A §10.8.5 "Initializing IA-32e Mode"), jump to the
; kernel's higher-half addresses (boot/linker.ld) and call kmain. kmain then
; builds the kernel's real page tables (kernel/Core/Memory/KernelAddressSpace.cs)
; and drops these.
;
; The code and data in .boot.* run before paging and are linked at their
; physical addresses; everything else is linked at KERNEL_VIRTUAL_BASE +
; physical, so the 32-bit code reaches high symbols through the *_physical
; aliases the linker script defines.

bits 32

MB1_MAGIC     equ 0x1BADB002
MB1_FLAGS     equ (1 << 0) | (1 << 1) | (1 << 16)   ; page-align modules, memory map, a.out kludge
MB2_MAGIC     equ 0xE85250D6

KERNEL_STACK_SIZE equ 64 * 1024

; The boot page tables (in .bss, see below), by offset from their start.
BOOT_PML4      equ 0x0000
BOOT_PDPT_LOW  equ 0x1000   ; PML4[0] (identity) and PML4[256] (direct map) share it
BOOT_PDPT_HIGH equ 0x2000   ; PML4[511]: the kernel's top 2 GiB
BOOT_PD        equ 0x3000   ; four page directories of 2 MiB pages: physical 0-4 GiB
BOOT_TABLES_SIZE equ 0x7000

section .multiboot progbits alloc noexec nowrite align=8
extern __load_start, __load_end, __bss_end_physical
extern boot_page_tables_physical, kernel_stack_top_physical, gdt64_physical

mb1_header:
    dd MB1_MAGIC
    dd MB1_FLAGS
    dd -(MB1_MAGIC + MB1_FLAGS)
    dd mb1_header           ; header_addr
    dd __load_start         ; load_addr: first byte QEMU copies
    dd __load_end           ; load_end_addr: end of .data (physical)
    dd __bss_end_physical   ; bss_end_addr: QEMU zeroes up to here
    dd _start               ; entry_addr

align 8
mb2_header:
    dd MB2_MAGIC
    dd 0                    ; architecture: i386 protected mode
    dd mb2_header_end - mb2_header
    dd -(MB2_MAGIC + 0 + (mb2_header_end - mb2_header))
    ; end tag (type 0, size 8)
    dw 0, 0
    dd 8
mb2_header_end:

section .boot.text progbits alloc exec nowrite align=16
global _start, boot_magic, boot_info
extern higher_half_entry

_start:
    cli
    cld
    mov esp, kernel_stack_top_physical
    mov [boot_magic], eax
    mov [boot_info], ebx

    ; Long mode needs CPUID leaf 0x80000001 EDX bit 29 (LM).
    mov eax, 0x80000000
    cpuid
    cmp eax, 0x80000001
    jb no_long_mode
    mov eax, 0x80000001
    cpuid
    test edx, 1 << 29
    jz no_long_mode
    mov [ext_features_edx], edx

    ; Zero the page tables (loaders zero .bss, but the stub does not rely on it).
    mov edi, boot_page_tables_physical
    mov ecx, BOOT_TABLES_SIZE / 4
    xor eax, eax
    rep stosd

    ; Three views of physical memory, all through the same four page directories
    ; of 2 MiB pages (physical 0-4 GiB, device memory such as the LAPIC included):
    ;  - PML4[0]:   identity, for this code until it jumps high;
    ;  - PML4[256]: the direct map at 0xFFFF800000000000, through which kmain
    ;               reads the boot information and builds the real tables;
    ;  - PML4[511], PDPT[510]: 0xFFFFFFFF80000000 -> physical 0-1 GiB, the kernel.
    mov ebx, boot_page_tables_physical
    lea eax, [ebx + BOOT_PDPT_LOW + 0x3]
    mov [ebx + BOOT_PML4 + 0 * 8], eax
    mov [ebx + BOOT_PML4 + 256 * 8], eax
    lea eax, [ebx + BOOT_PDPT_HIGH + 0x3]
    mov [ebx + BOOT_PML4 + 511 * 8], eax
    lea eax, [ebx + BOOT_PD + 0x3]
    mov [ebx + BOOT_PDPT_HIGH + 510 * 8], eax

    lea edi, [ebx + BOOT_PDPT_LOW]
    mov ecx, 4
.fill_pdpt:
    mov [edi], eax
    add eax, 4096
    add edi, 8
    loop .fill_pdpt

    lea edi, [ebx + BOOT_PD]
    mov eax, 0x83           ; present | writable | page size (2 MiB)
    xor edx, edx            ; high 32 bits of the physical address
    mov ecx, 4 * 512
.fill_pd:
    mov [edi], eax
    mov [edi + 4], edx
    add eax, 0x200000
    adc edx, 0
    add edi, 8
    loop .fill_pd

    ; CR4: PAE (bit 5), OSFXSR (bit 9) and OSXMMEXCPT (bit 10) so SSE works.
    mov eax, cr4
    or eax, (1 << 5) | (1 << 9) | (1 << 10)
    mov cr4, eax

    mov eax, ebx
    mov cr3, eax

    ; EFER (MSR 0xC0000080): LME (bit 8); NXE (bit 11) when the CPU has NX.
    mov ecx, 0xC0000080
    rdmsr
    or eax, 1 << 8
    test dword [ext_features_edx], 1 << 20
    jz .no_nx
    or eax, 1 << 11
.no_nx:
    wrmsr

    ; CR0: PG (31), WP (16), NE (5), MP (1), PE (0); clear EM (2) so the FPU/SSE are used, not emulated.
    ; WP makes read-only pages read-only for the kernel too (SDM Vol. 3A §4.6.1).
    mov eax, cr0
    and eax, ~(1 << 2)
    or eax, (1 << 31) | (1 << 16) | (1 << 5) | (1 << 1) | 1
    mov cr0, eax

    lgdt [gdt64_boot_pointer]
    jmp 0x08:long_mode_entry

no_long_mode:
    ; No serial driver yet: write the reason straight to COM1 and stop.
    mov esi, no_lm_message
.print:
    lodsb
    test al, al
    jz .stop
    mov dx, 0x3F8
    out dx, al
    jmp .print
.stop:
    mov al, 0x11            ; isa-debug-exit: failure
    out 0xF4, al
    hlt
    jmp .stop

bits 64
long_mode_entry:
    ; Still at the identity-mapped physical address: read what the 32-bit code
    ; saved (absolute addresses below 2 GiB), then jump to the higher half.
    mov edi, [boot_magic]   ; kmain(magic, info) per the System V x86-64 ABI
    mov esi, [boot_info]
    mov rax, higher_half_entry
    jmp rax

section .boot.data progbits alloc noexec write align=8
boot_magic: dd 0
boot_info: dd 0
ext_features_edx: dd 0
align 8
gdt64_boot_pointer:         ; lgdt in 32-bit mode: 16-bit limit, 32-bit physical base
    dw GDT64_SIZE - 1
    dd gdt64_physical
no_lm_message: db "tessera: this CPU has no long mode", 13, 10, 0

section .data
global gdt64
align 16
gdt64:
    dq 0                                        ; null
    dq (1 << 43) | (1 << 44) | (1 << 47) | (1 << 53) | (1 << 41)  ; 0x08 code: exec, S, P, L, readable
    dq (1 << 44) | (1 << 47) | (1 << 41)        ; 0x10 data: S, P, writable
gdt64_end:
GDT64_SIZE equ gdt64_end - gdt64
global gdt64_pointer
gdt64_pointer:
    dw GDT64_SIZE - 1
    dq gdt64

section .bss
global boot_page_tables, kernel_stack_guard, kernel_stack_bottom, kernel_stack_top
align 4096
boot_page_tables: resb BOOT_TABLES_SIZE
; The page under the stack stays unmapped in the kernel's page tables, so an
; overflow faults instead of silently overwriting whatever lies below.
kernel_stack_guard: resb 4096
kernel_stack_bottom: resb KERNEL_STACK_SIZE
kernel_stack_top:

; The early kernel heap: a fixed region inside the image, so nothing the boot
; loader placed (boot information, modules) can overlap it.
section .bss
global boot_heap_start, boot_heap_end
align 4096
boot_heap_start: resb 8 * 1024 * 1024
boot_heap_end:

section .note.GNU-stack noalloc noexec nowrite progbits
