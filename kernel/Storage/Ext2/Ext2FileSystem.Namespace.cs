// Names: create, mkdir, symlink, link, unlink, rmdir, rename — in a directory given by inode
// (LookupParent finds it and the name from a path). Errors as the Linux system calls give
// them (open(2) O_CREAT, mkdir(2), symlink(2), link(2), unlink(2), rmdir(2), rename(2)).
//
// Order of writes (Ext2FileSystem, "Durability"): a new inode is written complete before the
// entry naming it; link counts rise before a name is added and fall only after one is
// removed, so a crash leaves a count too high (e2fsck lowers it), never too low; an inode's
// blocks and the inode itself are freed only after its last name is gone. Two windows remain
// that only a journal would close, both harmless: a directory moved to another parent has
// both names for a moment (the new one first, as in Linux's ext2: never none), which e2fsck
// resolves by dropping the second; and a directory whose name is gone but whose inode is not
// yet freed (rmdir, an interrupted mkdir) still names its parent in "..", which e2fsck counts
// until it reconnects or clears it. tests/.../Ext2CrashTests checks all of this.
//
// Link counts (ext2.rst "Directories"): a file has one per name; a directory has one for its
// name, one for its own "." and one for the ".." of each subdirectory.
using System;

namespace Tessera.Storage.Ext2
{
    public sealed partial class Ext2FileSystem
    {
        /// <summary>0 when name can be a new entry's name; the errno for mkdir/creat otherwise.</summary>
        private static int CheckNewName(ReadOnlySpan<byte> name)
        {
            if (name.Length == 0 || IsDot(name) || IsDotDot(name)) return Errno.EEXIST;
            if (name.Length > Ext2DirectoryEntry.MaxNameLength) return Errno.ENAMETOOLONG;
            for (int i = 0; i < name.Length; i++) if (name[i] == (byte)'/' || name[i] == 0) return Errno.EINVAL;
            return 0;
        }

        /// <summary>Reads directory dirIno and checks name is not in it: 0, -EEXIST, -ENOTDIR, -ENOENT (a removed directory).</summary>
        private int CheckAbsent(uint dirIno, ReadOnlySpan<byte> name, ref Ext2Inode dir)
        {
            int r = ReadInode(dirIno, ref dir);
            if (r < 0) return r;
            if (!dir.IsDirectory) return Errno.ENOTDIR;
            if (dir.Links == 0) return Errno.ENOENT;
            r = FindEntry(ref dir, name, out _);
            if (r == 0) return Errno.EEXIST;
            return r == Errno.ENOENT ? 0 : r;
        }

        private void InitializeInode(ref Ext2Inode inode, uint number, ushort mode, uint uid, uint gid)
        {
            inode = default;
            inode.Number = number;
            inode.Mode = mode;
            inode.Uid = uid;
            inode.Gid = gid;
            inode.Links = 1;
            inode.AccessTime = inode.ChangeTime = inode.ModifyTime = Now();
            inode.Generation = _nextGeneration++;
        }

        /// <summary>Changes inode ino's link count by delta (and its change time) and writes it.</summary>
        private int AdjustLinks(uint ino, int delta)
        {
            Ext2Inode inode = default;
            int r = ReadInode(ino, ref inode);
            if (r < 0) return r;
            inode.Links = (ushort)(inode.Links + delta);
            inode.ChangeTime = Now();
            return WriteInode(ref inode);
        }

        /// <summary>Creates an empty regular file `name` in directory dir with permission bits mode. -EEXIST if the name exists.</summary>
        public int Create(uint dir, ReadOnlySpan<byte> name, uint mode, uint uid, uint gid, out uint inode)
        {
            return MakeNode(dir, name, (ushort)(Ext2Inode.TypeRegular | (mode & 0xFFF)), uid, gid, default, out inode);
        }

