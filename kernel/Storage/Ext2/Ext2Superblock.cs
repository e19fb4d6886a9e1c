// The ext2 superblock: 1024 bytes at byte offset 1024 of the device, whatever the block size
// (Poirier, "The Second Extended File System: Internal Layout", §3.1 Superblock; Linux
// Documentation/filesystems/ext2.rst, "The Superblock"). Backups sit at the start of some
// block groups (all of them, or with sparse_super only groups 0, 1 and powers of 3, 5, 7);
// like Linux's ext2 we read and write only the primary: backups are for e2fsck, and the
// fields that change in normal operation (free counts, times, state) are not compared
// between copies by it.
using System;

namespace Tessera.Storage.Ext2
{
    public sealed class Ext2Superblock
    {
        public const int Size = 1024;
        /// <summary>Byte offset of the primary superblock on the device.</summary>
        public const int Offset = 1024;
        public const ushort Magic = 0xEF53;

        // s_state (§3.1 s_state): set when cleanly unmounted, cleared while mounted read-write.
        public const ushort StateValid = 1;
        public const ushort StateErrors = 2;

        public const uint GoodOldRevision = 0;
        public const uint DynamicRevision = 1;
        public const uint GoodOldFirstInode = 11;
        public const int GoodOldInodeSize = 128;

        public readonly byte[] Raw = new byte[Size];

        private uint U32(int o) => LittleEndian.U32(Raw, o);
        private ushort U16(int o) => LittleEndian.U16(Raw, o);
        private void Put32(int o, uint v) => LittleEndian.Put32(Raw, o, v);
        private void Put16(int o, uint v) => LittleEndian.Put16(Raw, o, v);

        // Offsets from §3.1, table "Superblock Structure".
        public uint InodesCount => U32(0);
        public uint BlocksCount => U32(4);
        public uint ReservedBlocksCount => U32(8);
        public uint FreeBlocksCount { get => U32(12); set => Put32(12, value); }
        public uint FreeInodesCount { get => U32(16); set => Put32(16, value); }
        public uint FirstDataBlock => U32(20);
        /// <summary>s_log_block_size: block size is 1024 &lt;&lt; this.</summary>
        public uint LogBlockSize => U32(24);
        public uint BlocksPerGroup => U32(32);
        public uint InodesPerGroup => U32(40);
        public uint MountTime { get => U32(44); set => Put32(44, value); }
        public uint WriteTime { get => U32(48); set => Put32(48, value); }
        public ushort MountCount { get => U16(52); set => Put16(52, value); }
        public ushort MagicNumber => U16(56);
        public ushort State { get => U16(58); set => Put16(58, value); }
        public uint RevisionLevel => U32(76);
        // Revision 1 ("dynamic") fields; revision 0 implies the defaults below.
        public uint FirstInode => RevisionLevel == GoodOldRevision ? GoodOldFirstInode : U32(84);
        public int InodeSize => RevisionLevel == GoodOldRevision ? GoodOldInodeSize : U16(88);
        public uint FeatureCompat => RevisionLevel == GoodOldRevision ? 0 : U32(92);
        public uint FeatureIncompat => RevisionLevel == GoodOldRevision ? 0 : U32(96);
        public uint FeatureRoCompat => RevisionLevel == GoodOldRevision ? 0 : U32(100);
        public ReadOnlySpan<byte> Uuid => new ReadOnlySpan<byte>(Raw, 104, 16);
        /// <summary>s_reserved_gdt_blocks (resize_inode): blocks kept after each GDT copy for growth.</summary>
        public ushort ReservedGdtBlocks => U16(206);
        /// <summary>s_backup_bgs[2] (sparse_super2): the only two groups holding backups.</summary>
        public uint BackupGroup(int i) => U32(0x24C + 4 * i);
    }
}
