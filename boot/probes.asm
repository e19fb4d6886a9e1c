; Fault probes: instructions that are expected to fault, each at a known address
; with a known place to resume. An exception handler that finds the frame's RIP
; at a probe instruction sets RIP to the probe's recovery label and returns
; "handled" (Tessera.Core.FaultProbe.TryRecover); the probe then returns 0.
; The same idea as an exception fixup table. Each probe builds a standard frame
; (push rbp) so a report of an unhandled fault traces back to its caller.
bits 64
section .text

global probe_read64, probe_read64_access, probe_read64_recover
; ulong probe_read64(ulong address, ulong* value) -> 1 read, 0 faulted
probe_read64:
    push rbp
    mov rbp, rsp
probe_read64_access:
    mov rax, [rdi]
    mov [rsi], rax
    mov eax, 1
    pop rbp
    ret
probe_read64_recover:
    xor eax, eax
    pop rbp
    ret

global probe_divide, probe_divide_instruction, probe_divide_recover
; ulong probe_divide(ulong dividend, ulong divisor, ulong* quotient) -> 1 divided, 0 faulted
; A real DIV: C# integer division checks for zero and calls a throw helper
; instead, so it can never raise #DE (SDM Vol. 2A, DIV: #DE on a zero divisor).
probe_divide:
    push rbp
    mov rbp, rsp
    mov rcx, rdx
    mov rax, rdi
    xor edx, edx
probe_divide_instruction:
    div rsi
    mov [rcx], rax
    mov eax, 1
    pop rbp
    ret
probe_divide_recover:
    xor eax, eax
    pop rbp
    ret

global probe_breakpoint, probe_breakpoint_resume
; ulong probe_breakpoint(): executes int3 (#BP, a trap: the saved RIP is already
; the next instruction, so a handler resumes by returning). Returns 1.
probe_breakpoint:
    push rbp
    mov rbp, rsp
    int3
probe_breakpoint_resume:
    mov eax, 1
    pop rbp
    ret

global probe_vector_registers_survive_breakpoint, probe_clobber_vector_registers
; ulong probe_vector_registers_survive_breakpoint(): fills xmm0-15 with distinct
; patterns, executes int3, and returns 1 if all 16 registers still hold them
; afterwards (the interrupt path must save and restore SSE state, since the C#
; handler may use any of them), 0 otherwise.
probe_vector_registers_survive_breakpoint:
    push rbp
    mov rbp, rsp
%assign r 0
%rep 16
    mov rax, 0x0101010101010101 * (r + 1)
    movq xmm %+ r, rax
    punpcklqdq xmm %+ r, xmm %+ r
%assign r r + 1
%endrep
    int3
%assign r 0
%rep 16
    mov rdx, 0x0101010101010101 * (r + 1)
    movq rax, xmm %+ r
    cmp rax, rdx
    jne .clobbered
    psrldq xmm %+ r, 8
    movq rax, xmm %+ r
    cmp rax, rdx
    jne .clobbered
%assign r r + 1
%endrep
    mov eax, 1
    pop rbp
    ret
.clobbered:
    xor eax, eax
    pop rbp
    ret

; void probe_clobber_vector_registers(): zeroes xmm0-15, as a handler that uses SSE might.
probe_clobber_vector_registers:
%assign r 0
%rep 16
    pxor xmm %+ r, xmm %+ r
%assign r r + 1
%endrep
    ret

global probe_address
; void* probe_address(int which): where the probes' instructions are, for the
; handlers (C# cannot name a label). 0 read64 access, 1 read64 recovery,
; 2 divide instruction, 3 divide recovery, 4 breakpoint resume point.
probe_address:
    movsxd rdi, edi
    lea rax, [rel probe_address_table]
    mov rax, [rax + rdi * 8]
    ret

section .rodata
align 8
probe_address_table:
    dq probe_read64_access, probe_read64_recover
    dq probe_divide_instruction, probe_divide_recover
    dq probe_breakpoint_resume

section .note.GNU-stack noalloc noexec nowrite progbits
