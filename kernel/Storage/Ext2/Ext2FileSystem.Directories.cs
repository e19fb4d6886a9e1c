// Directory contents: linked-list entries in the directory's blocks (Poirier §4.1; ext2.rst
// "Directories"; layout in Ext2DirectoryEntry). Lookups scan every block. A new entry goes
// into the first slack big enough for it — the unused tail of a live entry (its rec_len
// beyond its own record) or an unused entry — and only when there is none does the directory
// grow by a block; it never shrinks (ext2.rst: "The current implementation never removes
// empty directory blocks"). A removed entry is merged into the entry before it in its block.
//
// Directories built by e2fsck -D or an ext3/4 driver may be hashed (dir_index, i_flags
// EXT2_INDEX_FL): their index blocks are laid out to read as empty linear blocks, so scanning
// them linearly is correct, and a directory changed here has the flag cleared so e2fsck and
// Linux treat it as linear from then on.
using System;

namespace Tessera.Storage.Ext2
{
    public sealed partial class Ext2FileSystem
    {
        /// <summary>Where an entry was found: the disk block holding it (left in _directoryBlock), its offset and the previous entry's (-1 if first).</summary>
        private struct EntryLocation
        {
            public uint Block;
            public int Offset;
            public int Previous;
            public uint Inode;
            public byte FileType;
        }

        /// <summary>Number of whole blocks in a directory (i_size is a multiple of the block size).</summary>
        private ulong DirectoryBlocks(ref Ext2Inode dir) => dir.Size >> _blockShift;

        /// <summary>Reads directory block `logical` of dir into _directoryBlock. A hole in a directory is damage (-EIO).</summary>
        private int ReadDirectoryBlock(ref Ext2Inode dir, ulong logical, out uint block)
        {
            int r = MapBlock(ref dir, logical, out block);
            if (r < 0) return r;
            if (block == 0) { Corrupt(); return Errno.EIO; }
            return ReadBlocks(block, _directoryBlock);
        }

        /// <summary>Finds name in directory dir: 0 and where, -ENOENT, or -EIO for a damaged directory.</summary>
        private int FindEntry(ref Ext2Inode dir, ReadOnlySpan<byte> name, out EntryLocation location)
        {
            location = default;
            ulong blocks = DirectoryBlocks(ref dir);
            for (ulong logical = 0; logical < blocks; logical++)
            {
                int r = ReadDirectoryBlock(ref dir, logical, out uint block);
                if (r < 0) return r;
                int previous = -1;
                int at = 0;
                while (at < _blockSize)
                {
                    if (!Ext2DirectoryEntry.IsValid(_directoryBlock, at, _blockSize, _fileTypeFeature, _inodesCount)) { Corrupt(); return Errno.EIO; }
                    uint inode = Ext2DirectoryEntry.Inode(_directoryBlock, at);
                    if (inode != 0)
                    {
                        int nameLength = Ext2DirectoryEntry.NameLength(_directoryBlock, at, _fileTypeFeature);
                        if (Ext2DirectoryEntry.NameEquals(_directoryBlock, at, nameLength, name))
                        {
                            location.Block = block;
                            location.Offset = at;
                            location.Previous = previous;
                            location.Inode = inode;
                            location.FileType = Ext2DirectoryEntry.FileType(_directoryBlock, at, _fileTypeFeature);
                            return 0;
                        }
                    }
                    previous = at;
                    at += Ext2DirectoryEntry.RecLen(_directoryBlock, at);
                }
            }
            return Errno.ENOENT;
        }

        /// <summary>Looks name up in directory dir (no path walking): its inode, -ENOENT, -ENOTDIR.</summary>
        public int LookupName(uint dir, ReadOnlySpan<byte> name, out uint inode)
        {
            inode = 0;
            if (name.Length > Ext2DirectoryEntry.MaxNameLength) return Errno.ENAMETOOLONG;
            Ext2Inode d = default;
            int r = ReadInode(dir, ref d);
            if (r < 0) return r;
            if (!d.IsDirectory) return Errno.ENOTDIR;
            r = FindEntry(ref d, name, out EntryLocation location);
            if (r < 0) return r;
            inode = location.Inode;
            return 0;
        }

        /// <summary>Writes _directoryBlock to block, after the allocations its entries may name.</summary>
        private int WriteDirectoryBlock(uint block)
        {
            int r = CommitMetadata();
            if (r < 0) return r;
            return WriteBlocks(block, _directoryBlock);
        }

        /// <summary>Sets a changed directory's times, drops its hash index flag, and writes it.</summary>
        private int TouchDirectory(ref Ext2Inode dir)
        {
            dir.ModifyTime = dir.ChangeTime = Now();
            dir.Flags &= ~Ext2Inode.IndexFlag;
            return WriteInode(ref dir);
        }

