// Making a new, empty ext2 file system on a device: what `mke2fs -t ext2 -O ^resize_inode,
// ^dir_index,^ext_attr` makes, for a blank disk the storage component is given and for the
// kernel's self-test (no image has to be carried in the kernel). Revision 1 with filetype,
// sparse_super and large_file; 256-byte inodes; a root directory and lost+found.
//
// Layout of group g (Poirier §2.2 Block Groups, §3 Disk Organization), from its first block
// s_first_data_block + g * s_blocks_per_group:
//   [superblock copy, descriptor-table copy]   only in groups 0, 1 and powers of 3, 5, 7
//   block bitmap, inode bitmap, inode table, then data blocks.
// Bits of the bitmaps past the group's end are set, as e2fsck requires ("padding").
// The last group is dropped when it is too small to hold its own metadata and some data.
using System;

namespace Tessera.Storage.Ext2
{
    public static class Ext2Formatter
    {
        public const int InodeSize = 256;
        private const uint LostAndFoundInode = 11;

        /// <summary>
        /// Formats the whole device with blockSize-byte blocks (1024, 2048 or 4096) and one inode
        /// per bytesPerInode bytes of disk. uuid (16 bytes) names the volume. Returns 0, or a
        /// negative errno with reason.
        /// </summary>
        public static int Format(BlockDevice device, FileSystemClock clock, int blockSize, int bytesPerInode, ReadOnlySpan<byte> uuid, out string reason)
        {
            reason = "";
            if (blockSize != 1024 && blockSize != 2048 && blockSize != 4096) { reason = "block size is not 1, 2 or 4 KiB"; return Errno.EINVAL; }
            if (device.BlockSize > blockSize || blockSize % device.BlockSize != 0) { reason = "device blocks do not divide the block size"; return Errno.EINVAL; }
            if (uuid.Length != 16) { reason = "the UUID is not 16 bytes"; return Errno.EINVAL; }
            if (bytesPerInode < blockSize) bytesPerInode = blockSize;

            // Geometry.
            ulong deviceBytes = device.BlockCount * (ulong)device.BlockSize;
            ulong total = deviceBytes / (ulong)blockSize;
            if (total > uint.MaxValue) total = uint.MaxValue;
            uint first = blockSize == 1024 ? 1u : 0u;
            uint perGroup = (uint)blockSize * 8;
            uint blocks = (uint)total;
            if (blocks < 64) { reason = "device too small for an ext2 file system"; return Errno.EINVAL; }
            uint groups = (blocks - first + perGroup - 1) / perGroup;
            uint inodesPerBlock = (uint)(blockSize / InodeSize);
            uint inodesPerGroup = 0, tableBlocks = 0, descriptorBlocks = 0;
            for (int attempt = 0; attempt < 3; attempt++)
            {
                ulong wanted = (ulong)blocks * (ulong)blockSize / (ulong)bytesPerInode;
                if (wanted < 16) wanted = 16;
                ulong ipg = (wanted + groups - 1) / groups;
                ulong unit = inodesPerBlock > 8 ? inodesPerBlock : 8;          // whole table blocks, whole bitmap bytes
                if (ipg < 16) ipg = 16;                                        // room for the 11 reserved ones in group 0
                ipg = (ipg + unit - 1) / unit * unit;
                if (ipg > perGroup) ipg = perGroup;
                inodesPerGroup = (uint)ipg;
                tableBlocks = inodesPerGroup / inodesPerBlock;
                descriptorBlocks = (groups * Ext2GroupTable.DescriptorSize + (uint)blockSize - 1) / (uint)blockSize;
                // The last group must hold its metadata and some data, else it is dropped.
                uint lastSize = blocks - first - (groups - 1) * perGroup;
                uint lastOverhead = (HasSuperblock(groups - 1) ? 1 + descriptorBlocks : 0) + 2 + tableBlocks;
                if (groups > 1 && lastSize < lastOverhead + 50)
                {
                    blocks -= lastSize;
                    groups--;
                    continue;
                }
                break;
            }
            uint groupZeroOverhead = 1 + descriptorBlocks + 2 + tableBlocks;
            if (groupZeroOverhead + 2 > blocks - first) { reason = "device too small for its own metadata"; return Errno.EINVAL; }

            byte[] block = new byte[blockSize];
            var table = new Ext2GroupTable(groups, blockSize);
            uint now = clock.UnixSeconds();
            uint rootBlock = 0, lostBlock = 0;
            ulong freeBlocks = 0;
            int deviceBlocksPerBlock = blockSize / device.BlockSize;

            // Per group: descriptors, bitmaps, zeroed inode table.
            for (uint g = 0; g < groups; g++)
            {
                uint start = first + g * perGroup;
                uint size = blocks - start < perGroup ? blocks - start : perGroup;
                uint at = start + (HasSuperblock(g) ? 1 + descriptorBlocks : 0);
                uint blockBitmap = at, inodeBitmap = at + 1, inodeTable = at + 2;
                uint used = inodeTable + tableBlocks - start;
                if (g == 0)
                {
                    rootBlock = start + used;
                    lostBlock = rootBlock + 1;
                    used += 2;
                }
                int d = (int)(g * Ext2GroupTable.DescriptorSize);
                LittleEndian.Put32(table.Raw, d, blockBitmap);
                LittleEndian.Put32(table.Raw, d + 4, inodeBitmap);
                LittleEndian.Put32(table.Raw, d + 8, inodeTable);
                LittleEndian.Put16(table.Raw, d + 12, size - used);
                LittleEndian.Put16(table.Raw, d + 14, g == 0 ? inodesPerGroup - LostAndFoundInode : inodesPerGroup);
                LittleEndian.Put16(table.Raw, d + 16, g == 0 ? 2u : 0u);
                freeBlocks += size - used;

                // Block bitmap: the metadata (and group 0's two directory blocks), then the padding.
                new Span<byte>(block).Clear();
                for (uint bit = 0; bit < used; bit++) block[bit >> 3] |= (byte)(1 << (int)(bit & 7));
                for (uint bit = size; bit < perGroup; bit++) block[bit >> 3] |= (byte)(1 << (int)(bit & 7));
                int r = Write(device, blockBitmap, deviceBlocksPerBlock, block);
                if (r < 0) { reason = "write failed"; return r; }
                // Inode bitmap: inodes 1..11 (reserved ones and lost+found) in group 0, then the padding.
                new Span<byte>(block).Clear();
                uint usedInodes = g == 0 ? LostAndFoundInode : 0;
                for (uint bit = 0; bit < usedInodes; bit++) block[bit >> 3] |= (byte)(1 << (int)(bit & 7));
                for (uint bit = inodesPerGroup; bit < perGroup; bit++) block[bit >> 3] |= (byte)(1 << (int)(bit & 7));
                r = Write(device, inodeBitmap, deviceBlocksPerBlock, block);
                if (r < 0) { reason = "write failed"; return r; }
                new Span<byte>(block).Clear();
                for (uint t = 0; t < tableBlocks; t++)
                {
                    r = Write(device, inodeTable + t, deviceBlocksPerBlock, block);
                    if (r < 0) { reason = "write failed"; return r; }
                }
            }

            // The root directory and lost+found: their blocks, then their inodes.
            int s = WriteDirectoryBlock(device, deviceBlocksPerBlock, block, rootBlock, Ext2FileSystem.RootInode, Ext2FileSystem.RootInode, true);
            if (s >= 0) s = WriteDirectoryBlock(device, deviceBlocksPerBlock, block, lostBlock, LostAndFoundInode, Ext2FileSystem.RootInode, false);
            if (s >= 0) s = WriteInodes(device, deviceBlocksPerBlock, block, LittleEndian.U32(table.Raw, 8), rootBlock, lostBlock, now);
            if (s < 0) { reason = "write failed"; return s; }

            // Superblock and descriptor table, primary and backups (s_block_group_nr says which copy).
            var super = new byte[Ext2Superblock.Size];
            FillSuperblock(super, blockSize, blocks, first, perGroup, inodesPerGroup, groups, (uint)freeBlocks, now, uuid);
            for (uint g = 0; g < groups; g++)
            {
                if (!HasSuperblock(g)) continue;
                uint start = first + g * perGroup;
                LittleEndian.Put16(super, 90, g);
                new Span<byte>(block).Clear();
                // The primary sits at byte 1024 (in block 0 with blocks over 1 KiB); backups start their block.
                int offset = g == 0 && blockSize > 1024 ? Ext2Superblock.Offset : 0;
                new ReadOnlySpan<byte>(super).CopyTo(new Span<byte>(block, offset, Ext2Superblock.Size));
                int r = Write(device, start, deviceBlocksPerBlock, block);
                for (uint t = 0; t < descriptorBlocks && r >= 0; t++)
                    r = Write(device, start + 1 + t, deviceBlocksPerBlock, table.TableBlock(t));
                if (r < 0) { reason = "write failed"; return r; }
            }
            return device.Flush();
        }

