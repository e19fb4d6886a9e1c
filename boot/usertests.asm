; Ring-3 programs for the processor's self-tests (kernel/Processor/SelfTests/). They are
; data in the kernel image: a self-test copies one into user pages (at 0x400000) and runs
; it in ring 3. Position-independent (rip-relative), no libc: raw Linux x86-64 syscalls.
; Each ends with exit_group: the status says which step failed (0 steps failed: the
; program's own success status), which the self-test checks.

bits 64
section .rodata
align 16

SYS_read equ 0
SYS_write equ 1
SYS_mmap equ 9
SYS_munmap equ 11
SYS_brk equ 12
SYS_rt_sigaction equ 13
SYS_rt_sigprocmask equ 14
SYS_ioctl equ 16
SYS_writev equ 20
SYS_getpid equ 39
SYS_fork equ 57
SYS_uname equ 63
SYS_arch_prctl equ 158
SYS_gettid equ 186
SYS_set_tid_address equ 218
SYS_clock_gettime equ 228
SYS_exit_group equ 231

ENOSYS equ 38
EFAULT equ 14
EINVAL equ 22
ENOTTY equ 25
EPERM equ 1

; ---------------------------------------------------------------------------------------
; usertest_syscalls: the syscall ABI and the first syscalls. Exit status 42 when all pass,
; else the number of the failed step. Writes "hello from ring 3\n" to stdout and
; "two iovecs\n" to stderr.
usertest_syscalls:
    ; Registers a syscall must preserve (all but rax, rcx and r11), xmm3 among the vectors.
    mov rbx, 0x1111111111111111
    mov rbp, 0x2222222222222222
    mov r12, 0x3333333333333333
    mov r13, 0x4444444444444444
    mov r14, 0x5555555555555555
    mov r15, 0x6666666666666666
    mov r8,  0x7777777777777777
    mov r9,  0x1212121212121212
    mov r10, 0x2323232323232323
    movq xmm3, rbx

    ; 1: write(1, hello, length) returns the length
    mov eax, SYS_write
    mov edi, 1
    lea rsi, [rel .hello]
    mov edx, .hello_length
    syscall
    cmp rax, .hello_length
    mov edi, 1
    jne .fail

    ; 2: everything but rax, rcx, r11 survived
    cmp rdi, 1
    mov edi, 2
    jne .fail
    lea rax, [rel .hello]
    cmp rsi, rax
    jne .fail
    cmp rdx, .hello_length
    jne .fail
    mov rax, 0x1111111111111111
    cmp rbx, rax
    jne .fail
    mov rax, 0x2222222222222222
    cmp rbp, rax
    jne .fail
    mov rax, 0x3333333333333333
    cmp r12, rax
    jne .fail
    mov rax, 0x4444444444444444
    cmp r13, rax
    jne .fail
    mov rax, 0x5555555555555555
    cmp r14, rax
    jne .fail
    mov rax, 0x6666666666666666
    cmp r15, rax
    jne .fail
    mov rax, 0x7777777777777777
    cmp r8, rax
    jne .fail
    mov rax, 0x1212121212121212
    cmp r9, rax
    jne .fail
    mov rax, 0x2323232323232323
    cmp r10, rax
    jne .fail
    movq rax, xmm3
    cmp rax, rbx
    jne .fail

    ; 3: getpid == gettid > 0
    mov eax, SYS_getpid
    syscall
    mov r12, rax
    mov eax, SYS_gettid
    syscall
    mov edi, 3
    cmp rax, r12
    jne .fail
    test r12, r12
    jle .fail

    ; 4: fork (not implemented) and number 1000 (no such syscall): -ENOSYS
    mov eax, SYS_fork
    syscall
    mov edi, 4
    cmp rax, -ENOSYS
    jne .fail
    mov eax, 1000
    syscall
    mov edi, 4
    cmp rax, -ENOSYS
    jne .fail

    ; 5: bad buffers for write: null, kernel half, non-canonical, an unmapped user page: -EFAULT
    mov eax, SYS_write
    mov edi, 1
    xor esi, esi
    mov edx, 5
    syscall
    cmp rax, -EFAULT
    mov edi, 5
    jne .fail
    mov eax, SYS_write
    mov edi, 1
    mov rsi, 0xFFFFFFFF80100000
    mov edx, 8
    syscall
    cmp rax, -EFAULT
    mov edi, 5
    jne .fail
    mov eax, SYS_write
    mov edi, 1
    mov rsi, 0x0000800000000000
    mov edx, 8
    syscall
    cmp rax, -EFAULT
    mov edi, 5
    jne .fail
    mov eax, SYS_write
    mov edi, 1
    mov esi, 0x10000000
    mov edx, 8
    syscall
    cmp rax, -EFAULT
    mov edi, 5
    jne .fail

    ; 6: uname: "Linux"; into an unmapped page: -EFAULT
    sub rsp, 400
    mov eax, SYS_uname
    mov rdi, rsp
    syscall
    test rax, rax
    mov edi, 6
    jnz .fail
    cmp dword [rsp], 'Linu'
    jne .fail
    cmp word [rsp + 4], 'x'
    jne .fail
    mov eax, SYS_uname
    mov edi, 0x1000
    syscall
    cmp rax, -EFAULT
    mov edi, 6
    jne .fail
    add rsp, 400

    ; 7: arch_prctl: FS base set and read back, used by a %fs: load; a kernel address: -EPERM
    mov rax, 0x0123456789ABCDEF
    push rax
    mov eax, SYS_arch_prctl
    mov edi, 0x1002                 ; ARCH_SET_FS
    mov rsi, rsp
    syscall
    test rax, rax
    mov edi, 7
    jnz .fail
    mov rax, [fs:0]
    mov rdx, 0x0123456789ABCDEF
    cmp rax, rdx
    jne .fail
    mov eax, SYS_arch_prctl
    mov edi, 0x1003                 ; ARCH_GET_FS
    mov rsi, rsp
    syscall
    test rax, rax
    mov edi, 7
    jnz .fail
    cmp [rsp], rsp
    jne .fail
    mov eax, SYS_arch_prctl
    mov edi, 0x1002
    mov rsi, 0xFFFF800000000000
    syscall
    cmp rax, -EPERM
    mov edi, 7
    jne .fail
    pop rax

    ; 8: clock_gettime(CLOCK_MONOTONIC) twice: never backwards, nsec < 1e9; clock 99: -EINVAL
    sub rsp, 32
    mov eax, SYS_clock_gettime
    mov edi, 1
    mov rsi, rsp
    syscall
    test rax, rax
    mov edi, 8
    jnz .fail
    mov eax, SYS_clock_gettime
    mov edi, 1
    lea rsi, [rsp + 16]
    syscall
    test rax, rax
    mov edi, 8
    jnz .fail
    mov rax, [rsp + 16]
    cmp rax, [rsp]
    jb .fail
    ja .clock_ok
    mov rax, [rsp + 24]
    cmp rax, [rsp + 8]
    jb .fail
.clock_ok:
    cmp qword [rsp + 8], 1000000000
    jae .fail
    mov eax, SYS_clock_gettime
    mov edi, 99
    mov rsi, rsp
    syscall
    cmp rax, -EINVAL
    mov edi, 8
    jne .fail
    add rsp, 32

    ; 9: rt_sigaction round trip (SIGKILL dropped from the mask), SIGKILL refused;
    ;    rt_sigprocmask blocks SIGUSR1 and reports it
    sub rsp, 64
    mov qword [rsp], 0x401234       ; handler
    mov qword [rsp + 8], 0x04000000 ; SA_RESTORER
    mov qword [rsp + 16], 0x401000  ; restorer
    mov qword [rsp + 24], 1 << 8    ; mask: SIGKILL (9) only
    mov eax, SYS_rt_sigaction
    mov edi, 10
    mov rsi, rsp
    xor edx, edx
    mov r10d, 8
    syscall
    test rax, rax
    mov edi, 9
    jnz .fail
    mov eax, SYS_rt_sigaction
    mov edi, 10
    xor esi, esi
    lea rdx, [rsp + 32]
    mov r10d, 8
    syscall
    test rax, rax
    mov edi, 9
    jnz .fail
    cmp qword [rsp + 32], 0x401234
    jne .fail
    cmp qword [rsp + 56], 0
    jne .fail
    mov eax, SYS_rt_sigaction
    mov edi, 9
    mov rsi, rsp
    xor edx, edx
    mov r10d, 8
    syscall
    cmp rax, -EINVAL
    mov edi, 9
    jne .fail
    mov qword [rsp], 1 << 9         ; SIGUSR1 (10)
    mov eax, SYS_rt_sigprocmask
    xor edi, edi                    ; SIG_BLOCK
    mov rsi, rsp
    lea rdx, [rsp + 8]
    mov r10d, 8
    syscall
    test rax, rax
    mov edi, 9
    jnz .fail
    mov eax, SYS_rt_sigprocmask
    mov edi, 2                      ; SIG_SETMASK, no new set: just read
    xor esi, esi
    lea rdx, [rsp + 8]
    mov r10d, 8
    syscall
    test rax, rax
    mov edi, 9
    jnz .fail
    cmp qword [rsp + 8], 1 << 9
    jne .fail
    add rsp, 64

    ; 10: writev(2, two iovecs) writes both; bad iovecs: -EFAULT, nothing written
    sub rsp, 32
    lea rax, [rel .part1]
    mov [rsp], rax
    mov qword [rsp + 8], .part1_length
    lea rax, [rel .part2]
    mov [rsp + 16], rax
    mov qword [rsp + 24], .part2_length
    mov eax, SYS_writev
    mov edi, 2
    mov rsi, rsp
    mov edx, 2
    syscall
    cmp rax, .part1_length + .part2_length
    mov edi, 10
    jne .fail
    ; a kernel address in the second iovec fails the whole call before anything is written
    mov rax, 0xFFFF800000000000
    mov [rsp + 16], rax
    mov eax, SYS_writev
    mov edi, 2
    mov rsi, rsp
    mov edx, 2
    syscall
    cmp rax, -EFAULT
    mov edi, 10
    jne .fail
    ; an unmapped first buffer: nothing can be written
    mov qword [rsp], 0x10000000
    mov eax, SYS_writev
    mov edi, 2
    mov rsi, rsp
    mov edx, 2
    syscall
    cmp rax, -EFAULT
    mov edi, 10
    jne .fail
    add rsp, 32

    ; 11: ioctl on the console: -ENOTTY; read(0): end of file
    mov eax, SYS_ioctl
    mov edi, 1
    mov esi, 0x5401                 ; TCGETS
    xor edx, edx
    syscall
    cmp rax, -ENOTTY
    mov edi, 11
    jne .fail
    sub rsp, 16
    mov eax, SYS_read
    xor edi, edi
    mov rsi, rsp
    mov edx, 8
    syscall
    add rsp, 16
    test rax, rax
    mov edi, 11
    jnz .fail

    ; 12: set_tid_address returns the thread id (the pid: one thread)
    mov eax, SYS_set_tid_address
    lea rdi, [rsp - 8]
    syscall
    cmp rax, r12
    mov edi, 12
    jne .fail

    mov eax, SYS_exit_group
    mov edi, 42
    syscall
    ud2
.fail:                              ; edi = the failed step
    mov eax, SYS_exit_group
    syscall
    ud2
.hello: db "hello from ring 3", 10
.hello_length equ $ - .hello
.part1: db "two "
.part1_length equ $ - .part1
.part2: db "iovecs", 10
.part2_length equ $ - .part2
usertest_syscalls_end:

; ---------------------------------------------------------------------------------------
; Programs that die: a read of address 0 (SIGSEGV), an undefined instruction (SIGILL),
; a write into their own code page (SIGSEGV: present but read-only), int 0x80 (a gate user
; code may not use: #GP, SIGSEGV).
usertest_null_read:
    mov rax, [0]
    ud2
usertest_null_read_end:

usertest_undefined:
    nop
    ud2
usertest_undefined_end:

usertest_code_write:
    lea rax, [rel usertest_code_write]
    mov byte [rax], 0x90
    ud2
usertest_code_write_end:

usertest_int80:
    int 0x80
    ud2
usertest_int80_end:

; ---------------------------------------------------------------------------------------
; usertest_excache: run against the self-test's fake memory component with a tiny ExCache.
; Writes 33 anonymous pages (zero-filled locally), reads them back twice (evicted dirty pages
; come back from the memory component), checks a preloaded page, makes the kernel copy a
; buffer out of an evicted page (write), grows the break and uses it, unmaps the region.
; Exit status 7 when all pass, else the failed step.
PAGES equ 32
usertest_excache:
    ; 1: mmap(0, (PAGES + 1) pages, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
    mov eax, SYS_mmap
    xor edi, edi
    mov esi, (PAGES + 1) * 4096
    mov edx, 3
    mov r10d, 0x22
    mov r8, -1
    xor r9d, r9d
    syscall
    cmp rax, -4095
    mov edi, 1
    jae .fail
    mov r15, rax

    ; 2: page i gets (7i + 1, i)
    xor ecx, ecx
.write:
    mov rax, rcx
    imul rax, rax, 7
    inc rax
    mov rdx, rcx
    shl rdx, 12
    mov [r15 + rdx], rax
    mov [r15 + rdx + 8], rcx
    inc rcx
    cmp rcx, PAGES
    jb .write

    ; 3: twice: every page still holds its pair; the sum of the first words is 7 * 496 + 32
    mov r14d, 2
.pass:
    xor ecx, ecx
    xor ebx, ebx
.read:
    mov rdx, rcx
    shl rdx, 12
    add rbx, [r15 + rdx]
    cmp [r15 + rdx + 8], rcx
    mov edi, 3
    jne .fail
    inc rcx
    cmp rcx, PAGES
    jb .read
    cmp rbx, 7 * 496 + PAGES
    jne .fail
    dec r14d
    jnz .pass

    ; 4: the never-written last page reads as zeros
    mov rax, [r15 + PAGES * 4096]
    or rax, [r15 + PAGES * 4096 + 4088]
    mov edi, 4
    jnz .fail

    ; 5: the preloaded data page at 0x600000 (fetched from the memory component)
    mov rax, [abs 0x600000]
    mov rdx, 0x5EED5EED5EED5EED
    cmp rax, rdx
    mov edi, 5
    jne .fail

    ; 6: text put into page 5, the page evicted by reading all others, then written by the kernel
    lea rdi, [r15 + 5 * 4096 + 16]
    lea rsi, [rel .text]
    mov ecx, .text_length
    rep movsb
    mov ecx, 6
.evict:
    mov rdx, rcx
    shl rdx, 12
    mov rax, [r15 + rdx]
    inc rcx
    cmp rcx, PAGES
    jb .evict
    mov eax, SYS_write
    mov edi, 1
    lea rsi, [r15 + 5 * 4096 + 16]
    mov edx, .text_length
    syscall
    cmp rax, .text_length
    mov edi, 6
    jne .fail

    ; 7: brk grows by two pages, which hold what is written to them
    mov eax, SYS_brk
    xor edi, edi
    syscall
    mov r13, rax
    lea rdi, [rax + 8192]
    mov eax, SYS_brk
    syscall
    lea rdx, [r13 + 8192]
    cmp rax, rdx
    mov edi, 7
    jne .fail
    mov qword [r13], 77
    mov qword [r13 + 4096], 78
    cmp qword [r13], 77
    jne .fail
    cmp qword [r13 + 4096], 78
    jne .fail

    ; 8: munmap of the region
    mov eax, SYS_munmap
    mov rdi, r15
    mov esi, (PAGES + 1) * 4096
    syscall
    test rax, rax
    mov edi, 8
    jnz .fail

    mov eax, SYS_exit_group
    mov edi, 7
    syscall
    ud2
.fail:
    mov eax, SYS_exit_group
    syscall
    ud2
.text: db "excache says hi", 10
.text_length equ $ - .text
usertest_excache_end:

; usertest_unmapped: after munmap, a read of the unmapped region is a segfault the memory
; component decides (-EFAULT from PCACHE_MISS).
usertest_unmapped:
    mov eax, SYS_mmap
    xor edi, edi
    mov esi, 4096
    mov edx, 3
    mov r10d, 0x22
    mov r8, -1
    xor r9d, r9d
    syscall
    mov r15, rax
    mov qword [r15], 1
    mov eax, SYS_munmap
    mov rdi, r15
    mov esi, 4096
    syscall
    mov rax, [r15 + 8]
    ud2
usertest_unmapped_end:

; ---------------------------------------------------------------------------------------
section .text
; byte* usertest_program(int which, ulong* length): the program's bytes and length.
; 0 syscalls, 1 null read, 2 undefined, 3 code write, 4 int 0x80, 5 excache, 6 unmapped.
global usertest_program
usertest_program:
    movsxd rdi, edi
    shl rdi, 4
    lea rax, [rel usertest_table]
    mov rcx, [rax + rdi + 8]
    mov [rsi], rcx
    mov rax, [rax + rdi]
    ret

section .rodata
align 8
usertest_table:
    dq usertest_syscalls, usertest_syscalls_end - usertest_syscalls
    dq usertest_null_read, usertest_null_read_end - usertest_null_read
    dq usertest_undefined, usertest_undefined_end - usertest_undefined
    dq usertest_code_write, usertest_code_write_end - usertest_code_write
    dq usertest_int80, usertest_int80_end - usertest_int80
    dq usertest_excache, usertest_excache_end - usertest_excache
    dq usertest_unmapped, usertest_unmapped_end - usertest_unmapped

section .note.GNU-stack noalloc noexec nowrite progbits