        /// <summary>
        /// Adds the entry name → inode (of ext2 file type `type`) to directory dirIno, which the
        /// caller has checked does not hold name. The inode it names is already written.
        /// -ENOSPC when the directory must grow and the disk is full.
        /// </summary>
        private int AddEntry(uint dirIno, ReadOnlySpan<byte> name, uint inode, byte type)
        {
            Ext2Inode dir = default;
            int r = ReadInode(dirIno, ref dir);
            if (r < 0) return r;
            int needed = Ext2DirectoryEntry.RecordLength(name.Length);
            ulong blocks = DirectoryBlocks(ref dir);
            for (ulong logical = 0; logical < blocks; logical++)
            {
                r = ReadDirectoryBlock(ref dir, logical, out uint block);
                if (r < 0) return r;
                int at = 0;
                while (at < _blockSize)
                {
                    if (!Ext2DirectoryEntry.IsValid(_directoryBlock, at, _blockSize, _fileTypeFeature, _inodesCount)) { Corrupt(); return Errno.EIO; }
                    int recLen = Ext2DirectoryEntry.RecLen(_directoryBlock, at);
                    uint live = Ext2DirectoryEntry.Inode(_directoryBlock, at);
                    int used = live == 0 ? 0 : Ext2DirectoryEntry.RecordLength(Ext2DirectoryEntry.NameLength(_directoryBlock, at, _fileTypeFeature));
                    if (recLen - used >= needed)
                    {
                        if (live == 0)
                        {
                            // An unused entry: take it over whole.
                            Ext2DirectoryEntry.Write(_directoryBlock, at, inode, recLen, name, type, _fileTypeFeature);
                        }
                        else
                        {
                            // A live entry's slack: shrink it to its own record, the new one takes the rest.
                            LittleEndian.Put16(_directoryBlock, at + 4, (uint)used);
                            Ext2DirectoryEntry.Write(_directoryBlock, at + used, inode, recLen - used, name, type, _fileTypeFeature);
                        }
                        r = WriteDirectoryBlock(block);
                        if (r < 0) return r;
                        return TouchDirectory(ref dir);
                    }
                    at += recLen;
                }
            }

            // No room: a new block holding just this entry, appended to the directory.
            uint goal = blocks > 0 && MapBlock(ref dir, blocks - 1, out uint lastBlock) == 0 && lastBlock != 0 ? lastBlock + 1 : GroupGoal(dirIno);
            r = MapOrAllocate(ref dir, blocks, goal, out uint fresh, out _);
            if (r < 0) return r;
            new Span<byte>(_directoryBlock).Clear();
            Ext2DirectoryEntry.Write(_directoryBlock, 0, inode, _blockSize, name, type, _fileTypeFeature);
            // The block is new: bitmaps first, then its content, then the pointers to it (the
            // inode write below commits any indirect block holding one).
            r = CommitBitmaps();
            if (r < 0) return r;
            r = WriteBlocks(fresh, _directoryBlock);
            if (r < 0) return r;
            dir.Size += (ulong)_blockSize;
            return TouchDirectory(ref dir);
        }

        /// <summary>Removes the entry name (which must name expected) from directory dirIno.</summary>
        private int RemoveEntry(uint dirIno, ReadOnlySpan<byte> name, uint expected)
        {
            Ext2Inode dir = default;
            int r = ReadInode(dirIno, ref dir);
            if (r < 0) return r;
            r = FindEntry(ref dir, name, out EntryLocation location);
            if (r < 0) return r;
            if (location.Inode != expected) return Errno.ENOENT;
            if (location.Previous >= 0)
            {
                int previousLength = Ext2DirectoryEntry.RecLen(_directoryBlock, location.Previous);
                int length = Ext2DirectoryEntry.RecLen(_directoryBlock, location.Offset);
                LittleEndian.Put16(_directoryBlock, location.Previous + 4, (uint)(previousLength + length));
            }
            else
            {
                // First entry of its block: it stays, unused (inode 0), keeping its rec_len.
                LittleEndian.Put32(_directoryBlock, location.Offset, 0);
            }
            r = WriteDirectoryBlock(location.Block);
            if (r < 0) return r;
            return TouchDirectory(ref dir);
        }

        /// <summary>Points the existing entry name in directory dirIno at another inode (rename over an existing name, "..").</summary>
        private int RetargetEntry(uint dirIno, ReadOnlySpan<byte> name, uint inode, byte type, bool touch)
        {
            Ext2Inode dir = default;
            int r = ReadInode(dirIno, ref dir);
            if (r < 0) return r;
            r = FindEntry(ref dir, name, out EntryLocation location);
            if (r < 0) return r;
            LittleEndian.Put32(_directoryBlock, location.Offset, inode);
            if (_fileTypeFeature) _directoryBlock[location.Offset + 7] = type;
            r = WriteDirectoryBlock(location.Block);
            if (r < 0) return r;
            return touch ? TouchDirectory(ref dir) : 0;
        }

