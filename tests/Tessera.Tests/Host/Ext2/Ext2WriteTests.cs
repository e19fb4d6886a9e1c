using Tessera.Storage;
using Tessera.Storage.Ext2;
using Xunit;
using static Tessera.Tests.Host.Ext2.Ext2ReadTests;

namespace Tessera.Tests.Host.Ext2;

/// <summary>
/// Writing: files through every block-map range, unaligned writes, holes, truncation both
/// ways. After each scenario the image is unmounted, e2fsck -fn must find it clean, and
/// debugfs (e2fsprogs' own reader) must see the bytes that were written.
/// </summary>
public sealed class Ext2WriteTests
{
    [Theory]
    [InlineData(1024)]
    [InlineData(4096)]
    public async Task WrittenFilesAreWhatDebugfsReadsAndTheImageIsClean(int blockSize)
    {
        using var scratch = new Ext2Scratch();
        await scratch.MakeAsync(32L << 20, blockSize);
        var fs = scratch.Mount();
        long p = blockSize / 4;
        var expected = new Dictionary<string, byte[]>();

        Assert.Equal(0, fs.Mkdir("/a"));
        Assert.Equal(0, fs.Mkdir("/a/b"));
        foreach (var (name, size, seed) in new[]
        {
            ("/empty", 0, 1), ("/one", 1, 2), ("/a/small", 5000, 3), ("/a/b/twelve", 12 * blockSize, 4),
            ("/a/b/thirteen", 12 * blockSize + 1, 5), ("/double", (int)((12 + p + 2 * p + 5) * blockSize + 77), 6),
        })
        {
            expected[name] = RandomBytes(seed, size);
            fs.WriteFile(name, expected[name]);
        }

        // Unaligned overwrites and extensions, in pieces that cross block boundaries.
        var grown = RandomBytes(7, 3 * blockSize + 10);
        Assert.Equal(0, fs.CreateFile("/grown"));
        uint grownIno = fs.Ino("/grown");
        for (int at = 0; at < grown.Length; at += 333)
        {
            int n = Math.Min(333, grown.Length - at);
            Assert.Equal(n, fs.Write(grownIno, (ulong)at, grown.AsSpan(at, n)));
        }
        var patch = RandomBytes(8, blockSize + 3);
        Assert.Equal(patch.Length, fs.WriteAt("/grown", (ulong)blockSize - 1, patch));
        patch.CopyTo(grown, blockSize - 1);
        expected["/grown"] = grown;

        // A file with holes: data after a gap, then into the hole.
        var holes = new byte[20 * blockSize + 5];
        var tail = RandomBytes(9, 5);
        tail.CopyTo(holes, 20 * blockSize);
        Assert.Equal(0, fs.CreateFile("/holes"));
        Assert.Equal(5, fs.WriteAt("/holes", 20UL * (ulong)blockSize, tail));
        var middle = RandomBytes(10, 100);
        Assert.Equal(100, fs.WriteAt("/holes", 7UL * (ulong)blockSize + 50, middle));
        middle.CopyTo(holes, 7 * blockSize + 50);
        expected["/holes"] = holes;
        Assert.Equal((ulong)(3 * blockSize / 512), fs.Stat("/holes").Blocks);   // two data blocks and an indirect one

        // Into the triply-indirect range (a sparse file; with 4 KiB blocks past 4 GiB: i_size_high).
        long triple = TripleIndirectStart(blockSize);
        var far = RandomBytes(11, 2 * blockSize + 1);
        Assert.Equal(0, fs.CreateFile("/far"));
        Assert.Equal(far.Length, fs.WriteAt("/far", (ulong)(triple + 3 * blockSize - 1), far));
        // Data + its indirect, doubly- and triply-indirect blocks: 3 + 3 (the write crosses into a third block).
        Assert.Equal((ulong)(6 * blockSize / 512), fs.Stat("/far").Blocks);

        await scratch.UnmountAndCheckAsync(fs);
        foreach (var (name, data) in expected)
        {
            byte[] seen = await E2fsprogs.CatAsync(scratch.Image, name);
            Assert.True(data.SequenceEqual(seen), $"debugfs sees other bytes in {name}");
        }
        var stat = await E2fsprogs.DebugfsAsync(scratch.Image, "stat /far");
        Assert.Contains($"Size: {triple + 3 * blockSize - 1 + far.Length}", stat.Output);
        Assert.Contains("(TIND)", stat.Output);

        // Mounted again: the same bytes through our reader.
        fs = scratch.Mount(readOnly: true);
        foreach (var (name, data) in expected) Assert.True(data.AsSpan().SequenceEqual(fs.ReadAll(name, 4000)), name);
        var back = new byte[far.Length + 2];
        Assert.Equal(far.Length + 1, fs.Read(fs.Ino("/far"), (ulong)(triple + 3 * blockSize - 2), back));
        Assert.Equal(0, back[0]);
        Assert.True(far.AsSpan().SequenceEqual(back.AsSpan(1, far.Length)));
    }

