// The file RPCs (kernel/Core/Rpc/FileProtocol.cs) served on the mounted ext2 volume: each
// request is decoded, checked, turned into Ext2FileSystem calls with the semantics of the
// Linux system call it stands for (open(2), stat(2), getdents64(2), mkdir(2), unlink(2),
// rename(2), truncate(2), fsync(2), readlink(2), access(2), statfs(2), symlink(2), link(2))
// and answered. Handles live in the OpenFileTable, which also tells the file system which
// inodes must outlive their last name.
//
// Durability (docs/storage-ext2.md, docs/storage-service.md): every ext2 operation has
// written its data and metadata, in crash-safe order, before the reply goes out; what stays
// in memory is the superblock's free counts. Sync (FSYNC, and the component's timer shortly
// after any change, see Dirty) writes those and flushes the disk's cache.
//
// Never trusts a request: lengths are checked against the payload before any byte is read,
// handles against the table and the calling node, offsets against the largest file offset.
// Allocates nothing per request. Pure logic: compiled into the storage kernel and the host tests.
using System;
using Tessera.Core.Rpc;
using Tessera.Storage.Ext2;

namespace Tessera.Storage
{
    public sealed class FileService
    {
        private const uint Root = Ext2FileSystem.RootInode;
        private const ulong MaxOffset = 0x7FFFFFFFFFFFFFFF;   // off_t is signed: larger is -EINVAL
        private const uint TypeMask = 0xF000, TypeDirectory = 0x4000, TypeRegular = 0x8000, TypeSymlink = 0xA000;

        private readonly Ext2FileSystem? _fs;
        private readonly int _unavailable;
        private readonly ushort _device;
        public readonly OpenFileTable Table;
        private readonly byte[] _linkTarget = new byte[Ext2FileSystem.MaxPathLength];

        /// <summary>Something changed since the last Sync: the component syncs soon after.</summary>
        public bool Dirty;
        /// <summary>Requests answered (by status class), for the component's statistics.</summary>
        public ulong Served, Failed, Malformed;

        /// <param name="fs">The mounted volume, or null: then every request gets unavailableStatus.</param>
        /// <param name="unavailableStatus">-ENODEV (no disk) or -EIO (the disk's file system was refused).</param>
        /// <param name="device">st_dev in every stat answer: the storage node's id.</param>
        /// <param name="firstGeneration">Where handle generations start (the component's boot clock).</param>
        public FileService(Ext2FileSystem? fs, int unavailableStatus, ushort device, ushort firstGeneration)
        {
            _fs = fs;
            _unavailable = unavailableStatus < 0 ? unavailableStatus : Errno.EIO;
            _device = device;
            Table = new OpenFileTable(firstGeneration);
            if (fs is not null) fs.Pins = Table;
        }

        public Ext2FileSystem? FileSystem => _fs;

        /// <summary>The file opcodes, each registered with its own handler on endpoint.</summary>
        public void Register(RpcEndpoint endpoint)
        {
            for (ushort op = RpcOpcode.Open; op <= RpcOpcode.Forget; op++) endpoint.Register(op, new FileRequestHandler(this, op));
        }

        /// <summary>Writes everything pending and flushes the disk (fsync, sync, the component's timer).</summary>
        public int Sync()
        {
            if (_fs is null) return _unavailable;
            Dirty = false;
            return _fs.Sync();
        }

        /// <summary>Serves one request of opcode from node source. Returns 0 and the reply, or a negative errno.</summary>
        public int Handle(ushort opcode, ushort source, ReadOnlySpan<byte> request, Span<byte> reply, out int replyLength)
        {
            replyLength = 0;
            int r;
            if (_fs is null) r = _unavailable;
            else r = Dispatch(_fs, opcode, source, request, reply, ref replyLength);
            if (r < 0)
            {
                replyLength = 0;
                if (r == Errno.EBADMSG) Malformed++;
                else Failed++;
                return r;
            }
            Served++;
            return 0;
        }

