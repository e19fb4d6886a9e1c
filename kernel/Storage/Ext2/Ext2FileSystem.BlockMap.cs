// From a file's logical block to the block on disk (ext2.rst "Inodes"; Poirier §3.5 i_block):
// i_block[0..11] point at the first 12 data blocks; i_block[12] at an indirect block of
// p = block size / 4 pointers to data blocks; i_block[13] at a doubly-indirect block of p
// pointers to indirect blocks; i_block[14] at a triply-indirect block. With 1 KiB blocks the
// triply-indirect range starts at block 12 + 256 + 65536 (64 MiB + 268 KiB); with 4 KiB
// blocks at 12 + 1024 + 1048576 (just over 4 GiB). A zero pointer anywhere is a hole: the
// file reads zeros there and nothing is allocated.
//
// The indirect blocks on the last path walked stay cached, one per depth (depth 1 is named by
// the inode, depth 3 only under the triply-indirect block), so sequential access reads each
// indirect block once. Changes to a cached indirect block are written when it is evicted or
// by CommitMetadata, always after the bitmaps and deeper blocks it may point to; new data
// blocks are written by the caller before any of that can happen (FileData's segments).
using System;

namespace Tessera.Storage.Ext2
{
    public sealed partial class Ext2FileSystem
    {
        /// <summary>
        /// Splits a logical block into the path of slot indices leading to it: index[0] is the
        /// slot of i_block, index[d] the slot in the indirect block at depth d. Returns the depth
        /// of the data pointer (0 for direct blocks, 1..3 through indirect blocks), or -1 beyond
        /// what i_block can address.
        /// </summary>
        private int PathTo(ulong logical, Span<int> index)
        {
            ulong p = (ulong)_pointersPerBlock;
            if (logical < Ext2Inode.DirectBlocks) { index[0] = (int)logical; return 0; }
            logical -= Ext2Inode.DirectBlocks;
            if (logical < p) { index[0] = Ext2Inode.IndirectSlot; index[1] = (int)logical; return 1; }
            logical -= p;
            if (logical < p * p)
            {
                index[0] = Ext2Inode.DoubleIndirectSlot;
                index[1] = (int)(logical / p);
                index[2] = (int)(logical % p);
                return 2;
            }
            logical -= p * p;
            if (logical < p * p * p)
            {
                index[0] = Ext2Inode.TripleIndirectSlot;
                index[1] = (int)(logical / (p * p));
                index[2] = (int)(logical / p % p);
                index[3] = (int)(logical % p);
                return 3;
            }
            return -1;
        }

        /// <summary>Writes the indirect block cached at depth if it has changes.</summary>
        private int WriteIndirect(int depth)
        {
            CachedBlock c = _indirect[depth];
            if (!c.Dirty) return 0;
            int r = WriteBlocks(c.Block, c.Data);
            if (r < 0) return r;
            c.Dirty = false;
            return 0;
        }

        /// <summary>
        /// Makes room in the depth cache: a changed block there is written first, after the
        /// bitmaps and the deeper cached blocks it may point to.
        /// </summary>
        private int EvictIndirect(int depth)
        {
            if (!_indirect[depth].Dirty) return 0;
            int r = CommitBitmaps();
            if (r < 0) return r;
            for (int d = 3; d >= depth; d--)
            {
                r = WriteIndirect(d);
                if (r < 0) return r;
            }
            return 0;
        }

        private int LoadIndirect(int depth, uint block)
        {
            CachedBlock c = _indirect[depth];
            if (c.Block == block) return 0;
            int r = EvictIndirect(depth);
            if (r < 0) return r;
            c.Forget();
            r = ReadBlocks(block, c.Data);
            if (r < 0) return r;
            c.Block = block;
            return 0;
        }

        /// <summary>Puts a newly allocated, all-zero indirect block in the depth cache (written later, before its parent).</summary>
        private int StartIndirect(int depth, uint block)
        {
            int r = EvictIndirect(depth);
            if (r < 0) return r;
            CachedBlock c = _indirect[depth];
            new Span<byte>(c.Data).Clear();
            c.Block = block;
            c.Dirty = true;
            return 0;
        }