    [Theory]
    [InlineData(1024)]
    [InlineData(4096)]
    public async Task TruncateFreesEveryBlockItReleasesIncludingIndirectOnes(int blockSize)
    {
        using var scratch = new Ext2Scratch();
        await scratch.MakeAsync(32L << 20, blockSize);
        var fs = scratch.Mount();
        uint freeAtStart = fs.FreeBlocks;
        long p = blockSize / 4;
        long single = 12 * blockSize, dbl = (12 + p) * (long)blockSize, triple = TripleIndirectStart(blockSize);

        // One block of data in each range, a dense run across the single/double boundary.
        Assert.Equal(0, fs.CreateFile("/f"));
        uint ino = fs.Ino("/f");
        var pieces = new List<(long Offset, byte[] Data)>
        {
            (100, RandomBytes(1, 10)), (single + 5, RandomBytes(2, 10)), (dbl - 3 * blockSize, RandomBytes(3, 6 * blockSize)),
            (dbl + 10 * p * blockSize + 1, RandomBytes(4, 10)), (triple + 2 * p * p * blockSize + 9, RandomBytes(5, 10)),
        };
        foreach (var (offset, data) in pieces) Assert.Equal(data.Length, fs.Write(ino, (ulong)offset, data));
        ulong size = fs.Stat("/f").Size;

        // Shrink step by step: inside the triple range, to its start, inside the double range,
        // to its start, inside the single range, inside the direct blocks, to zero.
        foreach (long cut in new[] { triple + p * p * blockSize + 5, triple, dbl + 5 * p * blockSize, dbl, single + 7, 150, 0 })
        {
            Assert.Equal(0, fs.Truncate(ino, (ulong)cut));
            Assert.Equal((ulong)cut, fs.Stat("/f").Size);
            foreach (var (offset, data) in pieces)
            {
                if (offset >= cut) continue;
                int n = (int)Math.Min(data.Length, cut - offset);
                var buffer = new byte[n];
                Assert.Equal(n, fs.Read(ino, (ulong)offset, buffer));
                Assert.True(data.AsSpan(0, n).SequenceEqual(buffer), $"data before {cut} changed");
            }
            // Bytes past the cut in the last block read as zero once the file grows back.
            Assert.Equal(0, fs.Truncate(ino, (ulong)cut + 20));
            var grownTail = new byte[20];
            Assert.Equal(20, fs.Read(ino, (ulong)cut, grownTail));
            Assert.Equal(new byte[20], grownTail);
            Assert.Equal(0, fs.Truncate(ino, (ulong)cut));
            Assert.Equal(0, fs.Sync());
            await scratch.AssertCleanAsync();
        }
        Assert.Equal(0ul, fs.Stat("/f").Blocks);
        Assert.Equal(freeAtStart, fs.FreeBlocks);

        // Growing makes a hole: size changes, nothing is allocated, it reads as zeros.
        Assert.Equal(0, fs.Truncate(ino, (ulong)size));
        Assert.Equal(size, fs.Stat("/f").Size);
        Assert.Equal(0ul, fs.Stat("/f").Blocks);
        var zeros = new byte[3 * blockSize];
        Assert.Equal(zeros.Length, fs.Read(ino, (ulong)dbl, zeros));
        Assert.All(zeros, b => Assert.Equal(0, b));
        await scratch.UnmountAndCheckAsync(fs);
        Assert.Equal(freeAtStart.ToString(), await E2fsprogs.SuperblockFieldAsync(scratch.Image, "Free blocks"));
    }