        private int Dispatch(Ext2FileSystem fs, ushort op, ushort source, ReadOnlySpan<byte> request, Span<byte> reply, ref int replyLength)
        {
            switch (op)
            {
                case RpcOpcode.Read: return Read(fs, source, request, reply, ref replyLength);
                case RpcOpcode.Write: return Write(fs, source, request, reply, ref replyLength);
                case RpcOpcode.Fstat: return Fstat(fs, source, request, reply, ref replyLength);
                case RpcOpcode.Getdents: return Getdents(fs, source, request, reply, ref replyLength);
                case RpcOpcode.Ftruncate: return Ftruncate(fs, source, request);
                case RpcOpcode.Fsync: return Fsync(source, request);
                case RpcOpcode.Close: return Close(fs, source, request);
                case RpcOpcode.Forget: return Forget(fs, source, request, reply, ref replyLength);
            }
            if (!FileProtocol.ReadPathRequest(request, out PathRequest p)) return Errno.EBADMSG;
            ReadOnlySpan<byte> name1 = p.Name1(request);
            ReadOnlySpan<byte> name2 = p.Name2(request);
            bool twoNames = op == RpcOpcode.Rename || op == RpcOpcode.Symlink || op == RpcOpcode.Link;
            if (!twoNames && p.Name2Length != 0) return Errno.EBADMSG;
            if (name1.Length > FileProtocol.MaxPath || name2.Length > FileProtocol.MaxPath) return Errno.ENAMETOOLONG;
            switch (op)
            {
                case RpcOpcode.Open: return Open(fs, source, p, name1, reply, ref replyLength);
                case RpcOpcode.Stat: return Stat(fs, source, p, name1, reply, ref replyLength);
                case RpcOpcode.Mkdir: return Mkdir(fs, source, p, name1);
                case RpcOpcode.Unlink: return Unlink(fs, source, p, name1);
                case RpcOpcode.Rename: return Rename(fs, source, p, name1, name2);
                case RpcOpcode.Truncate: return Truncate(fs, source, p, name1);
                case RpcOpcode.Readlink: return Readlink(fs, source, p, name1, reply, ref replyLength);
                case RpcOpcode.Access: return Access(fs, source, p, name1);
                case RpcOpcode.Statfs: return Statfs(fs, source, p, name1, reply, ref replyLength);
                case RpcOpcode.ReadPath: return ReadPath(fs, p, name1, reply, ref replyLength);
                case RpcOpcode.Symlink: return Symlink(fs, source, p, name1, name2);
                case RpcOpcode.Link: return Link(fs, source, p, name1, name2);
            }
            return Errno.EBADMSG;
        }

        // ---- Paths -----------------------------------------------------------------------

        /// <summary>
        /// The directory a path starts from: the root for an absolute path (openat ignores
        /// dirfd then) or base for a relative one (the root for RootBase). -EBADF for a handle
        /// the caller does not hold; a base that is no directory is left to the lookup (-ENOTDIR).
        /// </summary>
        private int Start(ushort source, uint baseHandle, ReadOnlySpan<byte> path, out uint start)
        {
            start = Root;
            if (path.Length > 0 && path[0] == (byte)'/') return 0;
            if (baseHandle == FileProtocol.RootBase) return 0;
            int slot = Table.Find(source, baseHandle);
            if (slot < 0) return Errno.EBADF;
            start = Table.InodeOf(slot);
            return 0;
        }

        /// <summary>Resolves a whole path (following a final symlink when follow is set).</summary>
        private int Resolve(Ext2FileSystem fs, ushort source, uint baseHandle, ReadOnlySpan<byte> path, bool follow, out uint ino)
        {
            ino = 0;
            int r = Start(source, baseHandle, path, out uint start);
            if (r < 0) return r;
            return fs.Lookup(start, path, follow, out ino);
        }