        /// <summary>Whether directory dir holds nothing but "." and "..": 1 empty, 0 not, or a negative errno.</summary>
        private int IsEmptyDirectory(ref Ext2Inode dir)
        {
            ulong blocks = DirectoryBlocks(ref dir);
            for (ulong logical = 0; logical < blocks; logical++)
            {
                int r = ReadDirectoryBlock(ref dir, logical, out _);
                if (r < 0) return r;
                int at = 0;
                while (at < _blockSize)
                {
                    if (!Ext2DirectoryEntry.IsValid(_directoryBlock, at, _blockSize, _fileTypeFeature, _inodesCount)) { Corrupt(); return Errno.EIO; }
                    if (Ext2DirectoryEntry.Inode(_directoryBlock, at) != 0)
                    {
                        int n = Ext2DirectoryEntry.NameLength(_directoryBlock, at, _fileTypeFeature);
                        bool dot = n == 1 && _directoryBlock[at + 8] == (byte)'.';
                        bool dotDot = n == 2 && _directoryBlock[at + 8] == (byte)'.' && _directoryBlock[at + 9] == (byte)'.';
                        if (!dot && !dotDot) return 0;
                    }
                    at += Ext2DirectoryEntry.RecLen(_directoryBlock, at);
                }
            }
            return 1;
        }

        /// <summary>
        /// getdents64: fills buffer with struct linux_dirent64 records (u64 d_ino, s64 d_off,
        /// u16 d_reclen, u8 d_type, NUL-terminated name, padded to 8 bytes) for the entries of
        /// directory ino from position on. A position is a byte offset in the directory; d_off
        /// of each record is the position after it, and `next` the position to continue from.
        /// Returns the bytes filled, 0 at the end, -EINVAL when buffer cannot hold the next
        /// record, -ENOTDIR for a non-directory.
        /// </summary>
        public int ReadDirectory(uint ino, ulong position, Span<byte> buffer, out ulong next)
        {
            next = position;
            Ext2Inode dir = default;
            int r = ReadInode(ino, ref dir);
            if (r < 0) return r;
            if (!dir.IsDirectory) return Errno.ENOTDIR;
            ulong size = DirectoryBlocks(ref dir) << _blockShift;
            int filled = 0;
            while (position < size)
            {
                ulong logical = position >> _blockShift;
                int within = (int)(position & (ulong)(_blockSize - 1));
                r = ReadDirectoryBlock(ref dir, logical, out _);
                if (r < 0) return filled > 0 ? filled : r;
                // Walk the block's chain from its start: a position inside an entry (the
                // directory changed since it was handed out) continues at the next entry.
                int at = 0;
                while (at < _blockSize)
                {
                    if (!Ext2DirectoryEntry.IsValid(_directoryBlock, at, _blockSize, _fileTypeFeature, _inodesCount)) { Corrupt(); return filled > 0 ? filled : Errno.EIO; }
                    int recLen = Ext2DirectoryEntry.RecLen(_directoryBlock, at);
                    ulong after = (logical << _blockShift) + (ulong)(at + recLen);
                    uint inode = Ext2DirectoryEntry.Inode(_directoryBlock, at);
                    if (at >= within && inode != 0)
                    {
                        int nameLength = Ext2DirectoryEntry.NameLength(_directoryBlock, at, _fileTypeFeature);
                        int record = (19 + nameLength + 1 + 7) & ~7;
                        if (filled + record > buffer.Length)
                        {
                            next = position;
                            return filled > 0 ? filled : Errno.EINVAL;
                        }
                        Span<byte> d = buffer.Slice(filled, record);
                        d.Clear();
                        LittleEndian.Put32(d, 0, inode);                       // d_ino (u64)
                        LittleEndian.Put32(d, 8, (uint)after);                 // d_off (s64)
                        LittleEndian.Put32(d, 12, (uint)(after >> 32));
                        LittleEndian.Put16(d, 16, (uint)record);               // d_reclen
                        d[18] = Ext2DirectoryEntry.LinuxDirentType(Ext2DirectoryEntry.FileType(_directoryBlock, at, _fileTypeFeature));
                        for (int i = 0; i < nameLength; i++) d[19 + i] = _directoryBlock[at + 8 + i];
                        filled += record;
                    }
                    if (at + recLen > within) position = after;
                    at += recLen;
                }
                position = (logical + 1) << _blockShift;
            }
            next = position;
            return filled;
        }
    }
}
