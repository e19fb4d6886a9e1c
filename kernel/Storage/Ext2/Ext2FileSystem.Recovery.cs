// The recovery pass after a crash: what e2fsck would repair, for the kinds of damage the
// write order (Ext2FileSystem, "Durability") can leave when the VM dies between two writes,
// so that the volume is consistent again before the component serves it. ext2 has no journal
// to replay; like e2fsck -p ("preen") this pass repairs only what it can repair without
// guessing, in seven steps:
//   1. inodes: which are allocated in the bitmaps, and which of those hold a live inode
//      (allocated in the bitmap but never written, or written as deleted: a leaked inode);
//   2. names: a walk of the tree from the root counts the names of every inode ("." and ".."
//      included) and marks what is reachable; a directory met under a second name (a rename
//      to another parent cut short) keeps the name its ".." agrees with;
//   3. unattached inodes go: created but never named, renamed over, or unlinked while open
//      (links 0, Ext2FileSystem.OpenInodes.cs) — deleted with their blocks;
//   4. link counts are set to the names counted (a crash leaves them too high);
//   5. blocks past a file's or directory's size (an allocation whose inode write never
//      happened) are released, and i_blocks is recounted;
//   6. block bitmaps: a block marked used that no inode reaches (allocated, never pointed
//      to) is freed; each group's free count is recounted;
//   7. inode bitmaps: leaked inodes are freed; free inode and directory counts are recounted.
// Damage this order cannot leave (a block with two owners, an entry naming a free inode, a
// pointer into metadata) is counted in Problems and left for e2fsck.
//
// Memory: a few arrays sized by the inode and block counts, allocated for the pass (it runs
// once, at boot, before anything is served).
using System;

namespace Tessera.Storage.Ext2
{
    /// <summary>What the recovery pass found and repaired.</summary>
    public struct Ext2RecoveryReport
    {
        public int InodesChecked;
        public int OrphansDeleted;
        public int DuplicateNamesRemoved;
        public int LinkCountsFixed;
        public int SizesFixed;
        public int BlockCountsFixed;
        public int BlocksReclaimed;
        public int InodesReclaimed;
        public int GroupCountsFixed;
        /// <summary>Damage outside what the write order can leave: left for e2fsck.</summary>
        public int Problems;
    }

    public sealed partial class Ext2FileSystem
    {
        private const byte InUse = 1, Live = 2, Directory = 4, Reached = 8;
        private const int MaxDuplicates = 16;

