// Block and inode allocation through the bitmaps (Poirier §3.3 Block Bitmap, §3.4 Inode
// Bitmap): bit i of group g's block bitmap is block s_first_data_block + g * blocks_per_group
// + i; bit i of its inode bitmap is inode g * inodes_per_group + i + 1.
//
// Policies (after Linux's ext2, ext2.rst "Block Groups" and "Directories"):
//   blocks       goal-directed: the caller passes a goal (the block after the file's previous
//                block, or the start of the inode's group) and the search runs forward from it
//                in its group, then through the following groups, wrapping around;
//   file inodes  in the parent directory's group, else a group found by quadratic probing
//                (g+1, g+3, g+7, ...) with free inodes and blocks, else any with free inodes;
//   directories  spread out: among the groups with at least the average number of free
//                inodes, the one with the most free blocks (the pre-Orlov "find_group_dir").
// Bitmaps and group descriptors change in memory and are written by CommitBitmaps: bitmaps
// first, then the descriptors counting them ("counts after bitmaps"), and all of that before
// any pointer to a newly allocated block or inode is written (Ext2FileSystem, "Durability").
// Blocks and inodes are marked free only after every on-disk pointer to them is gone.
using System;

namespace Tessera.Storage.Ext2
{
    public sealed partial class Ext2FileSystem
    {
        // ---- Bitmap caches -----------------------------------------------------------------

        private int LoadBlockBitmap(uint group)
        {
            uint block = _groups.BlockBitmap(group);
            if (_blockBitmap.Block == block) return 0;
            if (_blockBitmap.Dirty)
            {
                int w = CommitBitmaps();
                if (w < 0) return w;
            }
            _blockBitmap.Forget();
            int r = ReadBlocks(block, _blockBitmap.Data);
            if (r < 0) return r;
            _blockBitmap.Block = block;
            return 0;
        }

        private int LoadInodeBitmap(uint group)
        {
            uint block = _groups.InodeBitmap(group);
            if (_inodeBitmap.Block == block) return 0;
            if (_inodeBitmap.Dirty)
            {
                int w = CommitBitmaps();
                if (w < 0) return w;
            }
            _inodeBitmap.Forget();
            int r = ReadBlocks(block, _inodeBitmap.Data);
            if (r < 0) return r;
            _inodeBitmap.Block = block;
            return 0;
        }

        /// <summary>Writes dirty bitmaps, then the dirty group descriptor blocks (bitmaps before counts).</summary>
        private int CommitBitmaps()
        {
            if (_blockBitmap.Dirty)
            {
                int r = WriteBlocks(_blockBitmap.Block, _blockBitmap.Data);
                if (r < 0) return r;
                _blockBitmap.Dirty = false;
            }
            if (_inodeBitmap.Dirty)
            {
                int r = WriteBlocks(_inodeBitmap.Block, _inodeBitmap.Data);
                if (r < 0) return r;
                _inodeBitmap.Dirty = false;
            }
            for (uint t = 0; t < _groups.TableBlocks; t++)
            {
                if (!_groups.IsDirty(t)) continue;
                int r = WriteBlocks(_firstDataBlock + 1 + t, _groups.TableBlock(t));
                if (r < 0) return r;
                _groups.MarkClean(t);
            }
            return 0;
        }

        private static bool BitSet(byte[] map, uint bit) => (map[bit >> 3] & (1 << (int)(bit & 7))) != 0;
        private static void SetBit(byte[] map, uint bit) => map[bit >> 3] |= (byte)(1 << (int)(bit & 7));
        private static void ClearBit(byte[] map, uint bit) => map[bit >> 3] &= (byte)~(1 << (int)(bit & 7));

        /// <summary>The first clear bit in [from, limit), or -1; whole bytes of ones are skipped.</summary>
        private static long FindClearBit(byte[] map, uint from, uint limit)
        {
            uint bit = from;
            while (bit < limit)
            {
                if ((bit & 7) == 0 && map[bit >> 3] == 0xFF) { bit += 8; continue; }
                if (!BitSet(map, bit)) return bit;
                bit++;
            }
            return -1;
        }

        // ---- Blocks ------------------------------------------------------------------------

        /// <summary>
        /// Allocates one block, searching forward from goal (any block number; out-of-range
        /// goals start at group 0). -ENOSPC when none is free. Only the in-memory bitmap and
        /// counts change; CommitBitmaps writes them.
        /// </summary>
        private int AllocateBlock(uint goal, out uint block)
        {
            block = 0;
            if (_freeBlocks == 0) return Errno.ENOSPC;
            if (goal < _firstDataBlock || goal >= _blocksCount) goal = _firstDataBlock;
            uint startGroup = GroupOfBlock(goal);
            uint startBit = goal - FirstBlockOfGroup(startGroup);
            uint count = _groups.Count;
            // count + 1 rounds: the goal's group from the goal, the others whole, then the
            // goal's group again for the bits before the goal.
            for (uint k = 0; k <= count; k++)
            {
                uint g = (startGroup + k) % count;
                uint from = k == 0 ? startBit : 0;
                uint limit = k == count ? startBit : BlocksInGroup(g);
                if (_groups.FreeBlocks(g) == 0 || from >= limit) continue;
                int r = LoadBlockBitmap(g);
                if (r < 0) return r;
                long bit = FindClearBit(_blockBitmap.Data, from, limit);
                while (bit >= 0)
                {
                    uint candidate = FirstBlockOfGroup(g) + (uint)bit;
                    if (IsDataBlock(candidate))
                    {
                        SetBit(_blockBitmap.Data, (uint)bit);
                        _blockBitmap.Dirty = true;
                        _groups.SetFreeBlocks(g, _groups.FreeBlocks(g) - 1);
                        _freeBlocks--;
                        block = candidate;
                        return 0;
                    }
                    // A bitmap showing metadata as free is damaged: never hand that block out.
                    Corrupt();
                    bit = FindClearBit(_blockBitmap.Data, (uint)bit + 1, limit);
                }
            }
            return Errno.ENOSPC;
        }

