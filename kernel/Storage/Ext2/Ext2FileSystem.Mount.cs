// Mounting: read the superblock and the group descriptor table, and refuse — with a reason
// that says what is wrong — anything this implementation could misread or damage: a wrong
// magic number, an unknown revision, impossible geometry or counts, unsupported features,
// group descriptors pointing outside their group, a root that is not a directory. The checks
// follow what Linux's ext2_fill_super and ext2_check_descriptors refuse.
using System;

namespace Tessera.Storage.Ext2
{
    public sealed partial class Ext2FileSystem
    {
        /// <summary>
        /// Mounts the ext2 file system on device. On success returns 0 and fs; otherwise a
        /// negative errno (-EINVAL for a damaged or unsupported image, -EIO for a device error)
        /// and reason, one line saying why. A read-write mount marks the superblock "not
        /// clean" until Unmount.
        /// </summary>
        public static int Mount(BlockDevice device, FileSystemClock clock, bool readOnly, out Ext2FileSystem? fs, out string reason)
        {
            fs = null;
            reason = "";
            int deviceBlock = device.BlockSize;
            if (deviceBlock < 512 || deviceBlock > 4096 || (deviceBlock & (deviceBlock - 1)) != 0)
            {
                reason = "device block size is not a power of two from 512 to 4096";
                return Errno.EINVAL;
            }
            ulong deviceBytes = device.BlockCount * (ulong)deviceBlock;
            if (deviceBytes < Ext2Superblock.Offset + Ext2Superblock.Size)
            {
                reason = "device is smaller than the superblock's position";
                return Errno.EINVAL;
            }

            // The superblock: 1024 bytes at byte 1024, read through whole device blocks.
            var super = new Ext2Superblock();
            byte[] superDevice;
            if (deviceBlock <= Ext2Superblock.Offset)
            {
                superDevice = new byte[0];
                int r = device.Read((ulong)(Ext2Superblock.Offset / deviceBlock), super.Raw);
                if (r < 0) { reason = "cannot read the superblock"; return r; }
            }
            else
            {
                superDevice = new byte[deviceBlock];
                int r = device.Read(0, superDevice);
                if (r < 0) { reason = "cannot read the superblock"; return r; }
                new ReadOnlySpan<byte>(superDevice, Ext2Superblock.Offset, Ext2Superblock.Size).CopyTo(super.Raw);
            }

            if (!CheckSuperblock(super, deviceBlock, deviceBytes, readOnly, out reason)) return Errno.EINVAL;

            var f = new Ext2FileSystem(device, clock, super, readOnly, superDevice);
            int result = f.LoadGroupDescriptors(out reason);
            if (result < 0) return result;
            result = f.CheckRoot(out reason);
            if (result < 0) return result;

            if (!readOnly)
            {
                // Mounted read-write: "not clean" until Unmount, so a crash is noticed (Poirier §3.1 s_state).
                super.State = (ushort)(super.State & ~Ext2Superblock.StateValid);
                super.MountCount = (ushort)(super.MountCount + 1);
                super.MountTime = f.Now();
                super.FreeBlocksCount = f._freeBlocks;
                super.FreeInodesCount = f._freeInodes;
                result = f.WriteSuperblock();
                if (result >= 0) result = device.Flush();
                if (result < 0) { reason = "cannot write the superblock"; return result; }
            }
            fs = f;
            return 0;
        }

