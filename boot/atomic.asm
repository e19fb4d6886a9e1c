; Atomic memory operations for the kernel (C#: Tessera.Core.Atomic). The kernel's
; core library has no System.Threading.Interlocked, so these are the LOCK-prefixed
; instructions themselves (Intel SDM Vol. 3A §9.1.2.2 "Software Controlled Bus
; Locking"; XCHG with a memory operand is locked implicitly). Each is a full
; memory barrier on x86, and being a call it is also a compiler barrier.
bits 64
section .text

global atomic_exchange32, atomic_compare_exchange32, atomic_exchange64
global atomic_compare_exchange64, atomic_fetch_add64, atomic_load32, atomic_load64

atomic_exchange32:          ; int atomic_exchange32(int* location, int value) -> old
    mov eax, esi
    xchg [rdi], eax
    ret

atomic_compare_exchange32:  ; int atomic_compare_exchange32(int* location, int expected, int desired) -> old
    mov eax, esi
    lock cmpxchg [rdi], edx
    ret

atomic_exchange64:          ; long atomic_exchange64(long* location, long value) -> old
    mov rax, rsi
    xchg [rdi], rax
    ret

atomic_compare_exchange64:  ; long atomic_compare_exchange64(long* location, long expected, long desired) -> old
    mov rax, rsi
    lock cmpxchg [rdi], rdx
    ret

atomic_fetch_add64:         ; long atomic_fetch_add64(long* location, long addend) -> old
    mov rax, rsi
    lock xadd [rdi], rax
    ret

; Plain loads, but through a call: the JIT cannot cache the value in a register
; across it, which is what polling a flag another CPU or an interrupt sets needs.
atomic_load32:              ; int atomic_load32(int* location)
    mov eax, [rdi]
    ret

atomic_load64:              ; long atomic_load64(long* location)
    mov rax, [rdi]
    ret

section .note.GNU-stack noalloc noexec nowrite progbits
