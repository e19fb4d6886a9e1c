// The file protocol: processors and memory components -> the storage component (issue 6;
// LegoOS's OPEN, STAT, GETDENTS, MKDIR, UNLINK, RENAME, TRUNCATE, READ, WRITE, DESIGN §1).
// Every field is little-endian. The storage component serves it (kernel/Storage/FileService.cs);
// docs/storage-service.md explains the choices.
//
// Results: a failed operation is an RPC error reply whose status is the negative Linux errno
// the system call returns (-ENOENT, -EEXIST, -ENOSPC, ...), so a processor passes it to the
// program unchanged. Two statuses are the protocol's own: -EBADMSG for a request that does not
// follow the layouts below (a processor bug, never a file system answer) and -EBADF for a
// handle that is not open for the calling node. With no file system mounted (no disk: -ENODEV;
// a disk the component refused to mount: -EIO) every file request gets that status.
//
// Two request shapes carry everything:
//   path request   (24 bytes, then the names):
//     u32 base | u32 arg | u64 value | u16 length1 | u16 length2 | u32 0 | name1 | name2
//     base: a directory handle relative paths start from (openat's dirfd), or RootBase;
//           an absolute path ignores it. length2 is 0 except where a second name is listed.
//   handle request (16 bytes, then data for WRITE):
//     u32 handle | u32 arg | u64 value [| data]
//
//  op         shape    arg                   value            names          OK reply
//  OPEN       path     Linux O_* flags       mode             path           u32 handle | u32 st_mode | u64 st_size
//  STAT       path     AT_* flags            -                path           struct stat (144)
//  GETDENTS   handle   capacity (bytes)      cookie           -              u64 next cookie | linux_dirent64 records
//  MKDIR      path     mode                  -                path           -
//  UNLINK     path     AT_* flags            -                path           -   (AT_REMOVEDIR: rmdir)
//  RENAME     path     RENAME_* flags        new base         old, new       -
//  TRUNCATE   path     -                     length           path           -
//  READ       handle   length (<= 8192)      offset           -              the bytes (0 bytes: end of file)
//  WRITE      handle   -                     offset           - (data)       u64 count | u64 end offset
//  FSTAT      handle   -                     -                -              struct stat (144)
//  FTRUNCATE  handle   -                     length           -              -
//  FSYNC      handle   1: data only          -                -              -   (handle NoHandle: sync(2))
//  CLOSE      handle   -                     -                -              -
//  READLINK   path     capacity              -                path           the target (no NUL, cut to capacity)
//  ACCESS     path     F/R/W/X_OK mode       AT_* flags       path           -
//  STATFS     path     -                     -                path           struct statfs (120) (empty path: base's volume)
//  READPATH   path     length (<= 8192)      offset           path           the bytes: a read with no handle
//  SYMLINK    path     -                     -                target, path   -
//  LINK       path     AT_* flags            new base         old, new       -
//  FORGET     (empty request)                                                u32 handles closed
//
// Offsets live with the caller: a processor keeps each open file's position (lseek, read and
// write advance it, dup'd descriptors share it) and sends it with every READ and WRITE; the
// storage component keeps no positions. The one exception is O_APPEND: the component writes
// at the end of the file whatever offset came, and the reply's end offset is where the
// processor's position goes (Linux's pwrite on an O_APPEND file appends too). lseek(SEEK_END)
// takes st_size from FSTAT; a directory's position is the GETDENTS cookie (d_off).
//
// Handles: OPEN returns a handle naming an entry in the storage component's open-file table,
// which is kept per (calling node, handle): another node's handle is -EBADF. A handle is
// (generation << 16) | slot, the generation starting from the component's boot clock, so a
// handle from before a close (or before a restart of the storage VM) is refused, not
// misrouted. O_CLOEXEC, file descriptors, dup and positions are the processor's. A file
// unlinked while open keeps its inode and data until its last handle is closed. A processor
// that restarts sends FORGET: every handle its node held is closed.
//
// Sizes: READ and READPATH return at most MaxRead (8192) bytes, a whole RPC payload; WRITE
// carries at most MaxWrite (8176) bytes after its header; GETDENTS's capacity is at most
// MaxDirents. Larger transfers are several requests: that is the caller's loop. Names are at
// most 4095 bytes (PATH_MAX with its NUL), a single component at most 255 (-ENAMETOOLONG).
//
// Credentials: the rig runs one user, so files and directories are created owned by uid 0,
// gid 0 with the mode bits given (the processor applies its umask first); ACCESS answers as
// Linux does for root (read and write always, execute when any x bit is set).
//
// struct stat is Linux x86-64's (arch/x86/include/uapi/asm/stat.h), 144 bytes, so the
// processor copies it to the program verbatim:
//   0 st_dev u64 | 8 st_ino u64 | 16 st_nlink u64 | 24 st_mode u32 | 28 st_uid u32 |
//  32 st_gid u32 | 36 pad u32 | 40 st_rdev u64 | 48 st_size i64 | 56 st_blksize i64 |
//  64 st_blocks i64 | 72 st_atime | 80 st_atime_nsec | 88 st_mtime | 96 st_mtime_nsec |
// 104 st_ctime | 112 st_ctime_nsec | 120 3 x i64 unused
// st_dev is the storage component's node id (an unnamed device: major 0).
// struct statfs is Linux x86-64's (include/uapi/asm-generic/statfs.h with 64-bit longs), 120 bytes:
//   0 f_type | 8 f_bsize | 16 f_blocks | 24 f_bfree | 32 f_bavail | 40 f_files | 48 f_ffree |
//  56 f_fsid (2 x i32) | 64 f_namelen | 72 f_frsize | 80 f_flags | 88 4 x i64 spare
// linux_dirent64 (getdents64(2)): u64 d_ino | i64 d_off | u16 d_reclen | u8 d_type | name NUL,
// padded to 8 bytes; d_off is the cookie that continues after the record.
// Pure logic: compiled into the kernels and the host tests.
using System;

