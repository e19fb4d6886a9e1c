// An ext2 file system (revision 0 or 1) on a BlockDevice, read and write. References:
// Dave Poirier, "The Second Extended File System: Internal Layout" (cited as Poirier §n) and
// the Linux kernel's Documentation/filesystems/ext2.rst (cited as ext2.rst "Section").
//
// The class is split by concept over Ext2FileSystem.*.cs: Mount (validation), Allocation
// (bitmaps, block and inode allocators), BlockMap (logical to physical blocks through the
// indirect blocks), FileData (read and write at an offset), Truncate (freeing blocks),
// Directories (entries), Paths (name lookup), Namespace (create, mkdir, link, unlink, rmdir,
// rename, symlink) and Attributes (stat, statfs, readlink, readdir).
//
// Memory: every buffer is allocated at mount; operations allocate nothing (kernel memory is
// never freed, DESIGN §4). Inodes are structs passed by reference.
//
// Errors: every operation returns 0 or a count, or a negative Linux errno (Errno). Anything
// read from the disk is checked before it is used as an index or a block number, so a
// damaged image gives -EIO (and a count in CorruptionsFound), never an out-of-range access.
//
// Durability: there is no journal. Instead the order of writes keeps the image such that a
// crash between any two writes leaves only harmless damage that e2fsck repairs without
// losing data (a leaked block or inode, a link count too high, a free count off), never a
// pointer to an unallocated or uninitialised block, nor an entry naming a free inode:
//   1. allocation: the bitmap bit is set on disk before anything points to the block or
//      inode (CommitMetadata runs before every write of a pointer holder: inode, indirect
//      block, directory block);
//   2. data before the metadata pointing to it: a new data block, indirect block or
//      directory block is written in full before the pointer to it (indirect blocks are
//      written deepest first, the inode last);
//   3. counts after bitmaps: group descriptors are written after the bitmaps they count, and
//      the superblock's totals only at sync points (Sync, Unmount), as Linux's ext2 does;
//   4. link counts go up before a new name is written and down only after an old name is
//      gone (rename, mkdir, link);
//   5. release: a name is removed before its inode is freed, and pointers are cleared on disk
//      before the blocks they named are marked free, so a freed block can never be reached
//      from a live file when it is reused.
// BlockDevice.Write returns only once the device has completed the write, so issuing writes
// one after the other is enough to order them against a crash of the VM (completed writes
// are in the host's page cache). Against a host crash the device's cache must be flushed:
// Sync (fsync, sync, unmount) ends with BlockDevice.Flush. Every operation leaves no dirty
// metadata behind except the superblock's totals and times.
using System;

namespace Tessera.Storage.Ext2
{
    public sealed partial class Ext2FileSystem
    {
        public const uint RootInode = 2;           // EXT2_ROOT_INO (Poirier §3.5 "Defined Reserved Inodes")
        public const uint ResizeInode = 7;         // EXT2_RESIZE_INO: never touched
        public const int MaxPathLength = 4096;      // PATH_MAX, including the terminating NUL
        public const int MaxSymlinkLoops = 40;      // Linux's MAXSYMLINKS

        private readonly BlockDevice _device;
        private readonly FileSystemClock _clock;
        private readonly Ext2Superblock _super;
        private readonly Ext2GroupTable _groups;
        private readonly bool _readOnly;

        // Geometry (validated at mount).
        private readonly int _blockSize;
        private readonly int _blockShift;               // log2(_blockSize)
        private readonly int _pointersPerBlock;         // block pointers in an indirect block
        private readonly uint _sectorsPerBlock;         // i_blocks units (512 bytes) per block
        private readonly ulong _deviceBlocksPerBlock;
        private readonly uint _blocksCount;
        private readonly uint _inodesCount;
        private readonly uint _firstDataBlock;
        private readonly uint _blocksPerGroup;
        private readonly uint _inodesPerGroup;
        private readonly uint _inodeTableBlocks;        // per group
        private readonly int _inodeSize;
        private readonly uint _firstInode;
        private readonly bool _fileTypeFeature;
        private readonly bool _largeFileFeature;
        private readonly bool _sparseSuper;
        private readonly bool _sparseSuper2;
        private readonly ulong _maxFileBlocks;          // logical blocks addressable through i_block

        // Totals kept exact in memory and written to the superblock at sync points.
        private uint _freeBlocks;
        private uint _freeInodes;
        private bool _unmounted;
        private uint _nextGeneration;

