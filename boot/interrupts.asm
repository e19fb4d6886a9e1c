; Interrupt and exception entry: one stub per IDT vector (all 256), one common
; path that saves a uniform frame and calls the C# dispatcher
; (kernel/Core/Interrupts/Interrupts.cs, exported as interrupt_dispatch).
;
; In 64-bit mode the CPU always pushes SS, RSP, RFLAGS, CS, RIP, after aligning
; RSP to 16 bytes (or switching to an IST stack), and for some exceptions an
; error code on top (Intel SDM Vol. 3A §6.14.2 "64-Bit Mode Stack Frame",
; Table 6-1 for which vectors push one). The stubs push a 0 where the CPU does
; not, then the vector, so every frame looks the same:
;
;   low  [cr2][r15 r14 r13 r12 r11 r10 r9 r8 rbp rdi rsi rdx rcx rbx rax]
;        [vector][error code][rip][cs][rflags][rsp][ss]   high
;
; That is the layout of Tessera.Core.InterruptFrame (keep them in step).
; Handlers may change any field, rip and the registers included: the common
; path restores everything from the frame before iretq.

bits 64
section .text
extern interrupt_dispatch

; Vectors for which the processor pushes an error code: #DF(8), #TS(10), #NP(11),
; #SS(12), #GP(13), #PF(14), #AC(17), #CP(21), and AMD's #VC(29), #SX(30).
%macro STUB 1
align 16
isr_stub_%1:
%if %1 == 8 || (%1 >= 10 && %1 <= 14) || %1 == 17 || %1 == 21 || %1 == 29 || %1 == 30
    push qword %1
%else
    push qword 0
    push qword %1
%endif
    jmp isr_common
%endmacro

%assign vector 0
%rep 256
    STUB vector
%assign vector vector + 1
%endrep

%include "frame.inc"

FRAME_RIP equ 18 * 8        ; cr2 + 15 registers + vector + error code

isr_common:
    SAVE_GENERAL
    ; CR2 is read here, before any C# runs, so a page-fault handler sees the
    ; address of its own fault even if something on the way faults again.
    mov rax, cr2
    push rax
    mov rbx, rsp            ; rbx is callee-saved: it still points at the frame after the call

    ; A frame record [interrupted rbp][interrupted rip] so a backtrace taken inside
    ; a handler walks on into the interrupted code.
    push qword [rbx + FRAME_RIP]
    push rbp
    mov rbp, rsp

    ; The C# code may use any SSE register; the interrupted code may have had live
    ; values in all of them (System V treats xmm0-15 as caller-saved, but the
    ; interrupted code never made a call). FXSAVE needs a 16-byte aligned area,
    ; which also leaves RSP aligned for the call as the System V ABI requires.
    sub rsp, 512
    and rsp, -16
    fxsave64 [rsp]
    cld                     ; the ABI expects DF clear on entry to a function

    mov rdi, rbx
    call interrupt_dispatch

    fxrstor64 [rsp]
    mov rsp, rbx
    add rsp, 8              ; cr2
    RESTORE_GENERAL
    add rsp, 16             ; vector and error code
    iretq

; void* interrupt_stub_address(int vector): the entry point the IDT gate for vector names.
global interrupt_stub_address
interrupt_stub_address:
    movsxd rdi, edi
    lea rax, [rel isr_stub_table]
    mov rax, [rax + rdi * 8]
    ret

section .rodata
align 8
isr_stub_table:
%assign vector 0
%rep 256
    dq isr_stub_ %+ vector
%assign vector vector + 1
%endrep

; Interrupt stacks for the TSS's interrupt stack table (SDM Vol. 3A §6.14.5):
; #DF, NMI and #MC switch to their own stack so they are reported even when the
; kernel stack is exhausted (a push into the guard page under it faults again,
; which the processor turns into #DF). Index 1..3 = TSS IST1..IST3.
INTERRUPT_STACK_SIZE equ 16 * 1024
INTERRUPT_STACK_COUNT equ 3

section .bss
align 4096
interrupt_stacks: resb INTERRUPT_STACK_SIZE * INTERRUPT_STACK_COUNT
interrupt_stacks_end:

section .text
; byte* interrupt_stack_bottom(int ist) / interrupt_stack_top(int ist), ist = 1..3
global interrupt_stack_bottom, interrupt_stack_top
interrupt_stack_bottom:
    lea eax, [rdi - 1]
    imul eax, eax, INTERRUPT_STACK_SIZE
    lea rdx, [rel interrupt_stacks]
    add rax, rdx
    ret
interrupt_stack_top:
    mov eax, edi
    imul eax, eax, INTERRUPT_STACK_SIZE
    lea rdx, [rel interrupt_stacks]
    add rax, rdx
    ret

section .note.GNU-stack noalloc noexec nowrite progbits