        /// <summary>
        /// Marks block free. The caller has already removed (on disk) every pointer to it, or
        /// never wrote one. Freeing a block that is not allocated, or is metadata, is counted as
        /// corruption and ignored.
        /// </summary>
        private int FreeBlock(uint block)
        {
            if (!IsDataBlock(block)) { Corrupt(); return 0; }
            uint g = GroupOfBlock(block);
            int r = LoadBlockBitmap(g);
            if (r < 0) return r;
            uint bit = block - FirstBlockOfGroup(g);
            if (!BitSet(_blockBitmap.Data, bit)) { Corrupt(); return 0; }
            ClearBit(_blockBitmap.Data, bit);
            _blockBitmap.Dirty = true;
            _groups.SetFreeBlocks(g, _groups.FreeBlocks(g) + 1);
            _freeBlocks++;
            for (int d = 1; d <= 3; d++) if (_indirect[d].Block == block) _indirect[d].Forget();
            return 0;
        }

        /// <summary>The first block of inode's group: where its blocks go when nothing better is known.</summary>
        private uint GroupGoal(uint inode) => FirstBlockOfGroup(GroupOfInode(inode));

        // ---- Inodes ------------------------------------------------------------------------

        /// <summary>Allocates an inode for a new file or directory made in directory parent. -ENOSPC when none is free.</summary>
        private int AllocateInode(uint parent, bool directory, out uint inode)
        {
            inode = 0;
            if (_freeInodes == 0) return Errno.ENOSPC;
            uint count = _groups.Count;
            uint start = directory ? GroupForDirectory() : GroupForFile(GroupOfInode(parent));
            for (uint k = 0; k < count; k++)
            {
                uint g = (start + k) % count;
                if (_groups.FreeInodes(g) == 0) continue;
                int r = LoadInodeBitmap(g);
                if (r < 0) return r;
                // Inodes below s_first_ino are reserved (root, resize inode, journal ...).
                uint from = g == 0 ? _firstInode - 1 : 0;
                long bit = FindClearBit(_inodeBitmap.Data, from, _inodesPerGroup);
                if (bit < 0) { Corrupt(); continue; }   // the descriptor's count was wrong
                SetBit(_inodeBitmap.Data, (uint)bit);
                _inodeBitmap.Dirty = true;
                _groups.SetFreeInodes(g, _groups.FreeInodes(g) - 1);
                if (directory) _groups.SetUsedDirectories(g, _groups.UsedDirectories(g) + 1);
                _freeInodes--;
                inode = g * _inodesPerGroup + (uint)bit + 1;
                return 0;
            }
            return Errno.ENOSPC;
        }

        private uint GroupForDirectory()
        {
            uint count = _groups.Count;
            uint average = _freeInodes / count;
            long best = -1;
            for (uint g = 0; g < count; g++)
            {
                uint free = _groups.FreeInodes(g);
                if (free == 0 || free < average) continue;
                if (best < 0 || _groups.FreeBlocks(g) > _groups.FreeBlocks((uint)best)) best = g;
            }
            return best < 0 ? 0 : (uint)best;
        }

        private uint GroupForFile(uint parentGroup)
        {
            uint count = _groups.Count;
            if (_groups.FreeInodes(parentGroup) > 0 && _groups.FreeBlocks(parentGroup) > 0) return parentGroup;
            uint g = parentGroup;
            for (uint step = 1; step < count; step <<= 1)
            {
                g = (g + step) % count;
                if (_groups.FreeInodes(g) > 0 && _groups.FreeBlocks(g) > 0) return g;
            }
            return parentGroup;   // AllocateInode then scans forward for any free inode
        }

        /// <summary>Marks inode free; its directory entry is gone and its slot already written with links 0 and a deletion time.</summary>
        private int FreeInode(uint inode, bool directory)
        {
            uint g = GroupOfInode(inode);
            int r = LoadInodeBitmap(g);
            if (r < 0) return r;
            uint bit = (inode - 1) % _inodesPerGroup;
            if (!BitSet(_inodeBitmap.Data, bit)) { Corrupt(); return 0; }
            ClearBit(_inodeBitmap.Data, bit);
            _inodeBitmap.Dirty = true;
            _groups.SetFreeInodes(g, _groups.FreeInodes(g) + 1);
            if (directory && _groups.UsedDirectories(g) > 0) _groups.SetUsedDirectories(g, _groups.UsedDirectories(g) - 1);
            _freeInodes++;
            return 0;
        }
    }
}
