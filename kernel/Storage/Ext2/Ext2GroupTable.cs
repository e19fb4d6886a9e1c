// The block group descriptor table (Poirier §3.2 Block Group Descriptor Table; ext2.rst
// "Block Groups"): one 32-byte descriptor per group, in the block(s) right after the
// superblock's block (block s_first_data_block + 1). Held in memory whole, from mount to
// unmount; a changed descriptor marks its table block dirty, and dirty table blocks are
// written after the bitmaps they count ("bitmaps before counts", Ext2FileSystem.Allocation).
// As in Linux's ext2, only the primary table is written; the backups beside the superblock
// backups describe where things are, which never changes.
using System;

namespace Tessera.Storage.Ext2
{
    internal sealed class Ext2GroupTable
    {
        public const int DescriptorSize = 32;

        public readonly byte[] Raw;
        public readonly uint Count;
        public readonly int BlockSize;
        public readonly uint TableBlocks;
        private readonly bool[] _dirtyBlock;

        public Ext2GroupTable(uint count, int blockSize)
        {
            Count = count;
            BlockSize = blockSize;
            TableBlocks = (count * DescriptorSize + (uint)blockSize - 1) / (uint)blockSize;
            Raw = new byte[TableBlocks * (uint)blockSize];
            _dirtyBlock = new bool[TableBlocks];
        }

        private int At(uint group) => (int)(group * DescriptorSize);

        // Offsets from §3.2, table "Block Group Descriptor Structure".
        public uint BlockBitmap(uint g) => LittleEndian.U32(Raw, At(g));
        public uint InodeBitmap(uint g) => LittleEndian.U32(Raw, At(g) + 4);
        public uint InodeTable(uint g) => LittleEndian.U32(Raw, At(g) + 8);
        public uint FreeBlocks(uint g) => LittleEndian.U16(Raw, At(g) + 12);
        public uint FreeInodes(uint g) => LittleEndian.U16(Raw, At(g) + 14);
        public uint UsedDirectories(uint g) => LittleEndian.U16(Raw, At(g) + 16);

        public void SetFreeBlocks(uint g, uint v) { LittleEndian.Put16(Raw, At(g) + 12, v); Touch(g); }
        public void SetFreeInodes(uint g, uint v) { LittleEndian.Put16(Raw, At(g) + 14, v); Touch(g); }
        public void SetUsedDirectories(uint g, uint v) { LittleEndian.Put16(Raw, At(g) + 16, v); Touch(g); }

        private void Touch(uint g) => _dirtyBlock[g * DescriptorSize / (uint)BlockSize] = true;

        public bool IsDirty(uint tableBlock) => _dirtyBlock[tableBlock];
        public void MarkClean(uint tableBlock) => _dirtyBlock[tableBlock] = false;
        public ReadOnlySpan<byte> TableBlock(uint tableBlock) => new ReadOnlySpan<byte>(Raw, (int)tableBlock * BlockSize, BlockSize);
    }
}