        /// <summary>The directory holding path's last component and that component (LookupParent).</summary>
        private int Parent(Ext2FileSystem fs, ushort source, uint baseHandle, ReadOnlySpan<byte> path, out uint parent, out ReadOnlySpan<byte> name, out bool trailingSlash)
        {
            parent = 0;
            name = default;
            trailingSlash = false;
            int r = Start(source, baseHandle, path, out uint start);
            if (r < 0) return r;
            r = fs.LookupParent(start, path, out parent, out int nameStart, out int nameLength, out trailingSlash);
            if (r < 0) return r;
            name = path.Slice(nameStart, nameLength);
            return 0;
        }

        private static bool IsDotOrDotDot(ReadOnlySpan<byte> name) =>
            (name.Length == 1 && name[0] == (byte)'.') || (name.Length == 2 && name[0] == (byte)'.' && name[1] == (byte)'.');

        // ---- open, close, forget ---------------------------------------------------------

        private int Open(Ext2FileSystem fs, ushort source, in PathRequest p, ReadOnlySpan<byte> path, Span<byte> reply, ref int replyLength)
        {
            uint flags = p.Arg;
            uint access = flags & FileProtocol.O_ACCMODE;
            if (access == FileProtocol.O_ACCMODE) return Errno.EINVAL;
            // Linux 6.4 and later: O_CREAT with O_DIRECTORY is -EINVAL (it never made a directory).
            if ((flags & (FileProtocol.O_CREAT | FileProtocol.O_DIRECTORY)) == (FileProtocol.O_CREAT | FileProtocol.O_DIRECTORY)) return Errno.EINVAL;
            bool writable = access != FileProtocol.O_RDONLY;
            bool follow = (flags & FileProtocol.O_NOFOLLOW) == 0;
            if (Table.Full) return Errno.ENFILE;
            uint ino;
            bool created = false;
            int r;
            if ((flags & FileProtocol.O_CREAT) != 0)
            {
                r = Start(source, p.Base, path, out uint start);
                if (r < 0) return r;
                r = CreateOrFind(fs, start, path, flags, (uint)p.Value & 0xFFF, out ino, out created);
                if (r < 0) return r;
            }
            else
            {
                r = Resolve(fs, source, p.Base, path, follow, out ino);
                if (r < 0) return r;
            }

            r = fs.GetStatus(ino, out FileStatus status);
            if (r < 0) return r;
            uint type = status.Mode & TypeMask;
            if (type == TypeSymlink) return Errno.ELOOP;   // only reached with O_NOFOLLOW
            if ((flags & FileProtocol.O_DIRECTORY) != 0 && type != TypeDirectory) return Errno.ENOTDIR;
            if (type == TypeDirectory && (writable || (flags & (FileProtocol.O_CREAT | FileProtocol.O_TRUNC)) != 0)) return Errno.EISDIR;
            bool truncate = (flags & FileProtocol.O_TRUNC) != 0 && type == TypeRegular;
            if ((writable || truncate) && fs.ReadOnly) return Errno.EROFS;
            if (truncate && !created)
            {
                r = fs.Truncate(ino, 0);
                if (r < 0) return r;
                status.Size = 0;
                Dirty = true;
            }
            if (!Table.Open(source, ino, flags, out uint handle)) return Errno.ENFILE;
            replyLength = FileProtocol.WriteOpenReply(reply, handle, status.Mode, status.Size);
            return 0;
        }