        // Caches and scratch buffers (one block each).
        private readonly CachedBlock _blockBitmap;      // the block bitmap of one group
        private readonly CachedBlock _inodeBitmap;      // the inode bitmap of one group
        private readonly CachedBlock _inodeTable;       // one inode-table block (write-through)
        private readonly CachedBlock[] _indirect;       // [depth 1..3]: indirect blocks on the last path walked
        private readonly byte[][] _releaseScratch;      // [depth 1..3]: copies of indirect blocks being freed
        private readonly byte[] _directoryBlock;        // the directory block being scanned or changed
        private readonly byte[] _dataBlock;             // partial-block read-modify-write of file data
        private readonly byte[] _superDevice;           // the device block(s) holding the superblock
        private byte[] _pathBuffer;                     // path text during lookup (symlinks expand it)
        private byte[] _pathSpare;
        private readonly byte[] _linkText;              // a symlink's target during lookup

        /// <summary>Problems found in on-disk structures since mount (each also gave -EIO or was skipped).</summary>
        public int CorruptionsFound;

        public bool ReadOnly => _readOnly;
        public int BlockSize => _blockSize;
        public uint BlocksCount => _blocksCount;
        public uint InodesCount => _inodesCount;
        public uint FreeBlocks => _freeBlocks;
        public uint FreeInodes => _freeInodes;

        /// <summary>Largest file size: what i_block can address, capped by i_blocks (32 bits of 512-byte units) and, without large_file, at 2 GiB - 1.</summary>
        public ulong MaxFileSize
        {
            get
            {
                ulong bySectors = ((ulong)uint.MaxValue / _sectorsPerBlock) << _blockShift;
                ulong byPointers = _maxFileBlocks << _blockShift;
                ulong max = byPointers < bySectors ? byPointers : bySectors;
                if (!_largeFileFeature && max > 0x7FFFFFFF) max = 0x7FFFFFFF;
                return max;
            }
        }

        private Ext2FileSystem(BlockDevice device, FileSystemClock clock, Ext2Superblock super, bool readOnly, byte[] superDevice)
        {
            _device = device;
            _clock = clock;
            _super = super;
            _readOnly = readOnly;
            _superDevice = superDevice;
            _blockSize = 1024 << (int)super.LogBlockSize;
            _blockShift = 10 + (int)super.LogBlockSize;
            _pointersPerBlock = _blockSize / 4;
            _sectorsPerBlock = (uint)(_blockSize / 512);
            _deviceBlocksPerBlock = (ulong)(_blockSize / device.BlockSize);
            _blocksCount = super.BlocksCount;
            _inodesCount = super.InodesCount;
            _firstDataBlock = super.FirstDataBlock;
            _blocksPerGroup = super.BlocksPerGroup;
            _inodesPerGroup = super.InodesPerGroup;
            _inodeSize = super.InodeSize;
            _inodeTableBlocks = (uint)(((ulong)_inodesPerGroup * (ulong)_inodeSize + (ulong)_blockSize - 1) / (ulong)_blockSize);
            _firstInode = super.FirstInode;
            _fileTypeFeature = (super.FeatureIncompat & Ext2Features.FileType) != 0;
            _largeFileFeature = (super.FeatureRoCompat & Ext2Features.LargeFile) != 0;
            _sparseSuper = (super.FeatureRoCompat & Ext2Features.SparseSuper) != 0;
            _sparseSuper2 = (super.FeatureCompat & Ext2Features.SparseSuper2) != 0;
            ulong p = (ulong)_pointersPerBlock;
            _maxFileBlocks = Ext2Inode.DirectBlocks + p + p * p + p * p * p;

            uint groupCount = (_blocksCount - _firstDataBlock + _blocksPerGroup - 1) / _blocksPerGroup;
            _groups = new Ext2GroupTable(groupCount, _blockSize);

            _blockBitmap = new CachedBlock(_blockSize);
            _inodeBitmap = new CachedBlock(_blockSize);
            _inodeTable = new CachedBlock(_blockSize);
            _indirect = new CachedBlock[4];
            _releaseScratch = new byte[4][];
            for (int d = 1; d <= 3; d++)
            {
                _indirect[d] = new CachedBlock(_blockSize);
                _releaseScratch[d] = new byte[_blockSize];
            }
            _directoryBlock = new byte[_blockSize];
            _dataBlock = new byte[_blockSize];
            _pathBuffer = new byte[MaxPathLength];
            _pathSpare = new byte[MaxPathLength];
            _linkText = new byte[MaxPathLength];
            _nextGeneration = clock.UnixSeconds();
        }