        /// <summary>Creates symbolic link `name` in directory dir pointing at target (1 to block size - 1 bytes).</summary>
        public int MakeSymlink(uint dir, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, uint uid, uint gid, out uint inode)
        {
            inode = 0;
            if (target.Length == 0) return Errno.ENOENT;
            if (target.Length >= _blockSize || target.Length >= MaxPathLength) return Errno.ENAMETOOLONG;
            return MakeNode(dir, name, (ushort)(Ext2Inode.TypeSymlink | 0x1FF), uid, gid, target, out inode);
        }

        private int MakeNode(uint dirIno, ReadOnlySpan<byte> name, ushort mode, uint uid, uint gid, ReadOnlySpan<byte> linkTarget, out uint ino)
        {
            ino = 0;
            int r = CheckWritable();
            if (r < 0) return r;
            r = CheckNewName(name);
            if (r < 0) return r;
            Ext2Inode dir = default;
            r = CheckAbsent(dirIno, name, ref dir);
            if (r < 0) return r;
            r = AllocateInode(dirIno, false, out uint number);
            if (r < 0) return r;
            Ext2Inode inode = default;
            InitializeInode(ref inode, number, mode, uid, gid);
            if ((mode & Ext2Inode.TypeMask) == Ext2Inode.TypeSymlink)
            {
                inode.Size = (ulong)linkTarget.Length;
                if (linkTarget.Length < Ext2Inode.InlineBytes)
                {
                    inode.SetInline(linkTarget);   // a fast symlink (ext2.rst "Special files")
                }
                else
                {
                    r = MapOrAllocate(ref inode, 0, GroupGoal(number), out uint block, out _);
                    if (r < 0) { FreeInode(number, false); CommitBitmaps(); return r; }
                    new Span<byte>(_dataBlock).Clear();
                    linkTarget.CopyTo(_dataBlock);
                    r = CommitBitmaps();
                    if (r >= 0) r = WriteBlocks(block, _dataBlock);
                    if (r < 0) return r;
                }
            }
            r = WriteInode(ref inode, fresh: true);
            if (r < 0) return r;
            r = AddEntry(dirIno, name, number, inode.DirectoryEntryType);
            if (r < 0)
            {
                inode.Links = 0;
                DeleteInode(ref inode);
                return r;
            }
            ino = number;
            return 0;
        }

        /// <summary>Creates directory `name` in directory dir (with "." and ".."); the parent gains a link.</summary>
        public int MakeDirectory(uint dirIno, ReadOnlySpan<byte> name, uint mode, uint uid, uint gid, out uint ino)
        {
            ino = 0;
            int r = CheckWritable();
            if (r < 0) return r;
            r = CheckNewName(name);
            if (r < 0) return r;
            Ext2Inode parent = default;
            r = CheckAbsent(dirIno, name, ref parent);
            if (r < 0) return r;
            if (parent.Links >= Ext2Inode.MaxLinks) return Errno.EMLINK;
            r = AllocateInode(dirIno, true, out uint number);
            if (r < 0) return r;
            Ext2Inode inode = default;
            InitializeInode(ref inode, number, (ushort)(Ext2Inode.TypeDirectory | (mode & 0xFFF)), uid, gid);
            inode.Links = 2;   // its name and its own "."
            r = MapOrAllocate(ref inode, 0, GroupGoal(number), out uint block, out _);
            if (r < 0) { FreeInode(number, true); CommitBitmaps(); return r; }
            inode.Size = (ulong)_blockSize;

            // The parent counts the new ".." before it exists on disk (a count too high is harmless).
            r = AdjustLinks(dirIno, +1);
            if (r < 0) return r;
            // The first block: "." (12 bytes) and ".." spanning the rest (Poirier §4.1).
            new Span<byte>(_directoryBlock).Clear();
            Ext2DirectoryEntry.Write(_directoryBlock, 0, number, 12, "."u8, Ext2DirectoryEntry.TypeDirectory, _fileTypeFeature);
            Ext2DirectoryEntry.Write(_directoryBlock, 12, dirIno, _blockSize - 12, ".."u8, Ext2DirectoryEntry.TypeDirectory, _fileTypeFeature);
            r = CommitBitmaps();
            if (r >= 0) r = WriteBlocks(block, _directoryBlock);
            if (r >= 0) r = WriteInode(ref inode, fresh: true);
            if (r < 0) return r;
            r = AddEntry(dirIno, name, number, Ext2DirectoryEntry.TypeDirectory);
            if (r < 0)
            {
                AdjustLinks(dirIno, -1);
                inode.Links = 0;
                DeleteInode(ref inode);
                return r;
            }
            ino = number;
            return 0;
        }

