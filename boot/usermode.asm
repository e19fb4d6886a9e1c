; Ring 3: entering a user program, the SYSCALL entry, and the way back to user mode.
; (kernel/Processor/Process/UserMode.cs declares these; docs/processor.md explains them.)
;
; Every way into the kernel from ring 3 leaves the same InterruptFrame at the top of the
; thread's kernel stack (layout: kernel/Core/Interrupts/InterruptFrame.cs, the same as
; boot/interrupts.asm builds):
;   - interrupts and exceptions: the CPU switches to TSS.RSP0 and pushes ss, rsp, rflags,
;     cs, rip (SDM Vol. 3A §6.14.2), the stub the rest;
;   - SYSCALL: the CPU switches nothing (SDM Vol. 2B SYSCALL: rcx = rip, r11 = rflags,
;     RFLAGS &= ~IA32_FMASK, CS/SS from STAR), so syscall_entry moves to the kernel stack
;     itself and pushes the same five words by hand.
; The C# side reads the user's registers from the frame and may change them (the syscall's
; result in rax, a new rip); user_return sends the frame back to ring 3.
;
; One CPU: the user's rsp is parked in a global scratch word between the two instructions
; of the stack switch (interrupts are off: FMASK clears IF). Several CPUs will want swapgs
; and a per-CPU area instead; the kernel does not use GS or FS, so that is free to do.

bits 64
section .text
; Only the processor image defines the dispatcher (kernel/Processor/Syscalls); the other
; images link this file too but never enable SYSCALL, so the weak reference stays 0 there.
extern syscall_dispatch:weak

USER_CS     equ 0x2B        ; GlobalDescriptorTable.UserCode
USER_SS     equ 0x23        ; GlobalDescriptorTable.UserData
SYSCALL_VECTOR equ 0x100    ; InterruptFrame.Vector of a syscall frame (no IDT vector is that big)

FRAME_RAX    equ 15 * 8
FRAME_VECTOR equ 16 * 8
FRAME_RIP    equ 18 * 8
FRAME_CS     equ 19 * 8
FRAME_RFLAGS equ 20 * 8
FRAME_RSP    equ 21 * 8
FRAME_SS     equ 22 * 8
FRAME_SIZE   equ 23 * 8

; The highest rip SYSRET may return to. SYSRET with a non-canonical rcx raises #GP in
; ring 0 on Intel CPUs, after the switch to the user's rsp (SDM Vol. 2B SYSRET,
; "#GP(0) if RCX is not canonical"): a user could run the kernel's #GP handler on a stack
; of its choosing. Anything above this line returns through iretq instead, which faults
; in ring 3.
SYSRET_RIP_LIMIT equ 0x00007FFFFFFFF000

%include "frame.inc"

global syscall_entry
syscall_entry:
    mov [rel syscall_user_rsp], rsp
    mov rsp, [rel syscall_kernel_stack]
    push qword USER_SS
    push qword [rel syscall_user_rsp]
    push r11                        ; the user's rflags
    push qword USER_CS
    push rcx                        ; the user's rip (the instruction after syscall)
    push qword 0                    ; error code
    push qword SYSCALL_VECTOR
    SAVE_GENERAL
    push qword 0                    ; cr2: none
    mov rbx, rsp                    ; callee-saved: still the frame after the call

    push qword [rbx + FRAME_RIP]    ; frame record, so a backtrace continues into user code
    push rbp
    mov rbp, rsp
    ; The Linux ABI keeps every vector register across a syscall (only rax, rcx and r11
    ; change), and the C# dispatcher may use any: save the whole SSE state.
    sub rsp, 512
    and rsp, -16
    fxsave64 [rsp]
    cld

    mov rdi, rbx
    call syscall_dispatch

    fxrstor64 [rsp]
    mov rsp, rbx
    jmp user_return

; user_return: rsp points at an InterruptFrame bound for ring 3. SYSRET when the frame is
; what SYSRET can express (user selectors, rip below SYSRET_RIP_LIMIT); iretq otherwise.
; SYSRET takes rip from rcx and rflags from r11 (SDM Vol. 2B SYSRET), which the Linux ABI
; lets a syscall clobber; iretq restores everything.
user_return:
    cmp qword [rsp + FRAME_CS], USER_CS
    jne .iret
    cmp qword [rsp + FRAME_SS], USER_SS
    jne .iret
    mov rax, SYSRET_RIP_LIMIT
    cmp [rsp + FRAME_RIP], rax
    jae .iret
    add rsp, 8                      ; cr2
    RESTORE_GENERAL
    ; rsp -> vector, error code, rip, cs, rflags, rsp, ss
    mov rcx, [rsp + 16]
    mov r11, [rsp + 32]
    ; Interrupts stay off until SYSRET loads the user's rflags: nothing may run on the
    ; user's stack in ring 0 (NMI, #DF and #MC switch to their own IST stacks).
    mov rsp, [rsp + 40]
    o64 sysret
.iret:
    add rsp, 8                      ; cr2
    RESTORE_GENERAL
    add rsp, 16                     ; vector and error code
    iretq

; ulong user_enter(InterruptFrame* frame, ulong* kernelContext)
; Starts a user thread: saves the kernel's callee-saved registers and stack pointer in
; *kernelContext (user_leave comes back through it), gives the user a clean x87/SSE state
; (FNINIT: SDM Vol. 1 §8.1.1 defaults; MXCSR 0x1F80: §10.2.3.1), then returns to ring 3
; through the frame, which must sit at the top of the thread's kernel stack. Returns only
; when user_leave is called with the same context, with user_leave's status.
global user_enter
user_enter:
    push rbp
    mov rbp, rsp
    push rbx
    push r12
    push r13
    push r14
    push r15
    mov [rsi], rsp
    mov rsp, rdi
    fninit
    ldmxcsr [rel mxcsr_default]
%assign r 0
%rep 16
    pxor xmm %+ r, xmm %+ r
%assign r r + 1
%endrep
    jmp user_return

; void user_leave(ulong* kernelContext, ulong status): back to the kernel code that called
; user_enter, which returns status. The kernel stack of the user thread (and whatever C#
; frames were on it: a syscall, a page fault) is abandoned; its owner frees it.
global user_leave
user_leave:
    mov rsp, [rdi]
    mov rax, rsi
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret

; void syscall_set_kernel_stack(ulong top): where syscall_entry switches to.
global syscall_set_kernel_stack, syscall_entry_address
syscall_set_kernel_stack:
    mov [rel syscall_kernel_stack], rdi
    ret
; void* syscall_entry_address(): for IA32_LSTAR.
syscall_entry_address:
    lea rax, [rel syscall_entry]
    ret

section .rodata
align 4
mxcsr_default: dd 0x1F80

section .bss
align 8
syscall_kernel_stack: resq 1
syscall_user_rsp: resq 1

section .note.GNU-stack noalloc noexec nowrite progbits