    [Fact]
    public async Task FilesPastTwoGibibytesUseTheHighSizeWordAndNeedLargeFile()
    {
        using var scratch = new Ext2Scratch();
        await scratch.MakeAsync(16L << 20, 4096);
        var fs = scratch.Mount();
        Assert.Equal(0, fs.CreateFile("/big"));
        ulong offset = 5UL << 30;
        Assert.Equal(4, fs.WriteAt("/big", offset, [1, 2, 3, 4]));
        Assert.Equal(offset + 4, fs.Stat("/big").Size);
        await scratch.UnmountAndCheckAsync(fs);
        Assert.Contains($"Size: {offset + 4}", (await E2fsprogs.DebugfsAsync(scratch.Image, "stat /big")).Output);

        // Without large_file (RO_COMPAT) a file cannot pass 2 GiB - 1. mke2fs always sets it, and
        // the resize inode is itself a "large file": make the image without one, then clear the flag.
        using var small = new Ext2Scratch();
        await small.MakeAsync(16L << 20, 4096, features: "^resize_inode");
        await E2fsprogs.DebugfsAsync(small.Image, "feature -large_file", write: true);
        Assert.DoesNotContain("large_file", await E2fsprogs.SuperblockFieldAsync(small.Image, "Filesystem features"));
        fs = small.Mount();
        Assert.Equal(0, fs.CreateFile("/big"));
        Assert.Equal(Errno.EFBIG, fs.WriteAt("/big", 1UL << 31, [1]));
        Assert.Equal(1, fs.WriteAt("/big", (1UL << 31) - 2, [1, 2]));   // a short write up to the limit
        Assert.Equal(Errno.EFBIG, fs.Truncate("/big", 1UL << 31));
        await small.UnmountAndCheckAsync(fs);
    }

    [Theory]
    [InlineData(1024)]
    [InlineData(4096)]
    public async Task AFullDiskGivesEnospcAndStaysConsistent(int blockSize)
    {
        using var scratch = new Ext2Scratch();
        await scratch.MakeAsync(2L << 20, blockSize, inodes: 128);
        var fs = scratch.Mount();
        uint freeBlocks = fs.FreeBlocks, freeInodes = fs.FreeInodes;

        // One file until the disk is full: the last write is short, the next one fails.
        Assert.Equal(0, fs.CreateFile("/fill"));
        uint fill = fs.Ino("/fill");
        var chunk = RandomBytes(1, 100_000);
        ulong offset = 0;
        int r;
        while ((r = fs.Write(fill, offset, chunk)) == chunk.Length) offset += (ulong)r;
        Assert.True(r > 0 && r < chunk.Length, $"expected a short write, got {r}");
        offset += (ulong)r;
        Assert.Equal(Errno.ENOSPC, fs.Write(fill, offset, chunk));
        Assert.Equal(0u, fs.FreeBlocks);
        Assert.Equal(offset, fs.Stat("/fill").Size);
        // A hole can no longer be filled; what was written reads back.
        Assert.Equal(0, fs.CreateFile("/sparse"));
        Assert.Equal(Errno.ENOSPC, fs.WriteAt("/sparse", 1 << 20, [1]));
        Assert.Equal(0ul, fs.Stat("/sparse").Size);
        var check = new byte[chunk.Length];
        Assert.Equal(chunk.Length, fs.Read(fill, (ulong)chunk.Length, check));
        Assert.Equal(chunk, check);

        // Names still fit in the root's slack; a directory needs a block and cannot be made;
        // when the root's block is full, new names fail too.
        Assert.Equal(Errno.ENOSPC, fs.Mkdir("/dir"));
        int created = 0;
        while ((r = fs.CreateFile($"/name-{created:D3}-{new string('x', 200)}")) == 0) created++;
        Assert.Equal(Errno.ENOSPC, r);
        Assert.True(created > 0);
        Assert.Equal(0, fs.Sync());
        await scratch.AssertCleanAsync();

        // Freeing the big file makes room; inodes then run out before blocks.
        Assert.Equal(0, fs.Unlink("/fill"));
        Assert.Equal(0, fs.Mkdir("/dir"));
        while ((r = fs.CreateFile($"/dir/{created}")) == 0) created++;
        Assert.Equal(Errno.ENOSPC, r);
        Assert.Equal(0u, fs.FreeInodes);
        Assert.Equal(Errno.ENOSPC, fs.Symlink("target", "/dir/link"));
        await scratch.UnmountAndCheckAsync(fs);

        // Everything removed: the counts are back where they started.
        fs = scratch.Mount();
        foreach (var e in fs.List("/dir").Where(e => e.Name is not "." and not ".."))
            Assert.Equal(0, fs.Unlink("/dir/" + e.Name));
        Assert.Equal(0, fs.Rmdir("/dir"));
        foreach (var e in fs.List("/").Where(e => e.Name.StartsWith("name-") || e.Name == "sparse"))
            Assert.Equal(0, fs.Unlink("/" + e.Name));
        Assert.Equal(freeInodes, fs.FreeInodes);
        // The root directory grew by blocks for the names; it keeps them (ext2 never shrinks directories).
        uint rootGrowth = (uint)(fs.Stat("/").Size / (ulong)blockSize) - 1;
        Assert.Equal(freeBlocks - rootGrowth, fs.FreeBlocks);
        await scratch.UnmountAndCheckAsync(fs);
    }

