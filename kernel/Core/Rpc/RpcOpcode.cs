// RPC opcodes. Names follow LegoOS's (DESIGN §1) where the operation is the same.
namespace Tessera.Core.Rpc
{
    public static class RpcOpcode
    {
        public const ushort Hello = 1;        // membership: who are you (role, node id)
        public const ushort Echo = 2;         // returns its payload unchanged (tests, benchmarks)
        public const ushort Stats = 3;        // the server's RPC counters
        public const ushort Page = 4;         // a 4 KiB page for an 8-byte page number (benchmarks: PCACHE_MISS's shape)

        // processor -> memory (issue 5)
        public const ushort PcacheMiss = 16;
        public const ushort PcacheFlush = 17;
        public const ushort Mmap = 18;
        public const ushort Munmap = 19;
        public const ushort Mprotect = 20;
        public const ushort Mremap = 21;
        public const ushort Brk = 22;
        public const ushort Fork = 23;
        public const ushort Execve = 24;
        public const ushort Exit = 25;

        // processor/memory -> storage (issue 6)
        public const ushort Open = 48;
        public const ushort Stat = 49;
        public const ushort Getdents = 50;
        public const ushort Mkdir = 51;
        public const ushort Unlink = 52;
        public const ushort Rename = 53;
        public const ushort Truncate = 54;
        public const ushort Read = 55;
        public const ushort Write = 56;
        public const ushort Fstat = 57;
        public const ushort Ftruncate = 58;
        public const ushort Fsync = 59;
        public const ushort Close = 60;
        public const ushort Readlink = 61;
        public const ushort Access = 62;
        public const ushort Statfs = 63;
        public const ushort ReadPath = 64;    // memory -> storage: executables and file-backed pages by path
        public const ushort Symlink = 65;
        public const ushort Link = 66;
        public const ushort Forget = 67;      // a restarted client: close every handle it held
        // Layouts of 48..67: kernel/Core/Rpc/FileProtocol.cs.

        /// <summary>Opcodes are below this bound; handler tables are this long.</summary>
        public const int Limit = 128;
    }

    /// <summary>Status codes carried in error replies: negative Linux errno values.</summary>
    public static class RpcStatus
    {
        public const int Ok = 0;
        public const int ENOENT = -2;
        public const int ESRCH = -3;          // no such process (memory service: unknown node/pid)
        public const int EIO = -5;
        public const int ENOMEM = -12;
        public const int EACCES = -13;        // page miss: the area forbids the access
        public const int EFAULT = -14;
        public const int EEXIST = -17;
        public const int EINVAL = -22;
        public const int ENOSPC = -28;
        public const int ENOSYS = -38;        // no handler for this opcode
        public const int EBADMSG = -74;       // a request that does not follow its layout (FileProtocol)
        public const int EMSGSIZE = -90;      // payload too large
        public const int ETIMEDOUT = -110;    // client side: no reply after all retries
    }
}