        // ---- Device I/O --------------------------------------------------------------------

        /// <summary>Reads buffer.Length / BlockSize file system blocks starting at block.</summary>
        private int ReadBlocks(uint block, Span<byte> buffer)
        {
            int r = _device.Read(block * _deviceBlocksPerBlock, buffer);
            return r < 0 ? r : 0;
        }

        private int WriteBlocks(uint block, ReadOnlySpan<byte> buffer)
        {
            if (_readOnly) return Errno.EROFS;
            int r = _device.Write(block * _deviceBlocksPerBlock, buffer);
            return r < 0 ? r : 0;
        }

        /// <summary>Writes the primary superblock (1024 bytes at byte 1024) through the device block(s) holding it.</summary>
        private int WriteSuperblock()
        {
            if (_readOnly) return Errno.EROFS;
            int deviceBlock = _device.BlockSize;
            if (deviceBlock <= Ext2Superblock.Offset)
            {
                return _device.Write((ulong)(Ext2Superblock.Offset / deviceBlock), new ReadOnlySpan<byte>(_super.Raw));
            }
            // A device block larger than 1 KiB holds the superblock at byte 1024 among other
            // bytes (the boot block, the start of the group descriptors with 2 KiB blocks):
            // _superDevice holds that device block as read at mount, and only the superblock's
            // bytes in it ever change.
            new ReadOnlySpan<byte>(_super.Raw).CopyTo(new Span<byte>(_superDevice, Ext2Superblock.Offset, Ext2Superblock.Size));
            return _device.Write(0, new ReadOnlySpan<byte>(_superDevice));
        }

        // ---- Geometry ----------------------------------------------------------------------

        private uint GroupOfBlock(uint block) => (block - _firstDataBlock) / _blocksPerGroup;
        private uint GroupOfInode(uint inode) => (inode - 1) / _inodesPerGroup;
        private uint FirstBlockOfGroup(uint group) => _firstDataBlock + group * _blocksPerGroup;

        private uint BlocksInGroup(uint group)
        {
            uint first = FirstBlockOfGroup(group);
            uint left = _blocksCount - first;
            return left < _blocksPerGroup ? left : _blocksPerGroup;
        }

        /// <summary>
        /// Whether block can hold file data or an indirect block: inside the file system and not
        /// one of its group's bitmaps or inode-table blocks. Checked on every pointer read from
        /// the disk, so a damaged pointer cannot make a write land on metadata.
        /// </summary>
        private bool IsDataBlock(uint block)
        {
            if (block < _firstDataBlock || block >= _blocksCount) return false;
            uint g = GroupOfBlock(block);
            if (block == _groups.BlockBitmap(g) || block == _groups.InodeBitmap(g)) return false;
            uint table = _groups.InodeTable(g);
            if (block >= table && block < table + _inodeTableBlocks) return false;
            // The superblock copy and descriptor tables at a group's start (Poirier §2.2).
            if (GroupHasSuperblock(g) && block < FirstBlockOfGroup(g) + 1 + _groups.TableBlocks) return false;
            return true;
        }

        /// <summary>
        /// Whether group g holds a superblock backup (ext2.rst "The Superblock"): every group
        /// without sparse_super; with it groups 0, 1 and powers of 3, 5 and 7; with
        /// sparse_super2 group 0 and the two groups named in the superblock.
        /// </summary>
        public bool GroupHasSuperblock(uint g)
        {
            if (g == 0) return true;
            if (_sparseSuper2) return g == _super.BackupGroup(0) || g == _super.BackupGroup(1);
            if (!_sparseSuper || g == 1) return true;
            return IsPowerOf(g, 3) || IsPowerOf(g, 5) || IsPowerOf(g, 7);
        }

        private static bool IsPowerOf(uint n, uint b)
        {
            ulong p = b;
            while (p < n) p *= b;
            return p == n;
        }

        private uint Now() => _clock.UnixSeconds();

        private void Corrupt() => CorruptionsFound++;

        // ---- Inodes ------------------------------------------------------------------------

        private bool IsValidInodeNumber(uint ino) => ino >= 1 && ino <= _inodesCount;