    [Fact]
    public async Task SyncFlushesTheDeviceAndUnmountMarksTheFileSystemClean()
    {
        using var scratch = new Ext2Scratch();
        await scratch.MakeAsync(4L << 20, 1024);
        Assert.Equal("clean", await E2fsprogs.SuperblockFieldAsync(scratch.Image, "Filesystem state"));
        string mounts = await E2fsprogs.SuperblockFieldAsync(scratch.Image, "Mount count");
        var device = scratch.Device();
        var fs = Ext2Scratch.Mount(device);
        Assert.Equal("not clean", await E2fsprogs.SuperblockFieldAsync(scratch.Image, "Filesystem state"));
        Assert.Equal((int.Parse(mounts) + 1).ToString(), await E2fsprogs.SuperblockFieldAsync(scratch.Image, "Mount count"));
        fs.WriteFile("/x", [1, 2, 3]);
        int flushes = device.Flushes;
        Assert.Equal(0, fs.Sync());
        Assert.Equal(flushes + 1, device.Flushes);
        Assert.Equal(fs.FreeBlocks.ToString(), await E2fsprogs.SuperblockFieldAsync(scratch.Image, "Free blocks"));
        Assert.Equal(fs.FreeInodes.ToString(), await E2fsprogs.SuperblockFieldAsync(scratch.Image, "Free inodes"));
        await scratch.UnmountAndCheckAsync(fs);
        Assert.Equal("clean", await E2fsprogs.SuperblockFieldAsync(scratch.Image, "Filesystem state"));
        Assert.Equal(Errno.EIO, fs.CreateFile("/after-unmount"));

        // A read-only mount writes nothing at all.
        var readOnlyDevice = scratch.Device();
        fs = Ext2Scratch.Mount(readOnlyDevice, readOnly: true);
        Assert.Equal(Errno.EROFS, fs.CreateFile("/y"));
        Assert.Equal(Errno.EROFS, fs.WriteAt("/x", 0, [9]));
        Assert.Equal(new byte[] { 1, 2, 3 }, fs.ReadAll("/x"));
        Assert.Equal(0, fs.Unmount());
        Assert.Equal(0, readOnlyDevice.Writes);
    }