        /// <summary>Runs the recovery pass and syncs. 0, or a negative errno (the volume is then left as it was found).</summary>
        public int Recover(out Ext2RecoveryReport report)
        {
            report = default;
            int r = CheckWritable();
            if (r < 0) return r;
            r = CommitMetadata();
            if (r < 0) return r;
            var state = new byte[_inodesCount + 1];
            var names = new uint[_inodesCount + 1];
            var firstParent = new uint[_inodesCount + 1];

            // 1. Inodes.
            uint directories = 0;
            Ext2Inode inode = default;
            for (uint g = 0; g < _groups.Count; g++)
            {
                r = LoadInodeBitmap(g);
                if (r < 0) return r;
                for (uint bit = 0; bit < _inodesPerGroup; bit++)
                {
                    if (!BitSet(_inodeBitmap.Data, bit)) continue;
                    uint ino = g * _inodesPerGroup + bit + 1;
                    state[ino] = InUse;
                    r = ReadInode(ino, ref inode);
                    if (r < 0) return r;
                    report.InodesChecked++;
                    if (inode.Mode == 0 || (inode.Links == 0 && inode.DeleteTime != 0)) continue;
                    state[ino] |= Live;
                    if (inode.IsDirectory) { state[ino] |= Directory; directories++; }
                }
            }
            if ((state[RootInode] & (Live | Directory)) != (Live | Directory)) { report.Problems++; return Errno.EIO; }

            // 2. Names, from the root.
            var queue = new uint[directories + 1];
            var dirBlock = new byte[_blockSize];
            var duplicateParent = new uint[MaxDuplicates];
            var duplicateChild = new uint[MaxDuplicates];
            int duplicates = 0;
            int head = 0, tail = 0;
            queue[tail++] = RootInode;
            state[RootInode] |= Reached;
            Ext2Inode dir = default;
            while (head < tail)
            {
                uint d = queue[head++];
                r = ReadInode(d, ref dir);
                if (r < 0) return r;
                ulong blocks = DirectoryBlocks(ref dir);
                for (ulong logical = 0; logical < blocks; logical++)
                {
                    r = MapBlock(ref dir, logical, out uint block);
                    if (r < 0 || block == 0) { report.Problems++; continue; }
                    r = ReadBlocks(block, dirBlock);
                    if (r < 0) return r;
                    int at = 0;
                    while (at < _blockSize)
                    {
                        if (!Ext2DirectoryEntry.IsValid(dirBlock, at, _blockSize, _fileTypeFeature, _inodesCount)) { report.Problems++; break; }
                        int recLen = Ext2DirectoryEntry.RecLen(dirBlock, at);
                        uint child = Ext2DirectoryEntry.Inode(dirBlock, at);
                        int nameLength = Ext2DirectoryEntry.NameLength(dirBlock, at, _fileTypeFeature);
                        int here = at;
                        at += recLen;
                        if (child == 0) continue;
                        if ((state[child] & Live) == 0) { report.Problems++; continue; }   // names a free inode
                        names[child]++;
                        ReadOnlySpan<byte> name = new ReadOnlySpan<byte>(dirBlock, here + Ext2DirectoryEntry.HeaderSize, nameLength);
                        if (IsDot(name) || IsDotDot(name)) continue;
                        if ((state[child] & Directory) == 0) { state[child] |= Reached; continue; }
                        if ((state[child] & Reached) != 0)
                        {
                            if (duplicates == MaxDuplicates) { report.Problems++; continue; }
                            duplicateParent[duplicates] = d;
                            duplicateChild[duplicates] = child;
                            duplicates++;
                            continue;
                        }
                        state[child] |= Reached;
                        firstParent[child] = d;
                        queue[tail++] = child;
                    }
                }
            }
            for (int i = 0; i < duplicates; i++)
            {
                uint child = duplicateChild[i];
                r = ReadInode(child, ref dir);
                if (r < 0) return r;
                r = FindEntry(ref dir, ".."u8, out EntryLocation up);
                uint parent = r == 0 ? up.Inode : 0;
                uint first = firstParent[child], second = duplicateParent[i];
                // Keep the name in the directory ".." names; with both (or neither) there, the later one goes.
                uint stale = first == parent && second != parent ? second : second == parent && first != parent ? first : second;
                r = RemoveEntryNaming(stale, child);
                if (r < 0) return r;
                names[child]--;
                report.DuplicateNamesRemoved++;
            }

            // 3. Unattached inodes.
            for (uint ino = _firstInode; ino <= _inodesCount; ino++)
            {
                if ((state[ino] & Live) == 0 || (state[ino] & Reached) != 0) continue;
                r = ReadInode(ino, ref inode);
                if (r < 0) return r;
                inode.Links = 0;
                r = DeleteInode(ref inode);
                if (r < 0) return r;
                state[ino] = 0;
                report.OrphansDeleted++;
            }

            // 4. Link counts.
            for (uint ino = 1; ino <= _inodesCount; ino++)
            {
                if ((state[ino] & Reached) == 0) continue;
                r = ReadInode(ino, ref inode);
                if (r < 0) return r;
                if (inode.Links == names[ino]) continue;
                inode.Links = (ushort)names[ino];
                r = WriteInode(ref inode);
                if (r < 0) return r;
                report.LinkCountsFixed++;
            }

            // 5. Sizes and block counts; every block an inode reaches is marked.
            var referenced = new byte[(_blocksCount + 7) / 8];
            var walk = new byte[4][];
            for (int level = 1; level <= 3; level++) walk[level] = new byte[_blockSize];
            for (uint ino = 1; ino <= _inodesCount; ino++)
            {
                if ((state[ino] & Live) == 0) continue;
                r = ReadInode(ino, ref inode);
                if (r < 0) return r;
                bool ordinary = ino >= _firstInode || ino == RootInode;
                bool hasTree = inode.IsRegular || inode.IsDirectory || (inode.IsSymlink && !IsFastSymlink(ref inode));
                long last = -1;
                uint count = 0;
                if (hasTree && ordinary && (inode.IsRegular || inode.IsDirectory))
                {
                    r = WalkBlocks(ref inode, walk, null, ref last, ref count, ref report.Problems);
                    if (r < 0) return r;
                    ulong kept = (inode.Size + (ulong)_blockSize - 1) >> _blockShift;
                    if (last >= 0 && (ulong)last >= kept)
                    {
                        r = ReleaseBlocks(ref inode, inode.Size);
                        if (r < 0) return r;
                        report.SizesFixed++;
                        r = ReadInode(ino, ref inode);
                        if (r < 0) return r;
                    }
                }
                last = -1;
                count = 0;
                if (hasTree)
                {
                    r = WalkBlocks(ref inode, walk, referenced, ref last, ref count, ref report.Problems);
                    if (r < 0) return r;
                }
                if (inode.FileAcl != 0)
                {
                    if (IsDataBlock(inode.FileAcl)) SetBit(referenced, inode.FileAcl);   // may be shared: not a conflict
                    else report.Problems++;
                    count++;
                }
                uint sectors = count * _sectorsPerBlock;
                if (ordinary && inode.Sectors != sectors)
                {
                    inode.Sectors = sectors;
                    r = WriteInode(ref inode);
                    if (r < 0) return r;
                    report.BlockCountsFixed++;
                }
            }

            // 6. Block bitmaps.
            ulong freeBlocks = 0;
            for (uint g = 0; g < _groups.Count; g++)
            {
                r = LoadBlockBitmap(g);
                if (r < 0) return r;
                uint first = FirstBlockOfGroup(g);
                uint free = 0;
                uint inGroup = BlocksInGroup(g);
                for (uint bit = 0; bit < inGroup; bit++)
                {
                    uint block = first + bit;
                    bool used = BitSet(_blockBitmap.Data, bit);
                    if (used && !BitSet(referenced, block) && IsDataBlock(block) && !IsReservedGdtBlock(block))
                    {
                        ClearBit(_blockBitmap.Data, bit);
                        _blockBitmap.Dirty = true;
                        report.BlocksReclaimed++;
                        used = false;
                    }
                    if (!used) free++;
                }
                if (_groups.FreeBlocks(g) != free) { _groups.SetFreeBlocks(g, free); report.GroupCountsFixed++; }
                freeBlocks += free;
            }
            _freeBlocks = (uint)freeBlocks;

            // 7. Inode bitmaps.
            ulong freeInodes = 0;
            for (uint g = 0; g < _groups.Count; g++)
            {
                r = LoadInodeBitmap(g);
                if (r < 0) return r;
                uint free = 0, dirs = 0;
                for (uint bit = 0; bit < _inodesPerGroup; bit++)
                {
                    uint ino = g * _inodesPerGroup + bit + 1;
                    bool used = BitSet(_inodeBitmap.Data, bit);
                    if (used && ino >= _firstInode && (state[ino] & Live) == 0)
                    {
                        ClearBit(_inodeBitmap.Data, bit);
                        _inodeBitmap.Dirty = true;
                        report.InodesReclaimed++;
                        used = false;
                    }
                    if (!used) free++;
                    else if ((state[ino] & (Live | Directory)) == (Live | Directory)) dirs++;
                }
                bool wrong = false;
                if (_groups.FreeInodes(g) != free) { _groups.SetFreeInodes(g, free); wrong = true; }
                if (_groups.UsedDirectories(g) != dirs) { _groups.SetUsedDirectories(g, dirs); wrong = true; }
                if (wrong) report.GroupCountsFixed++;
                freeInodes += free;
            }
            _freeInodes = (uint)freeInodes;
            r = CommitBitmaps();
            if (r < 0) return r;
            return Sync();
        }

