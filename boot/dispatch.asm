; Interface dispatch stubs: how a call through an interface that ILC could not
; devirtualise finds its target (kernel/Runtime/InterfaceDispatch.cs has the
; data structures and the resolver).
;
; ILC compiles such a call as
;     lea  r11, [cell]        ; this call site's dispatch cell
;     call [r11]              ; the cell's first word is the stub
; with `this` in rdi and the arguments in the other System V registers. A cell
; starts out pointing at RhpInitialDynamicInterfaceDispatch; once resolved it
; points at tessera_interface_dispatch_cached, which compares the object's
; MethodTable with a few (type, target) pairs and jumps straight to the target.
bits 64
section .text

extern tessera_resolve_interface_call

; Entries in an InterfaceDispatchCache; must match InterfaceDispatchCache.EntryCount.
%define CACHE_ENTRIES 8
; Offset of the first entry in the cache block (after the interface and slot words).
%define CACHE_FIRST_ENTRY 16

global RhpInitialDynamicInterfaceDispatch
; The slow path: resolve through the interface map and dispatch map, then jump to
; the target with every argument register as the caller left it.
RhpInitialDynamicInterfaceDispatch:
    push rbp                    ; a frame, so a panic's backtrace passes through here
    mov rbp, rsp
    push rdi
    push rsi
    push rdx
    push rcx
    push r8
    push r9
    sub rsp, 128                ; xmm0-7 (float arguments); keeps rsp 16-byte aligned
    movdqu [rsp + 0*16], xmm0
    movdqu [rsp + 1*16], xmm1
    movdqu [rsp + 2*16], xmm2
    movdqu [rsp + 3*16], xmm3
    movdqu [rsp + 4*16], xmm4
    movdqu [rsp + 5*16], xmm5
    movdqu [rsp + 6*16], xmm6
    movdqu [rsp + 7*16], xmm7
    mov rsi, r11                ; (this in rdi, cell) -> target code address
    call tessera_resolve_interface_call
    movdqu xmm0, [rsp + 0*16]
    movdqu xmm1, [rsp + 1*16]
    movdqu xmm2, [rsp + 2*16]
    movdqu xmm3, [rsp + 3*16]
    movdqu xmm4, [rsp + 4*16]
    movdqu xmm5, [rsp + 5*16]
    movdqu xmm6, [rsp + 6*16]
    movdqu xmm7, [rsp + 7*16]
    add rsp, 128
    pop r9
    pop r8
    pop rcx
    pop rdx
    pop rsi
    pop rdi
    pop rbp
    jmp rax

; One probe of the cache: on a MethodTable match, jump to the cached target.
%macro probe_cache_entry 1
    cmp rax, [r10 + CACHE_FIRST_ENTRY + %1 * 16]
    jne %%miss
    jmp [r10 + CACHE_FIRST_ENTRY + %1 * 16 + 8]
%%miss:
%endmacro

global tessera_interface_dispatch_cached
; The fast path of a resolved cell: [r11 + 8] points at its InterfaceDispatchCache.
; Only rax and r10 are used (neither carries an argument); r11 stays the cell for
; the slow path. A null `this` reads address 0, whose contents never equal a
; MethodTable in the cache, so it takes the slow path, which reports it.
tessera_interface_dispatch_cached:
    mov r10, [r11 + 8]
    mov rax, [rdi]
%assign i 0
%rep CACHE_ENTRIES
    probe_cache_entry i
%assign i i + 1
%endrep
    jmp RhpInitialDynamicInterfaceDispatch

global tessera_interface_dispatch_cached_address
; The fast-path stub's address, for the resolver to store in a cell.
tessera_interface_dispatch_cached_address:
    lea rax, [rel tessera_interface_dispatch_cached]
    ret

global tessera_compare_exchange64
; ulong tessera_compare_exchange64(ulong* location, ulong expected, ulong desired):
; atomically stores desired when *location == expected; returns what was there.
tessera_compare_exchange64:
    mov rax, rsi
    lock cmpxchg [rdi], rdx
    ret

section .note.GNU-stack noalloc noexec nowrite progbits
