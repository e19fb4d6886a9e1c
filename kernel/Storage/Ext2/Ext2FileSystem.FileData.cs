// Reading and writing a regular file at an offset (pread64 / pwrite64 semantics).
//
// Work goes in segments of logical blocks that share one deepest indirect block (or are all
// direct), at most MaxSegment blocks: first every block of the segment is mapped (and, for a
// write, allocated), then the data moves, whole physically contiguous blocks straight between
// the caller's buffer and the device in one request each. Mapping the blocks after the first
// of a segment touches no indirect block but the deepest one, so nothing that points to the
// segment's new blocks can be written before their data is (Ext2FileSystem, "Durability").
//
// Holes read as zeros. A partial block is read, changed and written whole; a new block is
// written whole (zeros around the new bytes), never leaving another file's old bytes in it.
// Access times are not updated on read (like mounting with noatime): a read never writes.
using System;

namespace Tessera.Storage.Ext2
{
    public sealed partial class Ext2FileSystem
    {
        private const int MaxSegment = 64;

        /// <summary>One past the last logical block of the segment starting at logical.</summary>
        private ulong SegmentEnd(ulong logical)
        {
            ulong p = (ulong)_pointersPerBlock;
            ulong end;
            if (logical < Ext2Inode.DirectBlocks) end = Ext2Inode.DirectBlocks;
            else
            {
                ulong regionStart = Ext2Inode.DirectBlocks;       // single indirect
                if (logical >= regionStart + p) regionStart += p; // double indirect
                if (logical >= regionStart + p * p) regionStart += p * p; // triple indirect
                end = regionStart + ((logical - regionStart) / p + 1) * p;
            }
            ulong cap = logical + MaxSegment;
            return end < cap ? end : cap;
        }

        /// <summary>
        /// Reads up to buffer.Length bytes of regular file ino from offset. Returns the count read
        /// (0 at or past the end of the file) or a negative errno (-EISDIR for a directory).
        /// </summary>
        public int Read(uint ino, ulong offset, Span<byte> buffer)
        {
            Ext2Inode inode = default;
            int r = ReadInode(ino, ref inode);
            if (r < 0) return r;
            if (inode.IsDirectory) return Errno.EISDIR;
            if (!inode.IsRegular) return Errno.EINVAL;
            if (offset >= inode.Size || buffer.Length == 0) return 0;
            ulong available = inode.Size - offset;
            int count = available < (ulong)buffer.Length ? (int)available : buffer.Length;

            Span<uint> blocks = stackalloc uint[MaxSegment];
            int done = 0;
            int mask = _blockSize - 1;
            while (done < count)
            {
                ulong first = (offset + (ulong)done) >> _blockShift;
                ulong last = (offset + (ulong)count - 1) >> _blockShift;
                ulong end = SegmentEnd(first);
                if (end > last + 1) end = last + 1;
                int n = (int)(end - first);
                for (int i = 0; i < n; i++)
                {
                    r = MapBlock(ref inode, first + (ulong)i, out blocks[i]);
                    if (r < 0) return done > 0 ? done : r;
                }
                int k = 0;
                while (k < n)
                {
                    int inBlock = (int)((offset + (ulong)done) & (ulong)mask);
                    int chunk = _blockSize - inBlock;
                    if (chunk > count - done) chunk = count - done;
                    if (blocks[k] == 0)
                    {
                        buffer.Slice(done, chunk).Clear();
                        done += chunk;
                        k++;
                    }
                    else if (chunk == _blockSize)
                    {
                        int run = 1;
                        while (k + run < n && blocks[k + run] == blocks[k] + (uint)run && count - done >= (run + 1) * _blockSize) run++;
                        r = ReadBlocks(blocks[k], buffer.Slice(done, run * _blockSize));
                        if (r < 0) return done > 0 ? done : r;
                        done += run * _blockSize;
                        k += run;
                    }
                    else
                    {
                        r = ReadBlocks(blocks[k], _dataBlock);
                        if (r < 0) return done > 0 ? done : r;
                        new ReadOnlySpan<byte>(_dataBlock, inBlock, chunk).CopyTo(buffer.Slice(done, chunk));
                        done += chunk;
                        k++;
                    }
                }
            }
            return done;
        }