        /// <summary>
        /// Walks inode's block tree: counts every block (indirect ones too), finds the last
        /// logical block mapped and, with referenced, marks each block there (a block marked
        /// twice has two owners: a problem).
        /// </summary>
        private int WalkBlocks(ref Ext2Inode inode, byte[][] scratch, byte[]? referenced, ref long last, ref uint count, ref int problems)
        {
            ulong p = (ulong)_pointersPerBlock;
            for (int slot = 0; slot < Ext2Inode.BlockSlots; slot++)
            {
                uint block = inode.BlockPointer(slot);
                if (block == 0) continue;
                int levels = slot < Ext2Inode.DirectBlocks ? 0 : slot - Ext2Inode.IndirectSlot + 1;
                ulong firstLogical = slot < Ext2Inode.DirectBlocks ? (ulong)slot
                    : slot == Ext2Inode.IndirectSlot ? Ext2Inode.DirectBlocks
                    : slot == Ext2Inode.DoubleIndirectSlot ? Ext2Inode.DirectBlocks + p
                    : Ext2Inode.DirectBlocks + p + p * p;
                int r = WalkTree(block, levels, firstLogical, scratch, referenced, ref last, ref count, ref problems);
                if (r < 0) return r;
            }
            return 0;
        }

        private int WalkTree(uint block, int levels, ulong firstLogical, byte[][] scratch, byte[]? referenced, ref long last, ref uint count, ref int problems)
        {
            if (!IsDataBlock(block)) { problems++; return 0; }
            count++;
            if (referenced is not null)
            {
                if (BitSet(referenced, block)) problems++;
                SetBit(referenced, block);
            }
            if (levels == 0)
            {
                if ((long)firstLogical > last) last = (long)firstLogical;
                return 0;
            }
            byte[] pointers = scratch[levels];
            int r = ReadBlocks(block, pointers);
            if (r < 0) return r;
            ulong span = 1;
            for (int i = 1; i < levels; i++) span *= (ulong)_pointersPerBlock;
            for (int i = 0; i < _pointersPerBlock; i++)
            {
                uint child = LittleEndian.U32(pointers, i * 4);
                if (child == 0) continue;
                r = WalkTree(child, levels - 1, firstLogical + (ulong)i * span, scratch, referenced, ref last, ref count, ref problems);
                if (r < 0) return r;
                // The deeper walk used the lower levels' buffers only: this level's is intact.
            }
            return 0;
        }

