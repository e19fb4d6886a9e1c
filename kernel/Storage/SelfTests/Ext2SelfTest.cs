// The ext2 file system running inside the storage kernel, on a RAM disk it formats itself:
// the same code the host tests check against e2fsprogs, here checked under the kernel's own
// runtime (no BCL, no exceptions, the kernel heap). The virtio-blk path is the rig tests'.
using System;
using Tessera.Core;
using Tessera.Storage.Ext2;

namespace Tessera.Storage
{
    /// <summary>A clock for the self-test: no wall clock is needed to check the file system.</summary>
    internal sealed class FixedClock : FileSystemClock
    {
        public override uint UnixSeconds() => 1700000000;
    }

    internal sealed class Ext2SelfTest : SelfTestCase
    {
        public override string Name => "storage.ext2";

        public override string? Run()
        {
            var disk = new MemoryBlockDevice(new byte[512 * 1024]);
            var clock = new FixedClock();
            byte[] uuid = new byte[16];
            for (int i = 0; i < uuid.Length; i++) uuid[i] = (byte)(0x40 + i);
            if (Ext2Formatter.Format(disk, clock, 1024, 4096, uuid, out string reason) != 0) return reason;
            if (Ext2FileSystem.Mount(disk, clock, false, out Ext2FileSystem? mounted, out reason) != 0) return reason;
            Ext2FileSystem fs = mounted!;
            uint root = Ext2FileSystem.RootInode;
            uint freeBlocks = fs.FreeBlocks;

            if (fs.MakeDirectory(root, "docs"u8, 0x1ED, 0, 0, out uint dir) != 0) return "mkdir failed";
            if (fs.Create(dir, "notes"u8, 0x1A4, 0, 0, out uint file) != 0) return "create failed";
            // 20 KiB: direct and indirect blocks; then 4 bytes in the doubly-indirect range.
            byte[] data = new byte[20 * 1024];
            for (int i = 0; i < data.Length; i++) data[i] = (byte)(i * 7 + i / 1024);
            if (fs.Write(file, 0, data) != data.Length) return "write failed";
            if (fs.Write(file, 300 * 1024, "tail"u8) != 4) return "write into the doubly-indirect range failed";
            byte[] back = new byte[data.Length];
            if (fs.Read(file, 0, back) != back.Length) return "read failed";
            for (int i = 0; i < data.Length; i++) if (back[i] != data[i]) return "read back other bytes";
            byte[] hole = new byte[8];
            if (fs.Read(file, 100 * 1024, hole) != hole.Length) return "read in a hole failed";
            for (int i = 0; i < hole.Length; i++) if (hole[i] != 0) return "a hole did not read as zeros";

            if (fs.Lookup(root, "/docs/../docs/notes"u8, true, out uint found) != 0 || found != file) return "path lookup failed";
            if (fs.Rename(dir, "notes"u8, root, "renamed"u8) != 0) return "rename failed";
            if (CountEntries(fs, root) != 5) return "getdents64 of / did not give 5 entries";
            if (fs.RemoveDirectory(root, "docs"u8) != 0) return "rmdir failed";
            if (fs.Truncate(file, 5000) != 0) return "truncate failed";
            if (fs.GetStatus(file, out FileStatus status) != 0 || status.Size != 5000 || status.Blocks != 10) return "stat after truncate is wrong";
            if (fs.Unmount() != 0) return "unmount failed";

            // Mounted again, read-only: the file is where it was renamed to, with its bytes.
            if (Ext2FileSystem.Mount(disk, clock, true, out mounted, out reason) != 0) return reason;
            fs = mounted!;
            if (fs.Lookup(root, "/renamed"u8, true, out found) != 0 || found != file) return "renamed file not found after remount";
            if (fs.Read(file, 0, back) != 5000) return "read after remount failed";
            for (int i = 0; i < 5000; i++) if (back[i] != data[i]) return "read other bytes after remount";
            if (fs.Unlink(root, "renamed"u8) != Errno.EROFS) return "a read-only mount accepted unlink";
            if (fs.FreeBlocks != freeBlocks - 5) return "free block count is wrong";
            return null;
        }

        private static int CountEntries(Ext2FileSystem fs, uint dir)
        {
            byte[] buffer = new byte[1024];
            ulong position = 0;
            int count = 0;
            while (true)
            {
                int n = fs.ReadDirectory(dir, position, buffer, out ulong next);
                if (n <= 0) return n < 0 ? -1 : count;
                for (int at = 0; at < n; at += buffer[at + 16] | buffer[at + 17] << 8) count++;
                position = next;
            }
        }
    }
}