        /// <summary>
        /// open(2) with O_CREAT: the last component is created when absent; an existing one is
        /// -EEXIST under O_EXCL, else opened. A final symlink is followed (without O_NOFOLLOW):
        /// when its target does not exist, the target is what gets created, as Linux does.
        /// </summary>
        private int CreateOrFind(Ext2FileSystem fs, uint start, ReadOnlySpan<byte> path, uint flags, uint mode, out uint ino, out bool created)
        {
            ino = 0;
            created = false;
            bool follow = (flags & FileProtocol.O_NOFOLLOW) == 0;
            ReadOnlySpan<byte> current = path;
            for (int links = 0; ; links++)
            {
                int r = fs.LookupParent(start, current, out uint parent, out int nameStart, out int nameLength, out bool trailingSlash);
                if (r < 0) return r;
                ReadOnlySpan<byte> name = current.Slice(nameStart, nameLength);
                // "/" or a name of "." or "..": an existing directory, which O_CREAT cannot open.
                if (name.Length == 0 || IsDotOrDotDot(name)) return Errno.EISDIR;
                r = fs.LookupName(parent, name, out ino);
                if (r == Errno.ENOENT)
                {
                    if (trailingSlash) return Errno.EISDIR;
                    r = fs.Create(parent, name, mode, 0, 0, out ino);
                    if (r < 0) return r;
                    created = true;
                    Dirty = true;
                    return 0;
                }
                if (r < 0) return r;
                if ((flags & FileProtocol.O_EXCL) != 0) return Errno.EEXIST;
                r = fs.GetStatus(ino, out FileStatus status);
                if (r < 0) return r;
                if ((status.Mode & TypeMask) != TypeSymlink || !follow) return 0;
                if (links == Ext2FileSystem.MaxSymlinkLoops) return Errno.ELOOP;
                // The link's target, from the link's own directory, is the path to create or open.
                r = fs.ReadLink(ino, _linkTarget);
                if (r < 0) return r;
                current = new ReadOnlySpan<byte>(_linkTarget, 0, r);
                start = parent;
            }
        }

        private int Close(Ext2FileSystem fs, ushort source, ReadOnlySpan<byte> request)
        {
            if (!FileProtocol.ReadHandleRequest(request, false, out HandleRequest h)) return Errno.EBADMSG;
            int slot = Table.Find(source, h.Handle);
            if (slot < 0) return Errno.EBADF;
            return Release(fs, slot);
        }

        /// <summary>Frees a slot; the last handle on a file whose names are all gone deletes it.</summary>
        private int Release(Ext2FileSystem fs, int slot)
        {
            uint ino = Table.Close(slot);
            if (Table.IsPinned(ino)) return 0;
            int r = fs.ReleaseUnlinked(ino);
            if (r > 0) Dirty = true;
            return r < 0 ? r : 0;
        }

        private int Forget(Ext2FileSystem fs, ushort source, ReadOnlySpan<byte> request, Span<byte> reply, ref int replyLength)
        {
            if (request.Length != 0) return Errno.EBADMSG;
            uint closed = 0;
            int error = 0;
            for (int slot = Table.NextOf(source, 0); slot >= 0; slot = Table.NextOf(source, slot + 1))
            {
                int r = Release(fs, slot);
                if (r < 0 && error == 0) error = r;
                closed++;
            }
            if (error < 0) return error;
            RpcMessage.Put32(reply, 0, closed);
            replyLength = 4;
            return 0;
        }

        // ---- data ------------------------------------------------------------------------

        private int OpenSlot(ushort source, ReadOnlySpan<byte> request, bool withData, out HandleRequest h, out int slot)
        {
            slot = -1;
            if (!FileProtocol.ReadHandleRequest(request, withData, out h)) return Errno.EBADMSG;
            slot = Table.Find(source, h.Handle);
            return slot < 0 ? Errno.EBADF : 0;
        }

        private int Read(Ext2FileSystem fs, ushort source, ReadOnlySpan<byte> request, Span<byte> reply, ref int replyLength)
        {
            int r = OpenSlot(source, request, false, out HandleRequest h, out int slot);
            if (r < 0) return r;
            if (h.Arg > FileProtocol.MaxRead) return Errno.EBADMSG;
            if ((Table.FlagsOf(slot) & FileProtocol.O_ACCMODE) == FileProtocol.O_WRONLY) return Errno.EBADF;
            if (h.Value > MaxOffset) return Errno.EINVAL;
            r = fs.Read(Table.InodeOf(slot), h.Value, reply.Slice(0, (int)h.Arg));
            if (r < 0) return r;
            replyLength = r;
            return 0;
        }

