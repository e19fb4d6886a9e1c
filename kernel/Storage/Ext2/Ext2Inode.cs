// An inode as the file system works on it: the fields of the on-disk structure that this
// implementation reads or changes (Poirier §3.5 Inode Table, table "Inode Structure";
// ext2.rst "Inodes"). A struct, passed by reference, so no operation allocates; Store writes
// back only these fields, so whatever else the slot holds (osd1, i_faddr, the large-inode
// tail beyond byte 128) is preserved.
//
// Block holds i_block[15]: 12 direct pointers, then the indirect, doubly- and triply-indirect
// pointers (ext2.rst "Inodes"). For a fast symlink (target shorter than 60 bytes, no data
// block) the same 60 bytes hold the target text (ext2.rst "Special files").
using System;

namespace Tessera.Storage.Ext2
{
    public unsafe struct Ext2Inode
    {
        public const int DirectBlocks = 12;
        public const int IndirectSlot = 12;
        public const int DoubleIndirectSlot = 13;
        public const int TripleIndirectSlot = 14;
        public const int BlockSlots = 15;
        public const int InlineBytes = BlockSlots * 4;
        public const ushort MaxLinks = 32000;   // EXT2_LINK_MAX

        // i_flags bits we act on.
        public const uint IndexFlag = 0x1000;   // EXT2_INDEX_FL: hashed directory (dir_index)

        // i_mode type bits (Poirier §3.5 i_mode, "Defined i_mode values").
        public const ushort TypeMask = 0xF000;
        public const ushort TypeSocket = 0xC000;
        public const ushort TypeSymlink = 0xA000;
        public const ushort TypeRegular = 0x8000;
        public const ushort TypeBlockDevice = 0x6000;
        public const ushort TypeDirectory = 0x4000;
        public const ushort TypeCharDevice = 0x2000;
        public const ushort TypeFifo = 0x1000;

        public uint Number;
        public ushort Mode;
        public uint Uid;
        public uint Gid;
        public ulong Size;
        public uint AccessTime;
        public uint ChangeTime;
        public uint ModifyTime;
        public uint DeleteTime;
        public ushort Links;
        /// <summary>i_blocks: 512-byte units of every block the inode owns (data, indirect, xattr).</summary>
        public uint Sectors;
        public uint Flags;
        public fixed uint Block[BlockSlots];
        public uint Generation;
        public uint FileAcl;
        /// <summary>i_dir_acl of a non-regular file, kept as found (for regular files the same field is i_size_high).</summary>
        public uint DirAcl;

        /// <summary>i_block[slot].</summary>
        public uint BlockPointer(int slot) => Block[slot];
        public void SetBlockPointer(int slot, uint block) => Block[slot] = block;

        public ushort Type => (ushort)(Mode & TypeMask);
        public bool IsDirectory => Type == TypeDirectory;
        public bool IsRegular => Type == TypeRegular;
        public bool IsSymlink => Type == TypeSymlink;

        /// <summary>Parses the first 128 bytes of an inode slot; number is the inode's number.</summary>
        public void Load(uint number, ReadOnlySpan<byte> raw)
        {
            Number = number;
            Mode = LittleEndian.U16(raw, 0);
            Uid = LittleEndian.U16(raw, 2) | (uint)LittleEndian.U16(raw, 120) << 16;   // l_i_uid_high (osd2)
            uint sizeLow = LittleEndian.U32(raw, 4);
            AccessTime = LittleEndian.U32(raw, 8);
            ChangeTime = LittleEndian.U32(raw, 12);
            ModifyTime = LittleEndian.U32(raw, 16);
            DeleteTime = LittleEndian.U32(raw, 20);
            Gid = LittleEndian.U16(raw, 24) | (uint)LittleEndian.U16(raw, 122) << 16;  // l_i_gid_high
            Links = LittleEndian.U16(raw, 26);
            Sectors = LittleEndian.U32(raw, 28);
            Flags = LittleEndian.U32(raw, 32);
            for (int i = 0; i < BlockSlots; i++) Block[i] = LittleEndian.U32(raw, 40 + 4 * i);
            Generation = LittleEndian.U32(raw, 100);
            FileAcl = LittleEndian.U32(raw, 104);
            uint high = LittleEndian.U32(raw, 108);
            // Revision 1 reuses i_dir_acl as i_size_high for regular files (large_file; ext2.rst "Inodes").
            if (IsRegular) { Size = sizeLow | (ulong)high << 32; DirAcl = 0; }
            else { Size = sizeLow; DirAcl = high; }
        }

        /// <summary>Writes the fields back into the first 128 bytes of the slot.</summary>
        public void Store(Span<byte> raw)
        {
            LittleEndian.Put16(raw, 0, Mode);
            LittleEndian.Put16(raw, 2, Uid & 0xFFFF);
            LittleEndian.Put32(raw, 4, (uint)Size);
            LittleEndian.Put32(raw, 8, AccessTime);
            LittleEndian.Put32(raw, 12, ChangeTime);
            LittleEndian.Put32(raw, 16, ModifyTime);
            LittleEndian.Put32(raw, 20, DeleteTime);
            LittleEndian.Put16(raw, 24, Gid & 0xFFFF);
            LittleEndian.Put16(raw, 26, Links);
            LittleEndian.Put32(raw, 28, Sectors);
            LittleEndian.Put32(raw, 32, Flags);
            for (int i = 0; i < BlockSlots; i++) LittleEndian.Put32(raw, 40 + 4 * i, Block[i]);
            LittleEndian.Put32(raw, 100, Generation);
            LittleEndian.Put32(raw, 104, FileAcl);
            LittleEndian.Put32(raw, 108, IsRegular ? (uint)(Size >> 32) : DirAcl);
            LittleEndian.Put16(raw, 120, Uid >> 16);
            LittleEndian.Put16(raw, 122, Gid >> 16);
        }

        /// <summary>Byte i of the 60-byte i_block area (a fast symlink's text).</summary>
        public byte InlineByte(int i) => (byte)(Block[i >> 2] >> ((i & 3) * 8));

        public void SetInline(ReadOnlySpan<byte> text)
        {
            for (int i = 0; i < BlockSlots; i++) Block[i] = 0;
            for (int i = 0; i < text.Length && i < InlineBytes; i++) Block[i >> 2] |= (uint)text[i] << ((i & 3) * 8);
        }

        /// <summary>The ext2 directory-entry file type for this inode's mode (ext2.rst "Directories").</summary>
        public byte DirectoryEntryType => Ext2DirectoryEntry.TypeFromMode(Mode);
    }
}