        private uint Pointer(int depth, int slot) => LittleEndian.U32(_indirect[depth].Data, slot * 4);

        /// <summary>
        /// The disk block holding logical block `logical` of inode, 0 for a hole. -EFBIG beyond
        /// the addressable range, -EIO for a pointer outside the data area.
        /// </summary>
        private int MapBlock(ref Ext2Inode inode, ulong logical, out uint block)
        {
            block = 0;
            Span<int> index = stackalloc int[4];
            int depth = PathTo(logical, index);
            if (depth < 0) return Errno.EFBIG;
            uint pointer = inode.BlockPointer(index[0]);
            for (int d = 1; d <= depth; d++)
            {
                if (pointer == 0) return 0;
                if (!IsDataBlock(pointer)) { Corrupt(); return Errno.EIO; }
                int r = LoadIndirect(d, pointer);
                if (r < 0) return r;
                pointer = Pointer(d, index[d]);
            }
            if (pointer != 0 && !IsDataBlock(pointer)) { Corrupt(); return Errno.EIO; }
            block = pointer;
            return 0;
        }

        /// <summary>
        /// Like MapBlock, but allocates the block (and any missing indirect blocks on its path)
        /// when it is a hole. A new block comes back with fresh = true: its content on disk is
        /// stale, and the caller must write all of it before anything else is written. New
        /// indirect blocks are placed just before it, near goal. Either every block needed is
        /// allocated or none is (-ENOSPC, -EFBIG), so a full disk leaves nothing half done.
        /// inode.Sectors counts the new blocks; the caller writes the inode.
        /// </summary>
        private int MapOrAllocate(ref Ext2Inode inode, ulong logical, uint goal, out uint block, out bool fresh)
        {
            block = 0;
            fresh = false;
            Span<int> index = stackalloc int[4];
            int depth = PathTo(logical, index);
            if (depth < 0) return Errno.EFBIG;

            // Walk down as far as the pointers exist; `level` is where the first zero pointer is
            // (0: in the inode, d: in the indirect block at depth d).
            uint pointer = inode.BlockPointer(index[0]);
            int level = 0;
            while (pointer != 0 && level < depth)
            {
                if (!IsDataBlock(pointer)) { Corrupt(); return Errno.EIO; }
                int r = LoadIndirect(level + 1, pointer);
                if (r < 0) return r;
                level++;
                pointer = Pointer(level, index[level]);
            }
            if (pointer != 0)
            {
                if (!IsDataBlock(pointer)) { Corrupt(); return Errno.EIO; }
                block = pointer;
                return 0;
            }

            // Missing: the blocks for depths level+1 .. depth (indirect) and the data block.
            int needed = depth - level + 1;
            if ((ulong)inode.Sectors + (ulong)needed * _sectorsPerBlock > uint.MaxValue) return Errno.EFBIG;
            Span<uint> fresh4 = stackalloc uint[4];
            for (int k = 0; k < needed; k++)
            {
                int r = AllocateBlock(goal, out fresh4[k]);
                if (r < 0)
                {
                    // Nothing points to these yet: give them back.
                    for (int j = 0; j < k; j++) FreeBlock(fresh4[j]);
                    return r;
                }
                goal = fresh4[k] + 1;
            }

            // Link them: the pointer at `level` names fresh4[0]; each new indirect block (at
            // depth level+k) names the next. Children are cached dirty at deeper depths than
            // their parent, so eviction and CommitMetadata write them before the parent.
            if (level == 0) inode.SetBlockPointer(index[0], fresh4[0]);
            else
            {
                LittleEndian.Put32(_indirect[level].Data, index[level] * 4, fresh4[0]);
                _indirect[level].Dirty = true;
            }
            for (int k = 1; k < needed; k++)
            {
                int d = level + k;
                int r = StartIndirect(d, fresh4[k - 1]);
                if (r < 0) return r;
                LittleEndian.Put32(_indirect[d].Data, index[d] * 4, fresh4[k]);
            }
            inode.Sectors += (uint)needed * _sectorsPerBlock;
            block = fresh4[needed - 1];
            fresh = true;
            return 0;
        }
    }
}
