// Path lookup, as Linux's path walk does it (path_resolution(7)): components separated by
// one or more '/'; an absolute path starts at the root, a relative one at the directory the
// caller gives (the process's working directory or an openat dirfd, both the RPC server's);
// "." stays, ".." goes to the parent and at the root stays at the root; every component but
// the last must be a directory (-ENOTDIR); a component longer than 255 bytes is
// -ENAMETOOLONG, and so is a path of PATH_MAX (4096) bytes or more. Symbolic links met
// before the last component are followed, the last one only when asked (stat vs lstat) or
// when the path ends in '/'; a relative target continues from the link's directory, an
// absolute one from the root; more than 40 links is -ELOOP. The path text is copied into a
// buffer of the file system so a link's target can be spliced in without allocating.
using System;

namespace Tessera.Storage.Ext2
{
    public sealed partial class Ext2FileSystem
    {
        /// <summary>Resolves path from directory start (ignored for absolute paths) to an inode.</summary>
        public int Lookup(uint start, ReadOnlySpan<byte> path, bool followLast, out uint inode)
        {
            inode = 0;
            if (path.Length == 0) return Errno.ENOENT;
            if (path.Length >= MaxPathLength) return Errno.ENAMETOOLONG;
            path.CopyTo(_pathBuffer);
            return Resolve(start, path.Length, followLast, out inode);
        }

        /// <summary>
        /// Splits path into the directory that holds its last component and that component's
        /// name, which is path.Slice(nameStart, nameLength); trailing slashes are not part of it
        /// (trailingSlash tells they were there). The parent is resolved and checked to be a
        /// directory; the name is not looked up. A path that is only slashes gives the root and
        /// an empty name; a name of "." or ".." is returned as is, for the caller to refuse.
        /// </summary>
        public int LookupParent(uint start, ReadOnlySpan<byte> path, out uint parent, out int nameStart, out int nameLength, out bool trailingSlash)
        {
            parent = 0;
            nameStart = 0;
            nameLength = 0;
            trailingSlash = false;
            if (path.Length == 0) return Errno.ENOENT;
            if (path.Length >= MaxPathLength) return Errno.ENAMETOOLONG;
            int end = path.Length;
            while (end > 0 && path[end - 1] == (byte)'/') end--;
            trailingSlash = end < path.Length;
            if (end == 0)
            {
                parent = RootInode;
                return 0;
            }
            int begin = end;
            while (begin > 0 && path[begin - 1] != (byte)'/') begin--;
            nameStart = begin;
            nameLength = end - begin;
            if (nameLength > Ext2DirectoryEntry.MaxNameLength) return Errno.ENAMETOOLONG;
            int r;
            if (begin == 0)
            {
                parent = start;
                Ext2Inode dir = default;
                r = ReadInode(parent, ref dir);
                if (r < 0) return r;
                return dir.IsDirectory ? 0 : Errno.ENOTDIR;
            }
            // The parent's path keeps its trailing '/', which makes Resolve insist on a directory.
            path.Slice(0, begin).CopyTo(_pathBuffer);
            return Resolve(start, begin, true, out parent);
        }

        private static bool IsDot(ReadOnlySpan<byte> name) => name.Length == 1 && name[0] == (byte)'.';
        private static bool IsDotDot(ReadOnlySpan<byte> name) => name.Length == 2 && name[0] == (byte)'.' && name[1] == (byte)'.';

        /// <summary>Walks the `length` bytes of path text in _pathBuffer from start.</summary>
        private int Resolve(uint start, int length, bool followLast, out uint result)
        {
            result = 0;
            uint current = _pathBuffer[0] == (byte)'/' ? RootInode : start;
            int position = 0;
            int links = 0;
            Ext2Inode dir = default;
            Ext2Inode child = default;
            while (true)
            {
                while (position < length && _pathBuffer[position] == (byte)'/') position++;
                if (position == length)
                {
                    result = current;
                    return 0;
                }
                int nameStart = position;
                while (position < length && _pathBuffer[position] != (byte)'/') position++;
                int nameLength = position - nameStart;
                if (nameLength > Ext2DirectoryEntry.MaxNameLength) return Errno.ENAMETOOLONG;
                int rest = position;
                while (rest < length && _pathBuffer[rest] == (byte)'/') rest++;
                bool last = rest == length;
                bool mustBeDirectory = !last || position < length;   // more components, or a trailing '/'

                int r = ReadInode(current, ref dir);
                if (r < 0) return r;
                if (!dir.IsDirectory) return Errno.ENOTDIR;
                ReadOnlySpan<byte> name = new ReadOnlySpan<byte>(_pathBuffer, nameStart, nameLength);
                if (IsDot(name) || (IsDotDot(name) && current == RootInode)) continue;
                r = FindEntry(ref dir, name, out EntryLocation location);
                if (r < 0) return r;
                uint next = location.Inode;
                if (last && !followLast && !mustBeDirectory)
                {
                    result = next;
                    return 0;
                }
                r = ReadInode(next, ref child);
                if (r < 0) return r;
                if (child.IsSymlink)
                {
                    if (++links > MaxSymlinkLoops) return Errno.ELOOP;
                    int targetLength = ReadLinkText(ref child, _linkText);
                    if (targetLength < 0) return targetLength;
                    if (targetLength == 0) return Errno.ENOENT;
                    // New path text: the target, then what followed the link's name.
                    int tail = length - position;
                    if (targetLength + tail >= MaxPathLength) return Errno.ENAMETOOLONG;
                    new ReadOnlySpan<byte>(_linkText, 0, targetLength).CopyTo(_pathSpare);
                    new ReadOnlySpan<byte>(_pathBuffer, position, tail).CopyTo(new Span<byte>(_pathSpare, targetLength, tail));
                    byte[] swap = _pathBuffer;
                    _pathBuffer = _pathSpare;
                    _pathSpare = swap;
                    length = targetLength + tail;
                    position = 0;
                    if (_pathBuffer[0] == (byte)'/') current = RootInode;
                    continue;   // relative targets go on from `current`, the link's directory
                }
                if (mustBeDirectory && !child.IsDirectory) return Errno.ENOTDIR;
                current = next;
            }
        }
    }
}
