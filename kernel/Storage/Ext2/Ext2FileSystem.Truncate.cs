// Changing a file's size (truncate / ftruncate), and releasing all of a deleted inode's blocks.
//
// Growing only sets i_size: the new range is a hole and reads as zeros. Shrinking zeroes the
// tail of the new last block (so growing again later reads zeros there, as POSIX requires),
// then frees every block past the new end, indirect blocks included, in this order
// (Ext2FileSystem, "Durability" 5): pointers are cleared on disk first — the inode for whole
// direct blocks and whole indirect trees, the indirect block itself for a partly kept tree —
// and only then are the blocks they named marked free. A crash in between leaks blocks, which
// e2fsck reclaims; it never leaves a live pointer to a free block.
using System;

namespace Tessera.Storage.Ext2
{
    public sealed partial class Ext2FileSystem
    {
        private uint _releasedBlocks;   // blocks freed by the current release (for i_blocks)

        /// <summary>Sets regular file ino's size. -EISDIR for a directory, -EFBIG past MaxFileSize.</summary>
        public int Truncate(uint ino, ulong size)
        {
            int r = CheckWritable();
            if (r < 0) return r;
            Ext2Inode inode = default;
            r = ReadInode(ino, ref inode);
            if (r < 0) return r;
            if (inode.IsDirectory) return Errno.EISDIR;
            if (!inode.IsRegular) return Errno.EINVAL;
            if (size > MaxFileSize) return Errno.EFBIG;
            if (size < inode.Size)
            {
                r = ZeroTail(ref inode, size);
                if (r < 0) return r;
                r = ReleaseBlocks(ref inode, size);
                if (r < 0) return r;
            }
            inode.Size = size;
            inode.ModifyTime = inode.ChangeTime = Now();
            return WriteInode(ref inode);
        }

        /// <summary>Zeroes the bytes of the block holding offset `size` from there to the block's end.</summary>
        private int ZeroTail(ref Ext2Inode inode, ulong size)
        {
            int inBlock = (int)(size & (ulong)(_blockSize - 1));
            if (inBlock == 0) return 0;
            int r = MapBlock(ref inode, size >> _blockShift, out uint block);
            if (r < 0 || block == 0) return r;
            r = ReadBlocks(block, _dataBlock);
            if (r < 0) return r;
            new Span<byte>(_dataBlock, inBlock, _blockSize - inBlock).Clear();
            return WriteBlocks(block, _dataBlock);
        }

        /// <summary>
        /// Frees every block of inode at or past byte `size` (all of them for 0), sets i_size
        /// to min(i_size, size) and i_blocks to what is left, and writes the inode.
        /// </summary>
        private int ReleaseBlocks(ref Ext2Inode inode, ulong size)
        {
            int r = CommitMetadata();   // nothing pending: the disk is what the walks below read
            if (r < 0) return r;
            ulong p = (ulong)_pointersPerBlock;
            ulong keep = (size + (ulong)_blockSize - 1) >> _blockShift;   // logical blocks kept
            // The logical block where each i_block slot's tree starts, and how many levels it has.
            ulong singleStart = Ext2Inode.DirectBlocks, doubleStart = singleStart + p, tripleStart = doubleStart + p * p;

            // 1. Detach from the inode what goes entirely, and write the inode.
            Span<uint> detached = stackalloc uint[Ext2Inode.BlockSlots];
            for (int slot = 0; slot < Ext2Inode.BlockSlots; slot++)
            {
                ulong start = slot < Ext2Inode.DirectBlocks ? (ulong)slot
                    : slot == Ext2Inode.IndirectSlot ? singleStart
                    : slot == Ext2Inode.DoubleIndirectSlot ? doubleStart : tripleStart;
                if (keep <= start && inode.BlockPointer(slot) != 0)
                {
                    detached[slot] = inode.BlockPointer(slot);
                    inode.SetBlockPointer(slot, 0);
                }
            }
            if (size < inode.Size) inode.Size = size;
            r = WriteInode(ref inode);
            if (r < 0) return r;

            _releasedBlocks = 0;
            // 2. Trim the one tree that is kept in part, if any.
            if (keep > singleStart && keep < doubleStart && inode.BlockPointer(Ext2Inode.IndirectSlot) != 0)
                r = TrimTree(inode.BlockPointer(Ext2Inode.IndirectSlot), 1, 1, keep - singleStart);
            else if (keep > doubleStart && keep < tripleStart && inode.BlockPointer(Ext2Inode.DoubleIndirectSlot) != 0)
                r = TrimTree(inode.BlockPointer(Ext2Inode.DoubleIndirectSlot), 2, 1, keep - doubleStart);
            else if (keep > tripleStart && keep < tripleStart + p * p * p && inode.BlockPointer(Ext2Inode.TripleIndirectSlot) != 0)
                r = TrimTree(inode.BlockPointer(Ext2Inode.TripleIndirectSlot), 3, 1, keep - tripleStart);
            if (r < 0) return r;

            // 3. Free what was detached in step 1.
            for (int slot = 0; slot < Ext2Inode.BlockSlots; slot++)
            {
                if (detached[slot] == 0) continue;
                int levels = slot < Ext2Inode.DirectBlocks ? 0 : slot - Ext2Inode.IndirectSlot + 1;
                r = FreeTree(detached[slot], levels, 1);
                if (r < 0) return r;
            }

            uint released = _releasedBlocks * _sectorsPerBlock;
            inode.Sectors = inode.Sectors > released ? inode.Sectors - released : 0;
            return WriteInode(ref inode);
        }

