; Runtime entry points that must be assembly because of their calling
; conventions. With no garbage collector there is no card table: a write
; barrier is just the store.
bits 64
section .text

global RhpAssignRef, RhpCheckedAssignRef, RhpByRefAssignRef

; void RhpAssignRef(object* dst /*rdi*/, object value /*rsi*/)
RhpAssignRef:
RhpCheckedAssignRef:
    mov [rdi], rsi
    ret

; Copies one reference from [rsi] to [rdi] and advances both by 8
; (the JIT's contract for struct copies that contain references).
RhpByRefAssignRef:
    mov rcx, [rsi]
    mov [rdi], rcx
    add rdi, 8
    add rsi, 8
    ret

; The stack-protector cookie the ILC object refers to. A fixed value: the
; kernel does not randomise it (nothing to hide it from yet).
section .data
global __security_cookie
align 8
__security_cookie: dq 0x2B992DDFA232D4A1

; Addresses the linker script defines, for C# to read (it cannot name symbols).
; Virtual (higher-half) addresses are taken RIP-relative; the *_physical ones are
; absolute symbols of the linker script, loaded as 64-bit immediates.
section .text
extern __start___modules, __stop___modules, __kernel_start, __kernel_end, __text_start, __text_end
extern __rodata_start, __rodata_end, __data_start, __bss_end
extern __kernel_physical_start, __kernel_physical_end
extern kernel_stack_guard, kernel_stack_bottom, kernel_stack_top
global layout_modules_start, layout_modules_end, layout_kernel_start, layout_kernel_end
global layout_text_start, layout_text_end, layout_stack_bottom, layout_stack_top
global layout_rodata_start, layout_rodata_end, layout_data_start, layout_bss_end
global layout_kernel_physical_start, layout_kernel_physical_end, layout_stack_guard
layout_modules_start: lea rax, [rel __start___modules]
    ret
layout_modules_end:   lea rax, [rel __stop___modules]
    ret
layout_kernel_start:  lea rax, [rel __kernel_start]
    ret
layout_kernel_end:    lea rax, [rel __kernel_end]
    ret
layout_text_start:    lea rax, [rel __text_start]
    ret
layout_text_end:      lea rax, [rel __text_end]
    ret
layout_rodata_start:  lea rax, [rel __rodata_start]
    ret
layout_rodata_end:    lea rax, [rel __rodata_end]
    ret
layout_data_start:    lea rax, [rel __data_start]
    ret
layout_bss_end:       lea rax, [rel __bss_end]
    ret
layout_stack_guard:   lea rax, [rel kernel_stack_guard]
    ret
layout_stack_bottom:  lea rax, [rel kernel_stack_bottom]
    ret
layout_stack_top:     lea rax, [rel kernel_stack_top]
    ret
layout_kernel_physical_start: mov rax, __kernel_physical_start
    ret
layout_kernel_physical_end:   mov rax, __kernel_physical_end
    ret
extern boot_heap_start, boot_heap_end
global layout_boot_heap_start, layout_boot_heap_end
layout_boot_heap_start: lea rax, [rel boot_heap_start]
    ret
layout_boot_heap_end:   lea rax, [rel boot_heap_end]
    ret

section .note.GNU-stack noalloc noexec nowrite progbits