        /// <summary>Where inode ino lives: the inode-table block and the byte offset in it (Poirier §3.5, "Locating an Inode").</summary>
        private void LocateInode(uint ino, out uint block, out int offset)
        {
            uint g = GroupOfInode(ino);
            ulong byteInTable = (ulong)((ino - 1) % _inodesPerGroup) * (ulong)_inodeSize;
            block = _groups.InodeTable(g) + (uint)(byteInTable >> _blockShift);
            offset = (int)(byteInTable & (ulong)(_blockSize - 1));
        }

        private int LoadInodeTableBlock(uint block)
        {
            if (_inodeTable.Block == block) return 0;
            _inodeTable.Forget();
            int r = ReadBlocks(block, _inodeTable.Data);
            if (r < 0) return r;
            _inodeTable.Block = block;
            return 0;
        }

        /// <summary>Reads inode ino into inode. -EIO for an out-of-range number.</summary>
        private int ReadInode(uint ino, ref Ext2Inode inode)
        {
            if (!IsValidInodeNumber(ino)) { Corrupt(); return Errno.EIO; }
            LocateInode(ino, out uint block, out int offset);
            int r = LoadInodeTableBlock(block);
            if (r < 0) return r;
            inode.Load(ino, new ReadOnlySpan<byte>(_inodeTable.Data, offset, Ext2Superblock.GoodOldInodeSize));
            return 0;
        }

        /// <summary>
        /// Writes inode back to its slot. Pending bitmaps, group descriptors and indirect blocks
        /// go first (CommitMetadata): the inode may point to what they allocated. With fresh,
        /// the whole slot is cleared first (a newly allocated inode keeps nothing of the one
        /// that used the slot before) and, in a large inode, i_extra_isize and i_crtime are set
        /// as mke2fs sets them.
        /// </summary>
        private int WriteInode(ref Ext2Inode inode, bool fresh = false)
        {
            int r = CommitMetadata();
            if (r < 0) return r;
            LocateInode(inode.Number, out uint block, out int offset);
            r = LoadInodeTableBlock(block);
            if (r < 0) return r;
            Span<byte> slot = new Span<byte>(_inodeTable.Data, offset, _inodeSize);
            if (fresh)
            {
                slot.Clear();
                if (_inodeSize >= 160)
                {
                    LittleEndian.Put16(slot, 128, 32);              // i_extra_isize: the ext4 large-inode fields up to i_projid
                    LittleEndian.Put32(slot, 144, inode.ChangeTime); // i_crtime
                }
            }
            inode.Store(slot);
            r = WriteBlocks(block, _inodeTable.Data);
            if (r < 0) _inodeTable.Forget();
            return r;
        }

        // ---- Sync points -------------------------------------------------------------------

        /// <summary>
        /// Writes every pending change in dependency order: bitmaps, then the group descriptors
        /// counting them, then dirty indirect blocks deepest first (a deeper block may be new
        /// and named by a shallower one).
        /// </summary>
        private int CommitMetadata()
        {
            int r = CommitBitmaps();
            if (r < 0) return r;
            for (int d = 3; d >= 1; d--)
            {
                r = WriteIndirect(d);
                if (r < 0) return r;
            }
            return 0;
        }

        /// <summary>
        /// Makes everything written so far durable: pending metadata, the superblock's free
        /// counts and write time, then a device flush. fsync and sync both come here: every
        /// operation writes its data and metadata before returning, so there is nothing per
        /// file left to write.
        /// </summary>
        public int Sync()
        {
            if (_readOnly || _unmounted) return 0;
            int r = CommitMetadata();
            if (r < 0) return r;
            _super.FreeBlocksCount = _freeBlocks;
            _super.FreeInodesCount = _freeInodes;
            _super.WriteTime = Now();
            if (CorruptionsFound > 0) _super.State = (ushort)(_super.State | Ext2Superblock.StateErrors);
            r = WriteSuperblock();
            if (r < 0) return r;
            return _device.Flush();
        }

        /// <summary>Syncs and marks the file system cleanly unmounted (s_state VALID). The object is not used afterwards.</summary>
        public int Unmount()
        {
            if (_unmounted) return 0;
            if (_readOnly) { _unmounted = true; return 0; }
            _super.State = (ushort)(_super.State | Ext2Superblock.StateValid);
            int r = Sync();
            _unmounted = true;
            return r;
        }

        /// <summary>0 when changes are allowed, else -EROFS or -EIO (after unmount).</summary>
        private int CheckWritable()
        {
            if (_readOnly) return Errno.EROFS;
            if (_unmounted) return Errno.EIO;
            return 0;
        }
    }
}