        /// <summary>Whether block is one of the blocks reserved after a descriptor table copy for growing it (resize_inode).</summary>
        private bool IsReservedGdtBlock(uint block)
        {
            uint reserved = _super.ReservedGdtBlocks;
            if (reserved == 0 || block < _firstDataBlock || block >= _blocksCount) return false;
            uint g = GroupOfBlock(block);
            if (!GroupHasSuperblock(g)) return false;
            uint start = FirstBlockOfGroup(g) + 1 + _groups.TableBlocks;
            return block >= start && block < start + reserved;
        }

        /// <summary>Removes the (non-dot) entry of directory dirIno that names inode child.</summary>
        private int RemoveEntryNaming(uint dirIno, uint child)
        {
            Ext2Inode dir = default;
            int r = ReadInode(dirIno, ref dir);
            if (r < 0) return r;
            Span<byte> name = stackalloc byte[Ext2DirectoryEntry.MaxNameLength];
            ulong blocks = DirectoryBlocks(ref dir);
            for (ulong logical = 0; logical < blocks; logical++)
            {
                r = ReadDirectoryBlock(ref dir, logical, out _);
                if (r < 0) return r;
                int at = 0;
                while (at < _blockSize)
                {
                    if (!Ext2DirectoryEntry.IsValid(_directoryBlock, at, _blockSize, _fileTypeFeature, _inodesCount)) { Corrupt(); return Errno.EIO; }
                    int nameLength = Ext2DirectoryEntry.NameLength(_directoryBlock, at, _fileTypeFeature);
                    if (Ext2DirectoryEntry.Inode(_directoryBlock, at) == child)
                    {
                        ReadOnlySpan<byte> found = new ReadOnlySpan<byte>(_directoryBlock, at + Ext2DirectoryEntry.HeaderSize, nameLength);
                        if (!IsDot(found) && !IsDotDot(found))
                        {
                            found.CopyTo(name);
                            return RemoveEntry(dirIno, name.Slice(0, nameLength), child);
                        }
                    }
                    at += Ext2DirectoryEntry.RecLen(_directoryBlock, at);
                }
            }
            return Errno.ENOENT;
        }
    }
}
