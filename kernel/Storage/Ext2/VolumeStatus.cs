// What statfs(2) reports about an ext2 volume.
namespace Tessera.Storage.Ext2
{
    /// <summary>What statfs(2) reports about the volume (Linux's ext2_statfs, with the default "bsddf" accounting).</summary>
    public struct VolumeStatus
    {
        /// <summary>f_type: EXT2_SUPER_MAGIC.</summary>
        public uint Type;
        /// <summary>f_bsize and f_frsize.</summary>
        public uint BlockSize;
        /// <summary>f_blocks: all blocks less the metadata overhead (superblocks, descriptor tables, bitmaps, inode tables).</summary>
        public ulong Blocks;
        public ulong FreeBlocks;
        /// <summary>f_bavail: free blocks less the ones reserved for root (s_r_blocks_count).</summary>
        public ulong AvailableBlocks;
        public ulong Files;
        public ulong FreeFiles;
        /// <summary>f_fsid: the first 8 bytes of the volume UUID folded as Linux does (two 32-bit halves).</summary>
        public ulong FileSystemId;
        /// <summary>f_namelen.</summary>
        public uint MaxNameLength;
    }
}