        /// <summary>link(2): a new name for existing non-directory target. -EPERM for a directory, -EMLINK at 32000 links.</summary>
        public int Link(uint dirIno, ReadOnlySpan<byte> name, uint target)
        {
            int r = CheckWritable();
            if (r < 0) return r;
            r = CheckNewName(name);
            if (r < 0) return r;
            Ext2Inode dir = default;
            r = CheckAbsent(dirIno, name, ref dir);
            if (r < 0) return r;
            Ext2Inode inode = default;
            r = ReadInode(target, ref inode);
            if (r < 0) return r;
            if (inode.IsDirectory) return Errno.EPERM;
            if (inode.Links >= Ext2Inode.MaxLinks) return Errno.EMLINK;
            r = AdjustLinks(target, +1);
            if (r < 0) return r;
            r = AddEntry(dirIno, name, target, inode.DirectoryEntryType);
            if (r < 0) AdjustLinks(target, -1);
            return r;
        }

        /// <summary>unlink(2): removes name (not a directory: -EISDIR); the inode and its blocks go with its last link.</summary>
        public int Unlink(uint dirIno, ReadOnlySpan<byte> name)
        {
            int r = CheckWritable();
            if (r < 0) return r;
            if (name.Length == 0 || IsDot(name) || IsDotDot(name)) return Errno.EISDIR;
            if (name.Length > Ext2DirectoryEntry.MaxNameLength) return Errno.ENAMETOOLONG;
            r = LookupName(dirIno, name, out uint target);
            if (r < 0) return r;
            Ext2Inode inode = default;
            r = ReadInode(target, ref inode);
            if (r < 0) return r;
            if (inode.IsDirectory) return Errno.EISDIR;
            r = RemoveEntry(dirIno, name, target);
            if (r < 0) return r;
            return DropLink(target);
        }

        /// <summary>rmdir(2): removes empty directory name. -ENOTEMPTY, -ENOTDIR, -EBUSY for the root, -EINVAL for ".".</summary>
        public int RemoveDirectory(uint dirIno, ReadOnlySpan<byte> name)
        {
            int r = CheckWritable();
            if (r < 0) return r;
            if (name.Length == 0) return Errno.EBUSY;
            if (IsDot(name)) return Errno.EINVAL;
            if (IsDotDot(name)) return Errno.ENOTEMPTY;
            if (name.Length > Ext2DirectoryEntry.MaxNameLength) return Errno.ENAMETOOLONG;
            r = LookupName(dirIno, name, out uint target);
            if (r < 0) return r;
            Ext2Inode inode = default;
            r = ReadInode(target, ref inode);
            if (r < 0) return r;
            if (!inode.IsDirectory) return Errno.ENOTDIR;
            if (target == RootInode) return Errno.EBUSY;
            r = IsEmptyDirectory(ref inode);
            if (r < 0) return r;
            if (r == 0) return Errno.ENOTEMPTY;
            r = RemoveEntry(dirIno, name, target);
            if (r < 0) return r;
            r = AdjustLinks(dirIno, -1);   // its ".." is gone with it
            if (r < 0) return r;
            r = ReadInode(target, ref inode);
            if (r < 0) return r;
            inode.Links = 0;
            return DeleteInode(ref inode);
        }