namespace Tessera.Core.Rpc
{
    public static class FileProtocol
    {
        public const int PathHeader = 24;
        public const int HandleHeader = 16;
        public const int MaxRead = RpcMessage.MaxPayload;
        public const int MaxWrite = RpcMessage.MaxPayload - HandleHeader;
        public const int WriteReplySize = 16;
        public const int OpenReplySize = 16;
        public const int DirentsReplyHeader = 8;
        public const int MaxDirents = RpcMessage.MaxPayload - DirentsReplyHeader;
        public const int MaxPath = 4095;
        public const int StatSize = 144;
        public const int StatfsSize = 120;

        /// <summary>The base of a path request that has no directory handle: the root.</summary>
        public const uint RootBase = 0xFFFFFFFF;
        /// <summary>FSYNC's handle for "the whole volume" (sync(2), syncfs(2)).</summary>
        public const uint NoHandle = 0xFFFFFFFF;

        // open(2) flags, x86-64 values (include/uapi/asm-generic/fcntl.h).
        public const uint O_RDONLY = 0x0;
        public const uint O_WRONLY = 0x1;
        public const uint O_RDWR = 0x2;
        public const uint O_ACCMODE = 0x3;
        public const uint O_CREAT = 0x40;
        public const uint O_EXCL = 0x80;
        public const uint O_NOCTTY = 0x100;
        public const uint O_TRUNC = 0x200;
        public const uint O_APPEND = 0x400;
        public const uint O_NONBLOCK = 0x800;
        public const uint O_DIRECTORY = 0x10000;
        public const uint O_NOFOLLOW = 0x20000;
        public const uint O_CLOEXEC = 0x80000;

        // *at(2) flags (include/uapi/linux/fcntl.h).
        public const uint AT_SYMLINK_NOFOLLOW = 0x100;
        public const uint AT_REMOVEDIR = 0x200;
        public const uint AT_SYMLINK_FOLLOW = 0x400;
        public const uint AT_EMPTY_PATH = 0x1000;
        public const uint AT_EACCESS = 0x200;   // access's flag: the same bit as AT_REMOVEDIR

        // renameat2(2) flags.
        public const uint RENAME_NOREPLACE = 1;

        // access(2) modes.
        public const uint F_OK = 0;
        public const uint X_OK = 1;
        public const uint W_OK = 2;
        public const uint R_OK = 4;

        public const uint FsyncDataOnly = 1;

        // ---- Requests ------------------------------------------------------------------