        private int ReadPath(Ext2FileSystem fs, in PathRequest p, ReadOnlySpan<byte> path, Span<byte> reply, ref int replyLength)
        {
            if (p.Arg > FileProtocol.MaxRead) return Errno.EBADMSG;
            if (p.Value > MaxOffset) return Errno.EINVAL;
            // No handle and no base: the memory component names executables by absolute path.
            int r = fs.Lookup(Root, path, true, out uint ino);
            if (r < 0) return r;
            r = fs.Read(ino, p.Value, reply.Slice(0, (int)p.Arg));
            if (r < 0) return r;
            replyLength = r;
            return 0;
        }

        private int Write(Ext2FileSystem fs, ushort source, ReadOnlySpan<byte> request, Span<byte> reply, ref int replyLength)
        {
            int r = OpenSlot(source, request, true, out HandleRequest h, out int slot);
            if (r < 0) return r;
            if (h.Arg != 0) return Errno.EBADMSG;
            uint flags = Table.FlagsOf(slot);
            if ((flags & FileProtocol.O_ACCMODE) == FileProtocol.O_RDONLY) return Errno.EBADF;
            uint ino = Table.InodeOf(slot);
            ulong offset = h.Value;
            if ((flags & FileProtocol.O_APPEND) != 0)
            {
                r = fs.GetStatus(ino, out FileStatus status);
                if (r < 0) return r;
                offset = status.Size;
            }
            if (offset > MaxOffset) return Errno.EINVAL;
            ReadOnlySpan<byte> data = request.Slice(FileProtocol.HandleHeader);
            if (data.Length > 0)
            {
                r = fs.Write(ino, offset, data);
                if (r < 0) return r;
                Dirty = true;
            }
            else r = 0;
            replyLength = FileProtocol.WriteWriteReply(reply, (ulong)r, offset + (ulong)r);
            return 0;
        }

        private int Ftruncate(Ext2FileSystem fs, ushort source, ReadOnlySpan<byte> request)
        {
            int r = OpenSlot(source, request, false, out HandleRequest h, out int slot);
            if (r < 0) return r;
            // ftruncate(2): EINVAL (or EBADF) when fd is not open for writing; Linux says EINVAL.
            if ((Table.FlagsOf(slot) & FileProtocol.O_ACCMODE) == FileProtocol.O_RDONLY) return Errno.EINVAL;
            if (h.Value > MaxOffset) return Errno.EINVAL;
            r = fs.Truncate(Table.InodeOf(slot), h.Value);
            if (r < 0) return r;
            Dirty = true;
            return 0;
        }

        private int Truncate(Ext2FileSystem fs, ushort source, in PathRequest p, ReadOnlySpan<byte> path)
        {
            if (p.Arg != 0) return Errno.EBADMSG;
            if (p.Value > MaxOffset) return Errno.EINVAL;
            int r = Resolve(fs, source, p.Base, path, true, out uint ino);
            if (r < 0) return r;
            r = fs.Truncate(ino, p.Value);
            if (r < 0) return r;
            Dirty = true;
            return 0;
        }

        private int Fsync(ushort source, ReadOnlySpan<byte> request)
        {
            if (!FileProtocol.ReadHandleRequest(request, false, out HandleRequest h)) return Errno.EBADMSG;
            if ((h.Arg & ~FileProtocol.FsyncDataOnly) != 0) return Errno.EBADMSG;
            if (h.Handle != FileProtocol.NoHandle && Table.Find(source, h.Handle) < 0) return Errno.EBADF;
            // Every write already reached the disk in order; what is left is the superblock's
            // counts and the disk's own cache, which are the volume's, not the file's.
            return Sync();
        }

        // ---- attributes ------------------------------------------------------------------

        private int Fstat(Ext2FileSystem fs, ushort source, ReadOnlySpan<byte> request, Span<byte> reply, ref int replyLength)
        {
            int r = OpenSlot(source, request, false, out _, out int slot);
            if (r < 0) return r;
            return WriteStat(fs, Table.InodeOf(slot), reply, ref replyLength);
        }

