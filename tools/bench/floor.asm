; The floor of the boot benchmark (`./build.sh bench boot`): an image that does nothing but
; make QEMU exit. Booting it costs QEMU's start-up, the firmware (SeaBIOS), the loader
; (QEMU's multiboot loader for -kernel, GRUB from the ISO) and QEMU's exit, and nothing of
; any kernel, so no image booted the same way can reach its first line faster.
;
; It boots exactly like a Tessera image (boot/entry.asm): a multiboot1 header for QEMU's
; -kernel and a multiboot2 header for GRUB, entered in 32-bit protected mode. Unlike Tessera
; it is an ELF32 file, which QEMU's multiboot loader takes without the a.out kludge.
;
; Its code is the exit itself: isa-debug-exit (-device isa-debug-exit,iobase=0xf4) ends QEMU
; with status (value << 1) | 1 when a byte is written to its port, so 0x10 gives 33, the
; project's "pass" code (DESIGN §4). The benchmark checks for 33 to know the floor really
; ran to its first instruction rather than, say, triple-faulting (which also ends QEMU).

bits 32

MB1_MAGIC equ 0x1BADB002
MB1_FLAGS equ 0                 ; nothing asked of the loader: no memory map, no modules
MB2_MAGIC equ 0xE85250D6

section .text
global _start

; Multiboot 0.6.96 §3.1.1: the header within the first 8 KiB, 4-byte aligned.
align 4
mb1_header:
    dd MB1_MAGIC
    dd MB1_FLAGS
    dd -(MB1_MAGIC + MB1_FLAGS)

; Multiboot2 §3.1.1: the header within the first 32 KiB, 8-byte aligned, closed by an end tag.
align 8
mb2_header:
    dd MB2_MAGIC
    dd 0                        ; architecture: i386 protected mode
    dd mb2_header_end - mb2_header
    dd -(MB2_MAGIC + 0 + (mb2_header_end - mb2_header))
    dw 0, 0                     ; end tag: type 0, flags 0
    dd 8                        ;          size 8
mb2_header_end:

_start:
    mov al, 0x10                ; QEMU exits with (0x10 << 1) | 1 = 33
    out 0xf4, al
.hang:                          ; not reached: QEMU is gone after the out
    hlt
    jmp .hang
