// The answers of stat(2) and statfs(2) in Linux x86-64's binary layout, so a processor copies
// them to the program's buffer byte for byte (offsets in kernel/Core/Rpc/FileProtocol.cs):
// struct stat from arch/x86/include/uapi/asm/stat.h (the x86-64 branch, 144 bytes) and
// struct statfs from include/uapi/asm-generic/statfs.h with 64-bit __statfs_word (120 bytes).
// Pure logic: compiled into the storage kernel and the host tests.
using System;
using Tessera.Core.Rpc;
using Tessera.Storage.Ext2;

namespace Tessera.Storage
{
    public static class LinuxStatLayout
    {
        // statfs f_flags (include/linux/statfs.h): the volume is mounted with what these say.
        public const ulong ST_RDONLY = 0x0001;
        public const ulong ST_VALID = 0x0020;     // f_flags is meaningful
        public const ulong ST_NOATIME = 0x0400;   // reads do not update access times (Ext2FileSystem.Read)

        /// <summary>Writes struct stat (FileProtocol.StatSize bytes); st_dev is the storage node's id.</summary>
        public static int WriteStat(Span<byte> b, in FileStatus s, ushort device)
        {
            b.Slice(0, FileProtocol.StatSize).Clear();
            RpcMessage.Put64(b, 0, device);                 // st_dev
            RpcMessage.Put64(b, 8, s.Inode);                // st_ino
            RpcMessage.Put64(b, 16, s.Links);               // st_nlink (a u64 on x86-64)
            RpcMessage.Put32(b, 24, s.Mode);                // st_mode
            RpcMessage.Put32(b, 28, s.Uid);                 // st_uid
            RpcMessage.Put32(b, 32, s.Gid);                 // st_gid
            RpcMessage.Put64(b, 40, s.DeviceNumber);        // st_rdev
            RpcMessage.Put64(b, 48, s.Size);                // st_size
            RpcMessage.Put64(b, 56, s.BlockSize);           // st_blksize
            RpcMessage.Put64(b, 64, s.Blocks);              // st_blocks (512-byte units)
            RpcMessage.Put64(b, 72, s.AccessTime);          // st_atime (ext2 keeps seconds: nsec 0)
            RpcMessage.Put64(b, 88, s.ModifyTime);          // st_mtime
            RpcMessage.Put64(b, 104, s.ChangeTime);         // st_ctime
            return FileProtocol.StatSize;
        }

        /// <summary>Writes struct statfs (FileProtocol.StatfsSize bytes).</summary>
        public static int WriteStatfs(Span<byte> b, in VolumeStatus v, bool readOnly)
        {
            b.Slice(0, FileProtocol.StatfsSize).Clear();
            RpcMessage.Put64(b, 0, v.Type);                 // f_type: EXT2_SUPER_MAGIC
            RpcMessage.Put64(b, 8, v.BlockSize);            // f_bsize
            RpcMessage.Put64(b, 16, v.Blocks);              // f_blocks
            RpcMessage.Put64(b, 24, v.FreeBlocks);          // f_bfree
            RpcMessage.Put64(b, 32, v.AvailableBlocks);     // f_bavail
            RpcMessage.Put64(b, 40, v.Files);               // f_files
            RpcMessage.Put64(b, 48, v.FreeFiles);           // f_ffree
            RpcMessage.Put32(b, 56, (uint)v.FileSystemId);  // f_fsid.val[0]
            RpcMessage.Put32(b, 60, (uint)(v.FileSystemId >> 32)); // f_fsid.val[1]
            RpcMessage.Put64(b, 64, v.MaxNameLength);       // f_namelen
            RpcMessage.Put64(b, 72, v.BlockSize);           // f_frsize
            RpcMessage.Put64(b, 80, ST_VALID | ST_NOATIME | (readOnly ? ST_RDONLY : 0));   // f_flags
            return FileProtocol.StatfsSize;
        }
    }
}