        private int Stat(Ext2FileSystem fs, ushort source, in PathRequest p, ReadOnlySpan<byte> path, Span<byte> reply, ref int replyLength)
        {
            const uint known = FileProtocol.AT_SYMLINK_NOFOLLOW | FileProtocol.AT_EMPTY_PATH | 0x800; // 0x800: AT_NO_AUTOMOUNT
            if ((p.Arg & ~known) != 0) return Errno.EINVAL;
            uint ino;
            int r;
            if (path.Length == 0)
            {
                // fstatat(dirfd, "", AT_EMPTY_PATH): dirfd itself; without the flag, "" is -ENOENT.
                if ((p.Arg & FileProtocol.AT_EMPTY_PATH) == 0) return Errno.ENOENT;
                r = Start(source, p.Base, path, out ino);
            }
            else r = Resolve(fs, source, p.Base, path, (p.Arg & FileProtocol.AT_SYMLINK_NOFOLLOW) == 0, out ino);
            if (r < 0) return r;
            return WriteStat(fs, ino, reply, ref replyLength);
        }

        private int WriteStat(Ext2FileSystem fs, uint ino, Span<byte> reply, ref int replyLength)
        {
            int r = fs.GetStatus(ino, out FileStatus status);
            if (r < 0) return r;
            replyLength = LinuxStatLayout.WriteStat(reply, status, _device);
            return 0;
        }

        private int Statfs(Ext2FileSystem fs, ushort source, in PathRequest p, ReadOnlySpan<byte> path, Span<byte> reply, ref int replyLength)
        {
            if (p.Arg != 0 || p.Value != 0) return Errno.EBADMSG;
            uint ino;
            int r = path.Length == 0 ? Start(source, p.Base, path, out ino) : Resolve(fs, source, p.Base, path, true, out ino);
            if (r < 0) return r;
            r = fs.GetVolumeStatus(out VolumeStatus volume);
            if (r < 0) return r;
            replyLength = LinuxStatLayout.WriteStatfs(reply, volume, fs.ReadOnly);
            return 0;
        }

        private int Readlink(Ext2FileSystem fs, ushort source, in PathRequest p, ReadOnlySpan<byte> path, Span<byte> reply, ref int replyLength)
        {
            if (p.Value != 0) return Errno.EBADMSG;
            if (p.Arg == 0) return Errno.EINVAL;   // readlink(2): bufsiz is not positive
            int capacity = p.Arg > FileProtocol.MaxRead ? FileProtocol.MaxRead : (int)p.Arg;
            int r = Resolve(fs, source, p.Base, path, false, out uint ino);
            if (r < 0) return r;
            r = fs.ReadLink(ino, reply.Slice(0, capacity));
            if (r < 0) return r;
            replyLength = r;
            return 0;
        }

        private int Access(Ext2FileSystem fs, ushort source, in PathRequest p, ReadOnlySpan<byte> path)
        {
            uint mode = p.Arg;
            if ((mode & ~(FileProtocol.R_OK | FileProtocol.W_OK | FileProtocol.X_OK)) != 0) return Errno.EINVAL;
            if ((p.Value & ~(ulong)(FileProtocol.AT_SYMLINK_NOFOLLOW | FileProtocol.AT_EACCESS)) != 0) return Errno.EINVAL;
            int r = Resolve(fs, source, p.Base, path, (p.Value & FileProtocol.AT_SYMLINK_NOFOLLOW) == 0, out uint ino);
            if (r < 0) return r;
            r = fs.GetStatus(ino, out FileStatus status);
            if (r < 0) return r;
            uint type = status.Mode & TypeMask;
            // As for root (Linux's generic_permission with CAP_DAC_OVERRIDE): read and write are
            // always allowed, execute when any execute bit is set or for a directory.
            if ((mode & FileProtocol.W_OK) != 0 && fs.ReadOnly && (type == TypeRegular || type == TypeDirectory || type == TypeSymlink)) return Errno.EROFS;
            if ((mode & FileProtocol.X_OK) != 0 && type != TypeDirectory && (status.Mode & 0x49) == 0) return Errno.EACCES;
            return 0;
        }