        /// <summary>sparse_super: groups 0, 1 and powers of 3, 5 and 7 hold backups (ext2.rst "The Superblock").</summary>
        private static bool HasSuperblock(uint g)
        {
            if (g <= 1) return true;
            for (uint b = 3; b <= 7; b += 2)
            {
                ulong p = b;
                while (p < g) p *= b;
                if (p == g) return true;
            }
            return false;
        }

        private static int Write(BlockDevice device, uint block, int deviceBlocksPerBlock, ReadOnlySpan<byte> data) =>
            device.Write((ulong)block * (ulong)deviceBlocksPerBlock, data);

        private static int WriteDirectoryBlock(BlockDevice device, int deviceBlocksPerBlock, byte[] block, uint at, uint self, uint parent, bool withLostAndFound)
        {
            new Span<byte>(block).Clear();
            int size = block.Length;
            Ext2DirectoryEntry.Write(block, 0, self, 12, "."u8, Ext2DirectoryEntry.TypeDirectory, true);
            if (withLostAndFound)
            {
                Ext2DirectoryEntry.Write(block, 12, parent, 12, ".."u8, Ext2DirectoryEntry.TypeDirectory, true);
                Ext2DirectoryEntry.Write(block, 24, LostAndFoundInode, size - 24, "lost+found"u8, Ext2DirectoryEntry.TypeDirectory, true);
            }
            else Ext2DirectoryEntry.Write(block, 12, parent, size - 12, ".."u8, Ext2DirectoryEntry.TypeDirectory, true);
            return Write(device, at, deviceBlocksPerBlock, block);
        }

