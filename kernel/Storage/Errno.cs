// Linux errno values (include/uapi/asm-generic/errno-base.h and errno.h), negated: every
// storage operation returns 0 or a count on success and one of these on failure, which is
// exactly what the file RPCs carry back to the processor's system calls.
namespace Tessera.Storage
{
    public static class Errno
    {
        public const int EPERM = -1;
        public const int ENOENT = -2;
        public const int EIO = -5;
        public const int EBADF = -9;
        public const int ENOMEM = -12;
        public const int EACCES = -13;
        public const int EBUSY = -16;
        public const int EEXIST = -17;
        public const int EXDEV = -18;
        public const int ENODEV = -19;
        public const int ENOTDIR = -20;
        public const int EISDIR = -21;
        public const int EINVAL = -22;
        public const int ENFILE = -23;
        public const int EFBIG = -27;
        public const int ENOSPC = -28;
        public const int EROFS = -30;
        public const int EMLINK = -31;
        public const int ENAMETOOLONG = -36;
        public const int ENOTEMPTY = -39;
        public const int ELOOP = -40;
        /// <summary>A file RPC that does not follow its layout (kernel/Core/Rpc/FileProtocol.cs).</summary>
        public const int EBADMSG = -74;
        /// <summary>"Structure needs cleaning": what Linux returns for a corrupted file system (EFSCORRUPTED).</summary>
        public const int EUCLEAN = -117;
    }
}