        /// <summary>
        /// rename(2): moves oldName in oldDir to newName in newDir, replacing what newName names
        /// if anything (a file by a file, an empty directory by a directory). Renaming a name to
        /// another name of the same inode does nothing. A directory cannot move under itself
        /// (-EINVAL); "." and ".." cannot be renamed or replaced (-EBUSY).
        /// </summary>
        public int Rename(uint oldDir, ReadOnlySpan<byte> oldName, uint newDir, ReadOnlySpan<byte> newName)
        {
            int r = CheckWritable();
            if (r < 0) return r;
            if (oldName.Length == 0 || IsDot(oldName) || IsDotDot(oldName)) return Errno.EBUSY;
            if (newName.Length == 0 || IsDot(newName) || IsDotDot(newName)) return Errno.EBUSY;
            r = CheckNewName(newName);
            if (r < 0) return r;
            if (oldName.Length > Ext2DirectoryEntry.MaxNameLength) return Errno.ENAMETOOLONG;

            Ext2Inode from = default, to = default, source = default, replaced = default;
            r = ReadInode(oldDir, ref from);
            if (r < 0) return r;
            r = ReadInode(newDir, ref to);
            if (r < 0) return r;
            if (!from.IsDirectory || !to.IsDirectory) return Errno.ENOTDIR;
            if (to.Links == 0) return Errno.ENOENT;
            r = FindEntry(ref from, oldName, out EntryLocation oldEntry);
            if (r < 0) return r;
            uint sourceIno = oldEntry.Inode;
            r = ReadInode(sourceIno, ref source);
            if (r < 0) return r;
            r = FindEntry(ref to, newName, out EntryLocation newEntry);
            if (r < 0 && r != Errno.ENOENT) return r;
            uint replacedIno = r == 0 ? newEntry.Inode : 0;
            if (replacedIno == sourceIno) return 0;
            bool directory = source.IsDirectory;
            bool moving = directory && oldDir != newDir;
            // Checked first, as Linux's do_renameat2 does: a directory cannot go under itself.
            if (moving)
            {
                r = IsSelfOrAncestor(sourceIno, newDir);
                if (r < 0) return r;
                if (r == 1) return Errno.EINVAL;
            }
            if (replacedIno != 0)
            {
                r = ReadInode(replacedIno, ref replaced);
                if (r < 0) return r;
                if (directory)
                {
                    if (!replaced.IsDirectory) return Errno.ENOTDIR;
                    r = IsEmptyDirectory(ref replaced);
                    if (r < 0) return r;
                    if (r == 0) return Errno.ENOTEMPTY;
                }
                else if (replaced.IsDirectory) return Errno.EISDIR;
            }
            if (moving && replacedIno == 0 && to.Links >= Ext2Inode.MaxLinks) return Errno.EMLINK;

            // 1. The moved inode counts both names while both exist.
            r = AdjustLinks(sourceIno, +1);
            if (r < 0) return r;
            // 2. The new name.
            byte type = source.DirectoryEntryType;
            r = replacedIno != 0 ? RetargetEntry(newDir, newName, sourceIno, type, true) : AddEntry(newDir, newName, sourceIno, type);
            if (r < 0) { AdjustLinks(sourceIno, -1); return r; }
            // 3. A directory under a new parent: the new parent gains the "..", then ".." changes.
            if (moving)
            {
                r = AdjustLinks(newDir, +1);
                if (r >= 0) r = RetargetEntry(sourceIno, ".."u8, newDir, Ext2DirectoryEntry.TypeDirectory, false);
                if (r < 0) return r;
            }
            // 4. The old name goes, then the counts it held.
            r = RemoveEntry(oldDir, oldName, sourceIno);
            if (r < 0) return r;
            r = AdjustLinks(sourceIno, -1);
            if (r >= 0 && moving) r = AdjustLinks(oldDir, -1);
            if (r < 0) return r;
            // 5. What was replaced loses its name (a directory: its ".." in newDir too).
            if (replacedIno != 0)
            {
                if (replaced.IsDirectory)
                {
                    r = AdjustLinks(newDir, -1);
                    if (r < 0) return r;
                    r = ReadInode(replacedIno, ref replaced);
                    if (r < 0) return r;
                    replaced.Links = 0;
                    return DeleteInode(ref replaced);
                }
                return DropLink(replacedIno);
            }
            return 0;
        }

