// Linux errno values the processor's syscalls return, negated, in rax
// (include/uapi/asm-generic/errno-base.h and errno.h). Pure: kernel and host tests.
namespace Tessera.Processor.Syscalls
{
    public static class Errno
    {
        public const int EPERM = 1;
        public const int ENOENT = 2;
        public const int ESRCH = 3;
        public const int EIO = 5;
        public const int E2BIG = 7;
        public const int ENOEXEC = 8;
        public const int EBADF = 9;
        public const int EAGAIN = 11;
        public const int ENOMEM = 12;
        public const int EACCES = 13;
        public const int EFAULT = 14;
        public const int ENODEV = 19;
        public const int EINVAL = 22;
        public const int ENOTTY = 25;
        public const int ENOSYS = 38;
        public const int ETIMEDOUT = 110;

        /// <summary>A syscall result in [-4095, -1] is an error (the convention libc checks).</summary>
        public static bool IsError(long result) => result < 0 && result >= -4095;

        public static string? Name(int positive) => positive switch
        {
            EPERM => "EPERM", ENOENT => "ENOENT", ESRCH => "ESRCH", EIO => "EIO", E2BIG => "E2BIG",
            ENOEXEC => "ENOEXEC", EBADF => "EBADF", EAGAIN => "EAGAIN", ENOMEM => "ENOMEM", EACCES => "EACCES",
            EFAULT => "EFAULT", ENODEV => "ENODEV", EINVAL => "EINVAL", ENOTTY => "ENOTTY", ENOSYS => "ENOSYS",
            ETIMEDOUT => "ETIMEDOUT", _ => null,
        };
    }
}