        /// <summary>Inodes 2 (root) and 11 (lost+found) in group 0's inode table; the others stay zero.</summary>
        private static int WriteInodes(BlockDevice device, int deviceBlocksPerBlock, byte[] block, uint inodeTable, uint rootBlock, uint lostBlock, uint now)
        {
            int blockSize = block.Length;
            int perBlock = blockSize / InodeSize;
            // Inode n is slot n - 1; inodes 2 and 11 may be in different table blocks.
            for (uint tableBlock = 0; tableBlock <= (LostAndFoundInode - 1) / (uint)perBlock; tableBlock++)
            {
                new Span<byte>(block).Clear();
                for (int slot = 0; slot < perBlock; slot++)
                {
                    uint number = tableBlock * (uint)perBlock + (uint)slot + 1;
                    if (number != Ext2FileSystem.RootInode && number != LostAndFoundInode) continue;
                    Ext2Inode inode = default;
                    inode.Number = number;
                    bool root = number == Ext2FileSystem.RootInode;
                    inode.Mode = (ushort)(Ext2Inode.TypeDirectory | (root ? 0x1EDu : 0x1C0u));   // 0755 / 0700
                    inode.Links = (ushort)(root ? 3 : 2);   // root: ".", "..", lost+found's ".."
                    inode.Size = (ulong)blockSize;
                    inode.Sectors = (uint)(blockSize / 512);
                    inode.AccessTime = inode.ChangeTime = inode.ModifyTime = now;
                    inode.SetBlockPointer(0, root ? rootBlock : lostBlock);
                    Span<byte> raw = new Span<byte>(block, slot * InodeSize, InodeSize);
                    inode.Store(raw);
                    LittleEndian.Put16(raw, 128, 32);     // i_extra_isize
                    LittleEndian.Put32(raw, 144, now);    // i_crtime
                }
                int r = Write(device, inodeTable + tableBlock, deviceBlocksPerBlock, block);
                if (r < 0) return r;
            }
            return 0;
        }

        private static void FillSuperblock(byte[] s, int blockSize, uint blocks, uint first, uint perGroup, uint inodesPerGroup, uint groups, uint freeBlocks, uint now, ReadOnlySpan<byte> uuid)
        {
            uint log = blockSize == 1024 ? 0u : blockSize == 2048 ? 1u : 2u;
            uint inodes = inodesPerGroup * groups;
            LittleEndian.Put32(s, 0, inodes);
            LittleEndian.Put32(s, 4, blocks);
            LittleEndian.Put32(s, 8, 0);                          // s_r_blocks_count: nothing reserved for root
            LittleEndian.Put32(s, 12, freeBlocks);
            LittleEndian.Put32(s, 16, inodes - LostAndFoundInode);
            LittleEndian.Put32(s, 20, first);
            LittleEndian.Put32(s, 24, log);                       // s_log_block_size
            LittleEndian.Put32(s, 28, log);                       // s_log_frag_size (fragments = blocks)
            LittleEndian.Put32(s, 32, perGroup);
            LittleEndian.Put32(s, 36, perGroup);                  // s_frags_per_group
            LittleEndian.Put32(s, 40, inodesPerGroup);
            LittleEndian.Put32(s, 48, now);                       // s_wtime
            LittleEndian.Put16(s, 54, 0xFFFF);                    // s_max_mnt_count: -1, no forced checks
            LittleEndian.Put16(s, 56, Ext2Superblock.Magic);
            LittleEndian.Put16(s, 58, Ext2Superblock.StateValid);
            LittleEndian.Put16(s, 60, 1);                         // s_errors: continue
            LittleEndian.Put32(s, 64, now);                       // s_lastcheck
            LittleEndian.Put32(s, 76, Ext2Superblock.DynamicRevision);
            LittleEndian.Put32(s, 84, Ext2Superblock.GoodOldFirstInode);
            LittleEndian.Put16(s, 88, InodeSize);
            LittleEndian.Put32(s, 96, Ext2Features.FileType);
            LittleEndian.Put32(s, 100, Ext2Features.SparseSuper | Ext2Features.LargeFile);
            uuid.CopyTo(new Span<byte>(s, 104, 16));
            LittleEndian.Put16(s, 0x15C, 32);                     // s_min_extra_isize
            LittleEndian.Put16(s, 0x15E, 32);                     // s_want_extra_isize
            LittleEndian.Put32(s, 0x108, now);                    // s_mkfs_time
        }
    }
}