        /// <summary>Writes a path request; returns its length, or -1 when the names do not fit.</summary>
        public static int WritePathRequest(Span<byte> b, uint baseHandle, uint arg, ulong value, ReadOnlySpan<byte> name1, ReadOnlySpan<byte> name2)
        {
            int length = PathHeader + name1.Length + name2.Length;
            if (name1.Length > 0xFFFF || name2.Length > 0xFFFF || length > b.Length || length > RpcMessage.MaxPayload) return -1;
            RpcMessage.Put32(b, 0, baseHandle);
            RpcMessage.Put32(b, 4, arg);
            RpcMessage.Put64(b, 8, value);
            RpcMessage.Put16(b, 16, (ushort)name1.Length);
            RpcMessage.Put16(b, 18, (ushort)name2.Length);
            RpcMessage.Put32(b, 20, 0);
            name1.CopyTo(b.Slice(PathHeader));
            name2.CopyTo(b.Slice(PathHeader + name1.Length));
            return length;
        }

        /// <summary>Writes a handle request (and WRITE's data); returns its length, or -1 when it does not fit.</summary>
        public static int WriteHandleRequest(Span<byte> b, uint handle, uint arg, ulong value, ReadOnlySpan<byte> data)
        {
            int length = HandleHeader + data.Length;
            if (length > b.Length || length > RpcMessage.MaxPayload) return -1;
            RpcMessage.Put32(b, 0, handle);
            RpcMessage.Put32(b, 4, arg);
            RpcMessage.Put64(b, 8, value);
            data.CopyTo(b.Slice(HandleHeader));
            return length;
        }

        /// <summary>
        /// Reads a path request. False when it is malformed: shorter than its header, names
        /// that do not match the payload's length exactly, or a non-zero reserved field.
        /// </summary>
        public static bool ReadPathRequest(ReadOnlySpan<byte> b, out PathRequest request)
        {
            request = default;
            if (b.Length < PathHeader) return false;
            int length1 = RpcMessage.Get16(b, 16);
            int length2 = RpcMessage.Get16(b, 18);
            if (RpcMessage.Get32(b, 20) != 0 || PathHeader + length1 + length2 != b.Length) return false;
            request.Base = RpcMessage.Get32(b, 0);
            request.Arg = RpcMessage.Get32(b, 4);
            request.Value = RpcMessage.Get64(b, 8);
            request.Name1Length = length1;
            request.Name2Length = length2;
            return true;
        }

        /// <summary>Reads a handle request's header. False when shorter than it (or, unless withData, longer).</summary>
        public static bool ReadHandleRequest(ReadOnlySpan<byte> b, bool withData, out HandleRequest request)
        {
            request = default;
            if (b.Length < HandleHeader || (!withData && b.Length != HandleHeader)) return false;
            request.Handle = RpcMessage.Get32(b, 0);
            request.Arg = RpcMessage.Get32(b, 4);
            request.Value = RpcMessage.Get64(b, 8);
            return true;
        }

        // ---- Replies -------------------------------------------------------------------

        public static int WriteOpenReply(Span<byte> b, uint handle, uint mode, ulong size)
        {
            RpcMessage.Put32(b, 0, handle);
            RpcMessage.Put32(b, 4, mode);
            RpcMessage.Put64(b, 8, size);
            return OpenReplySize;
        }

        public static int WriteWriteReply(Span<byte> b, ulong count, ulong end)
        {
            RpcMessage.Put64(b, 0, count);
            RpcMessage.Put64(b, 8, end);
            return WriteReplySize;
        }
    }

    /// <summary>A decoded path request: the names are payload[PathHeader..][..Name1Length] and what follows.</summary>
    public struct PathRequest
    {
        public uint Base;
        public uint Arg;
        public ulong Value;
        public int Name1Length;
        public int Name2Length;

        public ReadOnlySpan<byte> Name1(ReadOnlySpan<byte> payload) => payload.Slice(FileProtocol.PathHeader, Name1Length);
        public ReadOnlySpan<byte> Name2(ReadOnlySpan<byte> payload) => payload.Slice(FileProtocol.PathHeader + Name1Length, Name2Length);
    }

    /// <summary>A decoded handle request: WRITE's data is payload[HandleHeader..].</summary>
    public struct HandleRequest
    {
        public uint Handle;
        public uint Arg;
        public ulong Value;
    }
}
