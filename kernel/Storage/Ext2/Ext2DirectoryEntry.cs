// Linked-list directory entries (Poirier §4.1 Linked List Directory; ext2.rst "Directories"):
//
//   off size
//    0   4   inode      0 = unused entry
//    4   2   rec_len    distance to the next entry; entries of a block chain to its end
//    6   1   name_len   (without the filetype feature: bits 0-15 of a 16-bit name_len)
//    7   1   file_type  (filetype feature, INCOMPAT: 1 regular, 2 directory, 3 char device,
//                        4 block device, 5 fifo, 6 socket, 7 symlink)
//    8   n   name       not NUL-terminated, padded so rec_len is a multiple of 4
//
// An entry never crosses a block; a block's entries' rec_lens add up to the block size.
// A deleted entry is merged into the one before it in its block (its rec_len grows), or,
// when it is the first of its block, kept as an unused entry (inode 0).
using System;

namespace Tessera.Storage.Ext2
{
    internal static class Ext2DirectoryEntry
    {
        public const int HeaderSize = 8;
        public const int MaxNameLength = 255;

        public const byte TypeUnknown = 0;
        public const byte TypeRegular = 1;
        public const byte TypeDirectory = 2;
        public const byte TypeCharDevice = 3;
        public const byte TypeBlockDevice = 4;
        public const byte TypeFifo = 5;
        public const byte TypeSocket = 6;
        public const byte TypeSymlink = 7;

        /// <summary>Bytes an entry with a name of this length needs: header + name, rounded up to 4.</summary>
        public static int RecordLength(int nameLength) => (HeaderSize + nameLength + 3) & ~3;

        public static uint Inode(ReadOnlySpan<byte> block, int at) => LittleEndian.U32(block, at);
        public static int RecLen(ReadOnlySpan<byte> block, int at) => LittleEndian.U16(block, at + 4);

        public static int NameLength(ReadOnlySpan<byte> block, int at, bool fileTypeFeature) =>
            fileTypeFeature ? block[at + 6] : LittleEndian.U16(block, at + 6);

        public static byte FileType(ReadOnlySpan<byte> block, int at, bool fileTypeFeature) =>
            fileTypeFeature ? block[at + 7] : TypeUnknown;

        /// <summary>
        /// Whether the entry at `at` is well formed inside a block of blockSize bytes: rec_len
        /// a multiple of 4, at least a header, inside the block, large enough for its name, and
        /// an inode number no larger than inodesCount. A damaged directory gives -EIO, never a
        /// read past the block.
        /// </summary>
        public static bool IsValid(ReadOnlySpan<byte> block, int at, int blockSize, bool fileTypeFeature, uint inodesCount)
        {
            if (at + HeaderSize > blockSize) return false;
            int recLen = RecLen(block, at);
            if (recLen < HeaderSize || (recLen & 3) != 0 || at + recLen > blockSize) return false;
            uint inode = Inode(block, at);
            if (inode == 0) return true;
            if (inode > inodesCount) return false;
            int nameLength = NameLength(block, at, fileTypeFeature);
            return nameLength > 0 && HeaderSize + nameLength <= recLen;
        }

        public static void Write(Span<byte> block, int at, uint inode, int recLen, ReadOnlySpan<byte> name, byte fileType, bool fileTypeFeature)
        {
            LittleEndian.Put32(block, at, inode);
            LittleEndian.Put16(block, at + 4, (uint)recLen);
            block[at + 6] = (byte)name.Length;
            block[at + 7] = fileTypeFeature ? fileType : (byte)0;
            for (int i = 0; i < name.Length; i++) block[at + HeaderSize + i] = name[i];
            // Zero the padding after the name, so a block never carries stale bytes in it.
            int end = at + RecordLength(name.Length);
            for (int i = at + HeaderSize + name.Length; i < end; i++) block[i] = 0;
        }

        public static bool NameEquals(ReadOnlySpan<byte> block, int at, int nameLength, ReadOnlySpan<byte> name)
        {
            if (nameLength != name.Length) return false;
            for (int i = 0; i < nameLength; i++) if (block[at + HeaderSize + i] != name[i]) return false;
            return true;
        }

        public static byte TypeFromMode(ushort mode)
        {
            switch (mode & Ext2Inode.TypeMask)
            {
                case Ext2Inode.TypeRegular: return TypeRegular;
                case Ext2Inode.TypeDirectory: return TypeDirectory;
                case Ext2Inode.TypeCharDevice: return TypeCharDevice;
                case Ext2Inode.TypeBlockDevice: return TypeBlockDevice;
                case Ext2Inode.TypeFifo: return TypeFifo;
                case Ext2Inode.TypeSocket: return TypeSocket;
                case Ext2Inode.TypeSymlink: return TypeSymlink;
                default: return TypeUnknown;
            }
        }

        /// <summary>The getdents64 d_type (DT_* in include/linux/fs_types.h) for an ext2 file type.</summary>
        public static byte LinuxDirentType(byte ext2Type)
        {
            switch (ext2Type)
            {
                case TypeRegular: return 8;      // DT_REG
                case TypeDirectory: return 4;    // DT_DIR
                case TypeCharDevice: return 2;   // DT_CHR
                case TypeBlockDevice: return 6;  // DT_BLK
                case TypeFifo: return 1;         // DT_FIFO
                case TypeSocket: return 12;      // DT_SOCK
                case TypeSymlink: return 10;     // DT_LNK
                default: return 0;               // DT_UNKNOWN
            }
        }
    }
}
