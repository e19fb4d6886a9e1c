using Tessera.Storage;
using Tessera.Storage.Ext2;
using Xunit;
using static Tessera.Tests.Host.Ext2.Ext2ReadTests;

namespace Tessera.Tests.Host.Ext2;

/// <summary>
/// Ext2Formatter (the storage component's mkfs, and the kernel self-test's disk): what it makes
/// must pass e2fsck -fn, look to dumpe2fs like mke2fs's ext2, and take a workload cleanly.
/// </summary>
public sealed class Ext2FormatterTests
{
    [Theory]
    [InlineData(1024, 256L << 10)]
    [InlineData(1024, 9L << 20)]          // two groups, the second with a backup superblock
    [InlineData(1024, (40L << 20) + 3000)]  // five groups, an odd-sized last one
    [InlineData(2048, 20L << 20)]
    [InlineData(4096, 200L << 20)]        // two groups of 128 MiB
    public async Task AFormattedDeviceIsCleanAndUsable(int blockSize, long size)
    {
        using var scratch = new Ext2Scratch();
        using (var f = new FileStream(scratch.Image, FileMode.Create)) f.SetLength(size / 512 * 512);
        var uuid = Guid.NewGuid().ToByteArray();
        using (var device = new ImageFileDevice(scratch.Image))
        {
            int r = Ext2Formatter.Format(device, new TestClock(), blockSize, 4096, uuid, out string reason);
            Assert.True(r == 0, reason);
        }
        await scratch.AssertCleanAsync();
        Assert.Equal("filetype sparse_super large_file", await E2fsprogs.SuperblockFieldAsync(scratch.Image, "Filesystem features"));
        Assert.Equal(blockSize.ToString(), await E2fsprogs.SuperblockFieldAsync(scratch.Image, "Block size"));
        Assert.Equal(new Guid(uuid, bigEndian: true).ToString(), await E2fsprogs.SuperblockFieldAsync(scratch.Image, "Filesystem UUID"));
        Assert.Contains("lost+found", (await E2fsprogs.DebugfsAsync(scratch.Image, "ls -l /")).Output);

        var fs = scratch.Mount();
        Assert.Equal(new[] { ".", "..", "lost+found" }, fs.List("/").Select(e => e.Name).ToArray());
        Assert.Equal(3u, fs.Stat("/").Links);
        Assert.Equal(0, fs.Mkdir("/d"));
        var data = RandomBytes(1, (int)Math.Min(size / 4, 3L << 20));
        fs.WriteFile("/d/data", data);
        for (int i = 0; i < 20; i++) fs.WriteFile($"/d/f{i}", RandomBytes(i, i * 100));
        await scratch.UnmountAndCheckAsync(fs);
        byte[] seen = await E2fsprogs.CatAsync(scratch.Image, "/d/data");
        Assert.True(data.SequenceEqual(seen));
    }

    [Fact]
    public void TooSmallOrOddDevicesAreRefused()
    {
        var uuid = new byte[16];
        Assert.NotEqual(0, Ext2Formatter.Format(new MemoryBlockDevice(new byte[32 << 10]), new TestClock(), 1024, 8192, uuid, out string reason));
        Assert.Contains("too small", reason);
        Assert.NotEqual(0, Ext2Formatter.Format(new MemoryBlockDevice(new byte[1 << 20]), new TestClock(), 3000, 8192, uuid, out reason));
        Assert.Contains("block size", reason);
        Assert.NotEqual(0, Ext2Formatter.Format(new MemoryBlockDevice(new byte[1 << 20], 4096), new TestClock(), 1024, 8192, uuid, out reason));
        Assert.Contains("device blocks", reason);
    }
}
