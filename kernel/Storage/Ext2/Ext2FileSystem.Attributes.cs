// What the stat, statfs and readlink calls report.
using System;

namespace Tessera.Storage.Ext2
{
    public sealed partial class Ext2FileSystem
    {
        /// <summary>stat(2) fields of inode ino.</summary>
        public int GetStatus(uint ino, out FileStatus status)
        {
            status = default;
            Ext2Inode inode = default;
            int r = ReadInode(ino, ref inode);
            if (r < 0) return r;
            status.Inode = ino;
            status.Mode = inode.Mode;
            status.Links = inode.Links;
            status.Uid = inode.Uid;
            status.Gid = inode.Gid;
            status.Size = inode.Size;
            status.BlockSize = (uint)_blockSize;
            status.Blocks = inode.Sectors;
            status.AccessTime = inode.AccessTime;
            status.ModifyTime = inode.ModifyTime;
            status.ChangeTime = inode.ChangeTime;
            if (inode.Type == Ext2Inode.TypeCharDevice || inode.Type == Ext2Inode.TypeBlockDevice)
            {
                // Linux's ext2: i_block[0] holds an old-style 16-bit number, else i_block[1] the new encoding.
                status.DeviceNumber = inode.BlockPointer(0) != 0 ? inode.BlockPointer(0) : inode.BlockPointer(1);
            }
            return 0;
        }

        /// <summary>statfs(2) numbers, computed like Linux's ext2_statfs.</summary>
        public int GetVolumeStatus(out VolumeStatus status)
        {
            status = default;
            // Overhead: everything that is not data — the block before the first group, the
            // superblock and descriptor-table copies, both bitmaps and the inode table of every
            // group (ext2.rst "Block Groups").
            ulong overhead = _firstDataBlock;
            for (uint g = 0; g < _groups.Count; g++)
                if (GroupHasSuperblock(g)) overhead += 1 + _groups.TableBlocks;
            overhead += (ulong)(_inodeTableBlocks + 2) * _groups.Count;
            status.Type = Ext2Superblock.Magic;
            status.BlockSize = (uint)_blockSize;
            status.Blocks = _blocksCount - overhead;
            status.FreeBlocks = _freeBlocks;
            ulong reserved = _super.ReservedBlocksCount;
            status.AvailableBlocks = _freeBlocks > reserved ? _freeBlocks - reserved : 0;
            status.Files = _inodesCount;
            status.FreeFiles = _freeInodes;
            // f_fsid: the two 64-bit halves of the UUID xor-ed, as Linux's ext2 does.
            ReadOnlySpan<byte> uuid = _super.Uuid;
            ulong low = LittleEndian.U32(uuid, 0) | (ulong)LittleEndian.U32(uuid, 4) << 32;
            ulong high = LittleEndian.U32(uuid, 8) | (ulong)LittleEndian.U32(uuid, 12) << 32;
            status.FileSystemId = low ^ high;
            status.MaxNameLength = Ext2DirectoryEntry.MaxNameLength;
            return 0;
        }

        /// <summary>readlink(2): copies symlink ino's target into buffer (truncated to fit, no NUL); returns its length. -EINVAL if not a symlink.</summary>
        public int ReadLink(uint ino, Span<byte> buffer)
        {
            Ext2Inode inode = default;
            int r = ReadInode(ino, ref inode);
            if (r < 0) return r;
            if (!inode.IsSymlink) return Errno.EINVAL;
            r = ReadLinkText(ref inode, _linkText);
            if (r < 0) return r;
            int n = r < buffer.Length ? r : buffer.Length;
            new ReadOnlySpan<byte>(_linkText, 0, n).CopyTo(buffer);
            return n;
        }

        /// <summary>
        /// A fast symlink keeps its target in i_block and owns no data block: i_blocks counts at
        /// most an extended-attribute block (Linux's ext2_inode_is_fast_symlink).
        /// </summary>
        private bool IsFastSymlink(ref Ext2Inode inode)
        {
            uint attributeSectors = inode.FileAcl != 0 ? _sectorsPerBlock : 0;
            return inode.IsSymlink && inode.Sectors == attributeSectors;
        }

        /// <summary>Reads a symlink's target into text (MaxPathLength bytes); returns its length or -EIO.</summary>
        private int ReadLinkText(ref Ext2Inode inode, byte[] text)
        {
            ulong size = inode.Size;
            if (IsFastSymlink(ref inode))
            {
                if (size >= Ext2Inode.InlineBytes) { Corrupt(); return Errno.EIO; }
                for (int i = 0; i < (int)size; i++) text[i] = inode.InlineByte(i);
                return (int)size;
            }
            if (size >= (ulong)_blockSize || size >= MaxPathLength) { Corrupt(); return Errno.EIO; }
            int r = MapBlock(ref inode, 0, out uint block);
            if (r < 0) return r;
            if (block == 0) { Corrupt(); return Errno.EIO; }
            r = ReadBlocks(block, _dataBlock);
            if (r < 0) return r;
            new ReadOnlySpan<byte>(_dataBlock, 0, (int)size).CopyTo(text);
            return (int)size;
        }
    }
}