        /// <summary>1 when directory dir is ancestor or dir itself (walking ".." up to the root), 0 when not.</summary>
        private int IsSelfOrAncestor(uint ancestor, uint dir)
        {
            uint current = dir;
            Ext2Inode inode = default;
            // A bound on the walk, so a damaged ".." cycle ends.
            for (uint steps = 0; steps <= _inodesCount; steps++)
            {
                if (current == ancestor) return 1;
                if (current == RootInode) return 0;
                int r = ReadInode(current, ref inode);
                if (r < 0) return r;
                r = FindEntry(ref inode, ".."u8, out EntryLocation up);
                if (r < 0) return r == Errno.ENOENT ? Errno.EIO : r;
                current = up.Inode;
            }
            Corrupt();
            return Errno.EIO;
        }

        /// <summary>Removes one link of inode ino (a name is gone); deletes it at zero.</summary>
        private int DropLink(uint ino)
        {
            Ext2Inode inode = default;
            int r = ReadInode(ino, ref inode);
            if (r < 0) return r;
            if (inode.Links > 0) inode.Links--;
            inode.ChangeTime = Now();
            if (inode.Links > 0) return WriteInode(ref inode);
            return DeleteInode(ref inode);
        }

        /// <summary>
        /// Deletes an inode whose last name is gone (Links already 0): frees its blocks (pointers
        /// cleared on disk first), drops its extended-attribute block, writes it with a deletion
        /// time (what e2fsck expects of a free inode), then frees it in the bitmap.
        /// </summary>
        private int DeleteInode(ref Ext2Inode inode)
        {
            int r;
            // Still open: kept until its last handle closes (Ext2FileSystem.OpenInodes.cs).
            if (KeepOpenInode(ref inode, out r)) return r;
            // A fast symlink's or a device's i_block holds text or a device number, not blocks.
            if (inode.IsRegular || inode.IsDirectory || (inode.IsSymlink && !IsFastSymlink(ref inode)))
            {
                r = ReleaseBlocks(ref inode, 0);
                if (r < 0) return r;
            }
            else
            {
                for (int i = 0; i < Ext2Inode.BlockSlots; i++) inode.SetBlockPointer(i, 0);
            }
            r = ReleaseAttributeBlock(ref inode);
            if (r < 0) return r;
            inode.Links = 0;
            inode.Size = 0;
            inode.DeleteTime = inode.ChangeTime = Now();
            r = WriteInode(ref inode);
            if (r < 0) return r;
            r = FreeInode(inode.Number, inode.IsDirectory);
            if (r < 0) return r;
            return CommitBitmaps();
        }

        /// <summary>
        /// Detaches the inode's extended-attribute block (ext_attr, i_file_acl) and drops one
        /// reference to it: the block is shared by h_refcount inodes (header magic 0xEA020000,
        /// h_refcount at byte 4) and freed with the last.
        /// </summary>
        private int ReleaseAttributeBlock(ref Ext2Inode inode)
        {
            uint block = inode.FileAcl;
            if (block == 0) return 0;
            inode.FileAcl = 0;
            inode.Sectors = inode.Sectors > _sectorsPerBlock ? inode.Sectors - _sectorsPerBlock : 0;
            int r = WriteInode(ref inode);
            if (r < 0) return r;
            if (!IsDataBlock(block)) { Corrupt(); return 0; }
            r = ReadBlocks(block, _dataBlock);
            if (r < 0) return r;
            uint references = LittleEndian.U32(_dataBlock, 4);
            if (LittleEndian.U32(_dataBlock, 0) == 0xEA020000 && references > 1)
            {
                LittleEndian.Put32(_dataBlock, 4, references - 1);
                return WriteBlocks(block, _dataBlock);
            }
            return FreeBlock(block);
        }
    }
}
