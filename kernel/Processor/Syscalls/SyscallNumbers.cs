// The Linux x86-64 syscall numbers the processor implements (arch/x86/entry/syscalls/syscall_64.tbl).
namespace Tessera.Processor.Syscalls
{
    public static class SyscallNumbers
    {
        public const int Read = 0;
        public const int Write = 1;
        public const int Mmap = 9;
        public const int Mprotect = 10;
        public const int Munmap = 11;
        public const int Brk = 12;
        public const int RtSigaction = 13;
        public const int RtSigprocmask = 14;
        public const int Ioctl = 16;
        public const int Writev = 20;
        public const int Mremap = 25;
        public const int Madvise = 28;
        public const int Getpid = 39;
        public const int Exit = 60;
        public const int Uname = 63;
        public const int ArchPrctl = 158;
        public const int Gettid = 186;
        public const int SetTidAddress = 218;
        public const int ClockGettime = 228;
        public const int ExitGroup = 231;
    }
}
