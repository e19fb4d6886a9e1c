// What stat(2) reports about a file, taken from its inode: the fields a `struct stat`
// answer to stat/lstat/fstat/newfstatat needs (the device number is the RPC server's).
namespace Tessera.Storage.Ext2
{
    public struct FileStatus
    {
        public ulong Inode;
        /// <summary>st_mode: type bits and permissions, as i_mode.</summary>
        public uint Mode;
        public uint Links;
        public uint Uid;
        public uint Gid;
        /// <summary>st_rdev of a device file (Linux's old or new encoding, as ext2 stores it in i_block).</summary>
        public ulong DeviceNumber;
        public ulong Size;
        /// <summary>st_blksize: the file system block size.</summary>
        public uint BlockSize;
        /// <summary>st_blocks: 512-byte units allocated (i_blocks), including indirect blocks.</summary>
        public ulong Blocks;
        public uint AccessTime;
        public uint ModifyTime;
        public uint ChangeTime;
    }
}