        private int Getdents(Ext2FileSystem fs, ushort source, ReadOnlySpan<byte> request, Span<byte> reply, ref int replyLength)
        {
            int r = OpenSlot(source, request, false, out HandleRequest h, out int slot);
            if (r < 0) return r;
            uint ino = Table.InodeOf(slot);
            int capacity = h.Arg > FileProtocol.MaxDirents ? FileProtocol.MaxDirents : (int)h.Arg;
            r = fs.GetIdentity(ino, out _, out uint links);
            if (r < 0) return r;
            ulong next = h.Value;
            int filled = 0;
            // A directory removed while open lists nothing (Linux: its entries are gone).
            if (links > 0)
            {
                filled = fs.ReadDirectory(ino, h.Value, reply.Slice(FileProtocol.DirentsReplyHeader, capacity), out next);
                if (filled < 0) return filled;
            }
            RpcMessage.Put64(reply, 0, next);
            replyLength = FileProtocol.DirentsReplyHeader + filled;
            return 0;
        }

        // ---- names -----------------------------------------------------------------------

        private int Mkdir(Ext2FileSystem fs, ushort source, in PathRequest p, ReadOnlySpan<byte> path)
        {
            if (p.Value != 0) return Errno.EBADMSG;
            int r = Parent(fs, source, p.Base, path, out uint parent, out ReadOnlySpan<byte> name, out _);
            if (r < 0) return r;
            if (name.Length == 0) return Errno.EEXIST;   // mkdir("/")
            // mkdir(2): the mode is masked with S_IRWXUGO | S_ISVTX (the processor applied its umask).
            r = fs.MakeDirectory(parent, name, p.Arg & 0x3FF, 0, 0, out _);
            if (r < 0) return r;
            Dirty = true;
            return 0;
        }

        private int Unlink(Ext2FileSystem fs, ushort source, in PathRequest p, ReadOnlySpan<byte> path)
        {
            if (p.Value != 0) return Errno.EBADMSG;
            if ((p.Arg & ~FileProtocol.AT_REMOVEDIR) != 0) return Errno.EINVAL;
            bool directory = (p.Arg & FileProtocol.AT_REMOVEDIR) != 0;
            int r = Parent(fs, source, p.Base, path, out uint parent, out ReadOnlySpan<byte> name, out bool trailingSlash);
            if (r < 0) return r;
            if (name.Length == 0) return directory ? Errno.EBUSY : Errno.EISDIR;   // "/"
            if (!directory && trailingSlash)
            {
                // unlink("name/"): a directory is -EISDIR, anything else -ENOTDIR.
                r = fs.LookupName(parent, name, out uint target);
                if (r < 0) return r;
                r = fs.GetStatus(target, out FileStatus status);
                if (r < 0) return r;
                return (status.Mode & TypeMask) == TypeDirectory ? Errno.EISDIR : Errno.ENOTDIR;
            }
            r = directory ? fs.RemoveDirectory(parent, name) : fs.Unlink(parent, name);
            if (r < 0) return r;
            Dirty = true;
            return 0;
        }