        /// <summary>
        /// In the indirect block `block` at `depth`, whose slots each cover p^(levels-1) logical
        /// blocks, keeps the first `keep` logical blocks and frees the rest: first the partly
        /// kept child is trimmed, then the slots past it are cleared and the block written, and
        /// only then the subtrees they named are freed.
        /// </summary>
        private int TrimTree(uint block, int levels, int depth, ulong keep)
        {
            if (!IsDataBlock(block)) { Corrupt(); return Errno.EIO; }
            ulong span = 1;
            for (int i = 1; i < levels; i++) span *= (ulong)_pointersPerBlock;
            int firstFreed = (int)((keep + span - 1) / span);
            int r = LoadIndirect(depth, block);
            if (r < 0) return r;
            if (keep % span != 0)
            {
                int partial = (int)(keep / span);
                uint child = Pointer(depth, partial);
                if (child != 0)
                {
                    r = TrimTree(child, levels - 1, depth + 1, keep % span);
                    if (r < 0) return r;
                    r = LoadIndirect(depth, block);
                    if (r < 0) return r;
                }
            }
            byte[] data = _indirect[depth].Data;
            byte[] doomed = _releaseScratch[depth];
            bool any = false;
            for (int i = firstFreed; i < _pointersPerBlock; i++)
            {
                uint child = LittleEndian.U32(data, i * 4);
                LittleEndian.Put32(doomed, i * 4, child);
                if (child != 0) { any = true; LittleEndian.Put32(data, i * 4, 0); }
            }
            if (!any) return 0;
            _indirect[depth].Dirty = true;
            r = WriteIndirect(depth);
            if (r < 0) return r;
            for (int i = firstFreed; i < _pointersPerBlock; i++)
            {
                uint child = LittleEndian.U32(doomed, i * 4);
                if (child == 0) continue;
                r = FreeTree(child, levels - 1, depth + 1);
                if (r < 0) return r;
            }
            return 0;
        }

        /// <summary>
        /// Frees block and, for levels > 0, everything under it (it is an indirect block with
        /// that many levels below). Nothing on disk points to it any more. The block's pointers
        /// are read into the release scratch buffer of its depth, so the walk needs no allocation.
        /// </summary>
        private int FreeTree(uint block, int levels, int depth)
        {
            if (!IsDataBlock(block)) { Corrupt(); return 0; }
            if (levels > 0)
            {
                byte[] pointers = _releaseScratch[depth];
                int r = ReadBlocks(block, pointers);
                if (r < 0) return r;
                for (int i = 0; i < _pointersPerBlock; i++)
                {
                    uint child = LittleEndian.U32(pointers, i * 4);
                    if (child == 0) continue;
                    r = FreeTree(child, levels - 1, depth + 1);
                    if (r < 0) return r;
                }
            }
            int f = FreeBlock(block);
            if (f < 0) return f;
            _releasedBlocks++;
            return 0;
        }
    }
}
