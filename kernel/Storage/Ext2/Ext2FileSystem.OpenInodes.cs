// Inodes kept alive by open files. POSIX lets a program go on reading and writing a file
// after its last name is gone (unlink(2): "If the name was the last link to a file but any
// processes still have the file open, the file will remain in existence until the last file
// descriptor referring to it is closed"). Linux keeps such an inode in memory with
// i_links_count 0 and deletes it at the last iput. Here the file service tells the file
// system which inodes are open (InodePins); when a name removal drops an open inode's link
// count to 0, DeleteInode writes the inode with links 0 and no deletion time and keeps its
// blocks, and the service calls ReleaseUnlinked at the last close.
//
// A crash while such a file is open leaves an in-use inode with no links and no deletion
// time: e2fsck calls it an unattached inode (and Linux's ext2 leaks it the same way). The
// storage component's recovery pass at mount deletes those (Ext2FileSystem.Recovery.cs).
using System;

namespace Tessera.Storage.Ext2
{
    /// <summary>Which inodes are open and must outlive their last name (the file service's open-file table).</summary>
    public abstract class InodePins
    {
        public abstract bool IsPinned(uint inode);
    }

    public sealed partial class Ext2FileSystem
    {
        /// <summary>Open inodes, or null when nothing is ever open (the host tests of the bare file system).</summary>
        public InodePins? Pins;

        /// <summary>
        /// DeleteInode's first step: an open inode loses its last link but stays allocated with
        /// its blocks (links 0, no deletion time). True when it was kept; result is the write's.
        /// </summary>
        private bool KeepOpenInode(ref Ext2Inode inode, out int result)
        {
            result = 0;
            if (Pins is null || !Pins.IsPinned(inode.Number)) return false;
            inode.Links = 0;
            inode.ChangeTime = Now();
            result = WriteInode(ref inode);
            return true;
        }

        /// <summary>
        /// Deletes inode ino if its last name went while it was open (links 0, no deletion time,
        /// still allocated): the file service calls this when the last handle on it closes.
        /// Returns 1 when it was deleted, 0 when it still has a name, or a negative errno.
        /// </summary>
        public int ReleaseUnlinked(uint ino)
        {
            if (_readOnly || _unmounted) return 0;
            Ext2Inode inode = default;
            int r = ReadInode(ino, ref inode);
            if (r < 0) return r;
            if (inode.Links != 0 || inode.Mode == 0 || inode.DeleteTime != 0) return 0;
            r = InodeAllocated(ino);
            if (r <= 0) return r;
            if (Pins is not null && Pins.IsPinned(ino)) return 0;
            r = DeleteInode(ref inode);
            return r < 0 ? r : 1;
        }

        /// <summary>1 when inode ino's bit is set in its group's inode bitmap, 0 when not.</summary>
        private int InodeAllocated(uint ino)
        {
            if (!IsValidInodeNumber(ino)) return Errno.EIO;
            uint g = GroupOfInode(ino);
            int r = LoadInodeBitmap(g);
            if (r < 0) return r;
            return BitSet(_inodeBitmap.Data, (ino - 1) % _inodesPerGroup) ? 1 : 0;
        }

        /// <summary>i_generation and i_links_count of inode ino (a handle checks the inode is still the one it opened).</summary>
        public int GetIdentity(uint ino, out uint generation, out uint links)
        {
            generation = 0;
            links = 0;
            Ext2Inode inode = default;
            int r = ReadInode(ino, ref inode);
            if (r < 0) return r;
            generation = inode.Generation;
            links = inode.Links;
            return inode.Mode == 0 ? Errno.ENOENT : 0;
        }
    }
}