        /// <summary>
        /// Writes data into regular file ino at offset, allocating blocks as needed and growing
        /// the file. Returns the count written, which is short when the disk fills up or the
        /// maximum file size is reached part way; -ENOSPC / -EFBIG when nothing could be written.
        /// </summary>
        public int Write(uint ino, ulong offset, ReadOnlySpan<byte> data)
        {
            int r = CheckWritable();
            if (r < 0) return r;
            Ext2Inode inode = default;
            r = ReadInode(ino, ref inode);
            if (r < 0) return r;
            if (inode.IsDirectory) return Errno.EISDIR;
            if (!inode.IsRegular) return Errno.EINVAL;
            if (data.Length == 0) return 0;
            ulong max = MaxFileSize;
            if (offset >= max) return Errno.EFBIG;
            int count = data.Length;
            if ((ulong)count > max - offset) count = (int)(max - offset);

            Span<uint> blocks = stackalloc uint[MaxSegment];
            Span<bool> isNew = stackalloc bool[MaxSegment];
            int done = 0;
            int error = 0;
            int mask = _blockSize - 1;
            uint goal = 0;
            while (done < count && error == 0)
            {
                ulong first = (offset + (ulong)done) >> _blockShift;
                ulong last = (offset + (ulong)count - 1) >> _blockShift;
                ulong end = SegmentEnd(first);
                if (end > last + 1) end = last + 1;
                int n = (int)(end - first);
                if (goal == 0) goal = GoalFor(ref inode, first);
                for (int i = 0; i < n; i++)
                {
                    r = MapOrAllocate(ref inode, first + (ulong)i, goal, out blocks[i], out isNew[i]);
                    if (r < 0) { error = r; n = i; break; }
                    goal = blocks[i] + 1;
                }
                int k = 0;
                while (k < n)
                {
                    int inBlock = (int)((offset + (ulong)done) & (ulong)mask);
                    int chunk = _blockSize - inBlock;
                    if (chunk > count - done) chunk = count - done;
                    if (chunk == _blockSize)
                    {
                        int run = 1;
                        while (k + run < n && blocks[k + run] == blocks[k] + (uint)run && count - done >= (run + 1) * _blockSize) run++;
                        r = WriteBlocks(blocks[k], data.Slice(done, run * _blockSize));
                        if (r < 0) { error = r; break; }
                        done += run * _blockSize;
                        k += run;
                    }
                    else
                    {
                        if (isNew[k]) new Span<byte>(_dataBlock).Clear();
                        else
                        {
                            r = ReadBlocks(blocks[k], _dataBlock);
                            if (r < 0) { error = r; break; }
                        }
                        data.Slice(done, chunk).CopyTo(new Span<byte>(_dataBlock, inBlock, chunk));
                        r = WriteBlocks(blocks[k], _dataBlock);
                        if (r < 0) { error = r; break; }
                        done += chunk;
                        k++;
                    }
                }
            }

            if (done > 0)
            {
                ulong endOfWrite = offset + (ulong)done;
                if (endOfWrite > inode.Size) inode.Size = endOfWrite;
                inode.ModifyTime = inode.ChangeTime = Now();
            }
            // The inode last: it may name blocks allocated above (WriteInode commits them first).
            r = WriteInode(ref inode);
            if (done > 0) return done;
            return error < 0 ? error : r;
        }

        /// <summary>Where to look for the block for logical: after the block before it, else in the inode's group.</summary>
        private uint GoalFor(ref Ext2Inode inode, ulong logical)
        {
            if (logical > 0 && MapBlock(ref inode, logical - 1, out uint previous) == 0 && previous != 0) return previous + 1;
            return GroupGoal(inode.Number);
        }
    }
}