    [Theory]
    [InlineData(1024)]
    [InlineData(4096)]
    public async Task StatfsCountsMatchDumpe2fsAndFollowAllocations(int blockSize)
    {
        using var scratch = new Ext2Scratch();
        await scratch.MakeAsync(20L << 20, blockSize);
        var fs = scratch.Mount();
        Assert.Equal(0, fs.GetVolumeStatus(out VolumeStatus before));
        Assert.Equal(0xEF53u, before.Type);
        Assert.Equal((uint)blockSize, before.BlockSize);
        Assert.Equal(255u, before.MaxNameLength);
        Assert.Equal(ulong.Parse(await E2fsprogs.SuperblockFieldAsync(scratch.Image, "Inode count")), before.Files);
        Assert.Equal(ulong.Parse(await E2fsprogs.SuperblockFieldAsync(scratch.Image, "Free inodes")), before.FreeFiles);
        Assert.Equal(ulong.Parse(await E2fsprogs.SuperblockFieldAsync(scratch.Image, "Free blocks")), before.FreeBlocks);
        ulong reserved = ulong.Parse(await E2fsprogs.SuperblockFieldAsync(scratch.Image, "Reserved block count"));
        Assert.Equal(before.FreeBlocks - reserved, before.AvailableBlocks);
        // f_blocks: all blocks less the metadata (Linux's ext2_statfs): the block before group 0,
        // each superblock copy with its descriptor table, each group's bitmaps and inode table.
        string dump = (await E2fsprogs.DumpAsync(scratch.Image)).Output;
        var lines = dump.Split('\n');
        ulong total = ulong.Parse(await E2fsprogs.SuperblockFieldAsync(scratch.Image, "Block count"));
        ulong first = ulong.Parse(await E2fsprogs.SuperblockFieldAsync(scratch.Image, "First block"));
        ulong table = ulong.Parse(await E2fsprogs.SuperblockFieldAsync(scratch.Image, "Inode blocks per group"));
        ulong groupCount = (ulong)lines.Count(l => l.StartsWith("Group "));
        ulong superblocks = (ulong)lines.Count(l => l.Contains("superblock at"));
        var gdt = System.Text.RegularExpressions.Regex.Match(dump, @"Group descriptors at (\d+)-(\d+)");
        ulong gdtBlocks = ulong.Parse(gdt.Groups[2].Value) - ulong.Parse(gdt.Groups[1].Value) + 1;
        Assert.Equal(total - first - superblocks * (1 + gdtBlocks) - groupCount * (table + 2), before.Blocks);

        uint file = fs.WriteFile("/data", RandomBytes(1, 100 * blockSize));
        Assert.Equal(0, fs.GetStatus(file, out FileStatus st));
        Assert.Equal(0, fs.GetVolumeStatus(out VolumeStatus after));
        Assert.Equal(before.FreeBlocks - st.Blocks * 512 / (ulong)blockSize, after.FreeBlocks);
        Assert.Equal(before.FreeFiles - 1, after.FreeFiles);
        Assert.Equal(before.Blocks, after.Blocks);
        await scratch.UnmountAndCheckAsync(fs);
        Assert.Equal(after.FreeBlocks.ToString(), await E2fsprogs.SuperblockFieldAsync(scratch.Image, "Free blocks"));
    }

    [Fact]
    public async Task DirectoriesSpreadOverGroupsAndFilesStayNearTheirDirectory()
    {
        using var scratch = new Ext2Scratch();
        await scratch.MakeAsync(24L << 20, 1024, extra: ["-g", "2048", "-N", "3072", "-O", "^resize_inode"]);
        uint inodesPerGroup = uint.Parse(await E2fsprogs.SuperblockFieldAsync(scratch.Image, "Inodes per group"));
        uint blocksPerGroup = uint.Parse(await E2fsprogs.SuperblockFieldAsync(scratch.Image, "Blocks per group"));
        var fs = scratch.Mount();
        var groups = new HashSet<uint>();
        for (int d = 0; d < 8; d++)
        {
            Assert.Equal(0, fs.Mkdir($"/d{d}"));
            uint dir = fs.Ino($"/d{d}");
            uint group = (dir - 1) / inodesPerGroup;
            groups.Add(group);
            uint file = fs.WriteFile($"/d{d}/f", RandomBytes(d, 20_000));
            // The file's inode in its directory's group, its data right after in that group.
            Assert.Equal(group, (file - 1) / inodesPerGroup);
            Assert.Equal(0, fs.Sync());
            string blocks = (await E2fsprogs.DebugfsAsync(scratch.Image, $"blocks /d{d}/f")).Output;
            var numbers = blocks.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Where(t => t.All(char.IsDigit)).Select(uint.Parse).ToList();
            Assert.Equal(21, numbers.Count);                                   // 20 data blocks and the indirect one
            Assert.All(numbers, b => Assert.Equal(group, (b - 1) / blocksPerGroup));
            Assert.Equal((uint)numbers.Count, numbers.Max() - numbers.Min() + 1);   // contiguous
        }
        Assert.True(groups.Count >= 4, $"directories in {groups.Count} groups");
        await scratch.UnmountAndCheckAsync(fs);
    }
}
