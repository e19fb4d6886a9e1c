// Feature flags (Poirier §3.1 s_feature_compat / s_feature_incompat / s_feature_ro_compat;
// ext2.rst "Feature Compatibility"; bit values as e2fsprogs' lib/ext2fs/ext2_fs.h names them)
// and the policy for which ones this implementation mounts:
//
//   INCOMPAT  (cannot even be read without understanding them): only `filetype` is
//             supported. Anything else (compression, recover/journal_dev, meta_bg, extents,
//             64bit, flex_bg, inline_data, ...) refuses the mount, naming the features.
//   RO_COMPAT (readable by anyone, writable only by who understands them): `sparse_super`
//             and `large_file` are supported. Others (huge_file, gdt_csum, dir_nlink,
//             extra_isize, metadata_csum, bigalloc, ...) refuse a read-write mount; a
//             read-only mount is allowed.
//   COMPAT    (an implementation that ignores them cannot damage the file system): all are
//             accepted, with these notes:
//               has_journal  refused anyway: a journal must be replayed and kept up to date,
//                            which this implementation does not do (Tessera's ext2 has no
//                            journal: durability comes from write ordering).
//               ext_attr     existing extended-attribute blocks are kept, and released
//                            (reference count dropped) when their inode is deleted.
//               resize_inode inode 7 and the reserved GDT blocks it owns are never touched.
//               dir_index    hashed directories are read and written as linear ones (their
//                            index blocks look like empty directory blocks by design); a
//                            directory we modify has its index flag cleared, as e2fsck expects.
//
// mke2fs 1.47's defaults for `-t ext2` (sparse_super, large_file, filetype, resize_inode,
// dir_index, ext_attr) are all accepted; docs/storage-ext2.md gives the command line.
namespace Tessera.Storage.Ext2
{
    public static class Ext2Features
    {
        // COMPAT
        public const uint DirPrealloc = 0x1;
        public const uint ImagicInodes = 0x2;
        public const uint HasJournal = 0x4;
        public const uint ExtAttr = 0x8;
        public const uint ResizeInode = 0x10;
        public const uint DirIndex = 0x20;
        public const uint SparseSuper2 = 0x200;

        // INCOMPAT
        public const uint Compression = 0x1;
        public const uint FileType = 0x2;

        // RO_COMPAT
        public const uint SparseSuper = 0x1;
        public const uint LargeFile = 0x2;

        public const uint SupportedIncompat = FileType;
        public const uint SupportedRoCompat = SparseSuper | LargeFile;

        /// <summary>
        /// Whether a file system with these features can be mounted (read-only or not); when it
        /// cannot, reason names the offending features, e.g. "unsupported incompatible features: extents 64bit".
        /// </summary>
        public static bool CanMount(uint compat, uint incompat, uint roCompat, bool readOnly, out string reason)
        {
            reason = "";
            uint badIncompat = incompat & ~SupportedIncompat;
            if (badIncompat != 0)
            {
                reason = "unsupported incompatible features:" + Names(badIncompat, 1);
                return false;
            }
            if ((compat & HasJournal) != 0)
            {
                reason = "has_journal: this ext2 implementation does not replay or keep a journal";
                return false;
            }
            uint badRo = roCompat & ~SupportedRoCompat;
            if (badRo != 0 && !readOnly)
            {
                reason = "unsupported read-only-compatible features (mount read-only to read it):" + Names(badRo, 2);
                return false;
            }
            return true;
        }

        /// <summary>" name name ..." for each set bit; kind 0 = COMPAT, 1 = INCOMPAT, 2 = RO_COMPAT.</summary>
        public static string Names(uint bits, int kind)
        {
            string s = "";
            for (int i = 0; i < 32; i++)
            {
                uint bit = 1u << i;
                if ((bits & bit) == 0) continue;
                string? name = kind == 0 ? CompatName(bit) : kind == 1 ? IncompatName(bit) : RoCompatName(bit);
                s = s + " " + (name ?? "unknown(" + ReasonText.Hex(bit) + ")");
            }
            return s;
        }

        private static string? CompatName(uint bit)
        {
            switch (bit)
            {
                case 0x1: return "dir_prealloc";
                case 0x2: return "imagic_inodes";
                case 0x4: return "has_journal";
                case 0x8: return "ext_attr";
                case 0x10: return "resize_inode";
                case 0x20: return "dir_index";
                case 0x40: return "lazy_bg";
                case 0x200: return "sparse_super2";
                case 0x400: return "fast_commit";
                case 0x800: return "stable_inodes";
                case 0x1000: return "orphan_file";
                default: return null;
            }
        }

        private static string? IncompatName(uint bit)
        {
            switch (bit)
            {
                case 0x1: return "compression";
                case 0x2: return "filetype";
                case 0x4: return "needs_recovery";
                case 0x8: return "journal_dev";
                case 0x10: return "meta_bg";
                case 0x40: return "extent";
                case 0x80: return "64bit";
                case 0x100: return "mmp";
                case 0x200: return "flex_bg";
                case 0x400: return "ea_inode";
                case 0x1000: return "dirdata";
                case 0x2000: return "metadata_csum_seed";
                case 0x4000: return "large_dir";
                case 0x8000: return "inline_data";
                case 0x10000: return "encrypt";
                case 0x20000: return "casefold";
                default: return null;
            }
        }

        private static string? RoCompatName(uint bit)
        {
            switch (bit)
            {
                case 0x1: return "sparse_super";
                case 0x2: return "large_file";
                case 0x4: return "btree_dir";
                case 0x8: return "huge_file";
                case 0x10: return "uninit_bg";
                case 0x20: return "dir_nlink";
                case 0x40: return "extra_isize";
                case 0x80: return "snapshot";
                case 0x100: return "quota";
                case 0x200: return "bigalloc";
                case 0x400: return "metadata_csum";
                case 0x800: return "replica";
                case 0x1000: return "read-only";
                case 0x2000: return "project";
                case 0x4000: return "shared_blocks";
                case 0x8000: return "verity";
                case 0x10000: return "orphan_present";
                default: return null;
            }
        }
    }
}