        private int Rename(Ext2FileSystem fs, ushort source, in PathRequest p, ReadOnlySpan<byte> oldPath, ReadOnlySpan<byte> newPath)
        {
            if ((p.Arg & ~FileProtocol.RENAME_NOREPLACE) != 0) return Errno.EINVAL;
            if (p.Value > 0xFFFFFFFF) return Errno.EBADMSG;
            int r = Parent(fs, source, p.Base, oldPath, out uint oldParent, out ReadOnlySpan<byte> oldName, out bool oldSlash);
            if (r < 0) return r;
            r = Parent(fs, source, (uint)p.Value, newPath, out uint newParent, out ReadOnlySpan<byte> newName, out bool newSlash);
            if (r < 0) return r;
            if (oldName.Length == 0 || newName.Length == 0) return Errno.EBUSY;
            if (IsDotOrDotDot(oldName) || IsDotOrDotDot(newName)) return Errno.EBUSY;
            r = fs.LookupName(oldParent, oldName, out uint source1);
            if (r < 0) return r;
            if (oldSlash || newSlash)
            {
                // A trailing slash on either name is allowed only when a directory moves.
                r = fs.GetStatus(source1, out FileStatus status);
                if (r < 0) return r;
                if ((status.Mode & TypeMask) != TypeDirectory) return Errno.ENOTDIR;
            }
            r = fs.LookupName(newParent, newName, out uint replaced);
            if (r < 0 && r != Errno.ENOENT) return r;
            if (r == 0)
            {
                if ((p.Arg & FileProtocol.RENAME_NOREPLACE) != 0) return Errno.EEXIST;
                // The new name is the old one's directory or above it: Linux's lock_rename trap,
                // -ENOTEMPTY before any other check.
                if (replaced != source1)
                {
                    r = fs.IsAncestorOrSelf(replaced, oldParent);
                    if (r < 0) return r;
                    if (r == 1) return Errno.ENOTEMPTY;
                }
            }
            r = fs.Rename(oldParent, oldName, newParent, newName);
            if (r < 0) return r;
            Dirty = true;
            return 0;
        }

        private int Symlink(Ext2FileSystem fs, ushort source, in PathRequest p, ReadOnlySpan<byte> target, ReadOnlySpan<byte> path)
        {
            if (p.Arg != 0 || p.Value != 0) return Errno.EBADMSG;
            int r = Parent(fs, source, p.Base, path, out uint parent, out ReadOnlySpan<byte> name, out bool trailingSlash);
            if (r < 0) return r;
            if (name.Length == 0) return Errno.EEXIST;
            if (trailingSlash)
            {
                r = fs.LookupName(parent, name, out _);
                return r == 0 ? Errno.EEXIST : r == Errno.ENOENT ? Errno.ENOENT : r;
            }
            r = fs.MakeSymlink(parent, name, target, 0, 0, out _);
            if (r < 0) return r;
            Dirty = true;
            return 0;
        }

        private int Link(Ext2FileSystem fs, ushort source, in PathRequest p, ReadOnlySpan<byte> oldPath, ReadOnlySpan<byte> newPath)
        {
            if ((p.Arg & ~FileProtocol.AT_SYMLINK_FOLLOW) != 0) return Errno.EINVAL;
            if (p.Value > 0xFFFFFFFF) return Errno.EBADMSG;
            // linkat(2) does not follow a final symlink unless AT_SYMLINK_FOLLOW.
            int r = Resolve(fs, source, p.Base, oldPath, (p.Arg & FileProtocol.AT_SYMLINK_FOLLOW) != 0, out uint target);
            if (r < 0) return r;
            r = Parent(fs, source, (uint)p.Value, newPath, out uint parent, out ReadOnlySpan<byte> name, out bool trailingSlash);
            if (r < 0) return r;
            if (name.Length == 0) return Errno.EEXIST;
            if (trailingSlash)
            {
                r = fs.LookupName(parent, name, out _);
                return r == 0 ? Errno.EEXIST : r;
            }
            r = fs.Link(parent, name, target);
            if (r < 0) return r;
            Dirty = true;
            return 0;
        }
    }

    /// <summary>One file opcode's entry in the RPC endpoint's handler table.</summary>
    public sealed class FileRequestHandler : RpcHandler
    {
        private readonly FileService _service;
        private readonly ushort _opcode;

        public FileRequestHandler(FileService service, ushort opcode)
        {
            _service = service;
            _opcode = opcode;
        }

        public override int Handle(ushort source, ReadOnlySpan<byte> request, Span<byte> reply, out int replyLength) =>
            _service.Handle(_opcode, source, request, reply, out replyLength);
    }
}