        /// <summary>Whether the superblock is one this implementation can mount; reason says why not.</summary>
        private static bool CheckSuperblock(Ext2Superblock s, int deviceBlock, ulong deviceBytes, bool readOnly, out string reason)
        {
            reason = "";
            if (s.MagicNumber != Ext2Superblock.Magic)
            {
                reason = "bad magic number " + ReasonText.Hex(s.MagicNumber) + " (ext2 has 0xef53): not an ext2 file system";
                return false;
            }
            if (s.RevisionLevel > Ext2Superblock.DynamicRevision)
            {
                reason = "unknown revision level " + ReasonText.Decimal(s.RevisionLevel) + " (0 and 1 are supported)";
                return false;
            }
            if (s.LogBlockSize > 2)
            {
                reason = "block size 1024 << " + ReasonText.Decimal(s.LogBlockSize) + " is not 1, 2 or 4 KiB";
                return false;
            }
            int blockSize = 1024 << (int)s.LogBlockSize;
            if (blockSize < deviceBlock)
            {
                reason = "block size is smaller than the device's block size";
                return false;
            }
            if (s.BlocksCount == 0 || (ulong)s.BlocksCount * (ulong)blockSize > deviceBytes)
            {
                string count = "block count " + ReasonText.Decimal(s.BlocksCount);
                reason = count + " does not fit the device (" + ReasonText.Decimal(deviceBytes / (ulong)blockSize) + " blocks)";
                return false;
            }
            // The superblock is always in byte 1024..2047: block 1 with 1 KiB blocks, block 0 otherwise.
            if (s.FirstDataBlock != (blockSize == 1024 ? 1u : 0u))
            {
                reason = "first data block " + ReasonText.Decimal(s.FirstDataBlock) + " is wrong for the block size";
                return false;
            }
            // Each bitmap is one block (ext2.rst "Block Groups"): at most 8 * block size per group.
            uint bitsPerBlock = (uint)blockSize * 8;
            if (s.BlocksPerGroup == 0 || s.BlocksPerGroup > bitsPerBlock)
            {
                reason = "impossible blocks per group " + ReasonText.Decimal(s.BlocksPerGroup);
                return false;
            }
            if (s.InodesPerGroup == 0 || s.InodesPerGroup > bitsPerBlock)
            {
                reason = "impossible inodes per group " + ReasonText.Decimal(s.InodesPerGroup);
                return false;
            }
            int inodeSize = s.InodeSize;
            if (inodeSize < Ext2Superblock.GoodOldInodeSize || inodeSize > blockSize || (inodeSize & (inodeSize - 1)) != 0)
            {
                reason = "impossible inode size " + ReasonText.Decimal((uint)inodeSize);
                return false;
            }
            if (s.InodesPerGroup % (uint)(blockSize / inodeSize) != 0)
            {
                reason = "inodes per group do not fill whole inode-table blocks";
                return false;
            }
            uint groups = (s.BlocksCount - s.FirstDataBlock + s.BlocksPerGroup - 1) / s.BlocksPerGroup;
            // The descriptor table (32 bytes a group) must fit between the superblock and the end.
            ulong tableBlocks = ((ulong)groups * Ext2GroupTable.DescriptorSize + (ulong)blockSize - 1) / (ulong)blockSize;
            if (s.FirstDataBlock + 1 + tableBlocks > s.BlocksCount)
            {
                reason = "group descriptor table for " + ReasonText.Decimal(groups) + " groups extends past the end of the file system";
                return false;
            }
            if ((ulong)groups * s.InodesPerGroup != s.InodesCount)
            {
                string count = "inode count " + ReasonText.Decimal(s.InodesCount) + " does not match ";
                reason = count + ReasonText.Decimal(groups) + " groups of " + ReasonText.Decimal(s.InodesPerGroup);
                return false;
            }
            if (s.FirstInode < Ext2Superblock.GoodOldFirstInode || s.FirstInode >= s.InodesCount)
            {
                reason = "impossible first non-reserved inode " + ReasonText.Decimal(s.FirstInode);
                return false;
            }
            if (s.FreeBlocksCount > s.BlocksCount || s.FreeInodesCount > s.InodesCount || s.ReservedBlocksCount > s.BlocksCount)
            {
                reason = "free or reserved counts larger than the totals";
                return false;
            }
            return Ext2Features.CanMount(s.FeatureCompat, s.FeatureIncompat, s.FeatureRoCompat, readOnly, out reason);
        }

        /// <summary>Reads the group descriptor table and checks every descriptor (Linux's ext2_check_descriptors).</summary>
        private int LoadGroupDescriptors(out string reason)
        {
            reason = "";
            uint tableStart = _firstDataBlock + 1;   // checked to fit by CheckSuperblock
            int r = ReadBlocks(tableStart, _groups.Raw);
            if (r < 0) { reason = "cannot read the group descriptor table"; return r; }

            ulong freeBlocks = 0, freeInodes = 0;
            for (uint g = 0; g < _groups.Count; g++)
            {
                uint first = FirstBlockOfGroup(g);
                uint end = first + BlocksInGroup(g);
                uint blockBitmap = _groups.BlockBitmap(g);
                uint inodeBitmap = _groups.InodeBitmap(g);
                uint table = _groups.InodeTable(g);
                if (blockBitmap < first || blockBitmap >= end)
                {
                    reason = GroupText(g) + ": block bitmap " + ReasonText.Decimal(blockBitmap) + " is outside the group";
                    return Errno.EINVAL;
                }
                if (inodeBitmap < first || inodeBitmap >= end)
                {
                    reason = GroupText(g) + ": inode bitmap " + ReasonText.Decimal(inodeBitmap) + " is outside the group";
                    return Errno.EINVAL;
                }
                if (table < first || (ulong)table + _inodeTableBlocks > end)
                {
                    reason = GroupText(g) + ": inode table " + ReasonText.Decimal(table) + " is outside the group";
                    return Errno.EINVAL;
                }
                // Nor may they overlap each other or the superblock and descriptor-table copy at
                // the group's start: writing a bitmap there would destroy them.
                uint reserved = first + (GroupHasSuperblock(g) ? 1 + _groups.TableBlocks : 0);
                if (blockBitmap < reserved || inodeBitmap < reserved || table < reserved || blockBitmap == inodeBitmap
                    || (blockBitmap >= table && blockBitmap < table + _inodeTableBlocks)
                    || (inodeBitmap >= table && inodeBitmap < table + _inodeTableBlocks))
                {
                    reason = GroupText(g) + ": bitmaps, inode table and superblock copy overlap";
                    return Errno.EINVAL;
                }
                if (_groups.FreeBlocks(g) > BlocksInGroup(g) || _groups.FreeInodes(g) > _inodesPerGroup
                    || _groups.UsedDirectories(g) > _inodesPerGroup)
                {
                    reason = GroupText(g) + ": impossible free or directory counts";
                    return Errno.EINVAL;
                }
                freeBlocks += _groups.FreeBlocks(g);
                freeInodes += _groups.FreeInodes(g);
            }
            // Like Linux, the totals are recounted from the groups: the superblock's copy is only
            // written at sync points and may be stale after a crash.
            _freeBlocks = (uint)freeBlocks;
            _freeInodes = (uint)freeInodes;
            return 0;
        }

        private static string GroupText(uint g) => "group " + ReasonText.Decimal(g);

        private int CheckRoot(out string reason)
        {
            reason = "";
            Ext2Inode root = default;
            int r = ReadInode(RootInode, ref root);
            if (r < 0) { reason = "cannot read the root inode"; return r; }
            if (!root.IsDirectory || root.Links == 0)
            {
                reason = "root inode is not a directory";
                return Errno.EINVAL;
            }
            return 0;
        }
    }
}
