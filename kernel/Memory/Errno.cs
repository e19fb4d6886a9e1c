// Linux errno values (include/uapi/asm-generic/errno-base.h and errno.h, x86-64). The
// memory component answers address-space calls the way the Linux system call would:
// a non-negative result, or the NEGATIVE of one of these, which the processor hands back
// to the user program unchanged.
// Pure logic: compiled into the memory kernel and the host tests.
namespace Tessera.Memory
{
    public static class Errno
    {
        public const int EPERM = 1;
        public const int ENOENT = 2;
        public const int ESRCH = 3;
        public const int E2BIG = 7;
        public const int ENOEXEC = 8;
        public const int ENOMEM = 12;
        public const int EACCES = 13;
        public const int EFAULT = 14;
        public const int EEXIST = 17;
        public const int ENODEV = 19;
        public const int EINVAL = 22;
        public const int EOVERFLOW = 75;
        public const int EOPNOTSUPP = 95;
    }
}
