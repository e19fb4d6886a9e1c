using Tessera.Storage.Ext2;
using Xunit;
using static Tessera.Tests.Host.Ext2.Ext2ReadTests;

namespace Tessera.Tests.Host.Ext2;

/// <summary>
/// The same read-write workload on the ext2 layouts mke2fs can make besides its defaults:
/// revision 0, no filetype in directory entries, 2 KiB blocks, 128-byte inodes, superblock
/// backups in every group (no sparse_super), small groups (many descriptors, several
/// descriptor-table blocks), no COMPAT features at all. Each must read back what mke2fs put
/// in, take the workload, and pass e2fsck -fn with debugfs seeing the same bytes.
/// </summary>
public sealed class Ext2VariantTests
{
    [Theory]
    [InlineData("revision 0", 1024, new[] { "-r", "0" })]
    [InlineData("no filetype", 1024, new[] { "-O", "^filetype" })]
    [InlineData("2 KiB blocks", 2048, new string[0])]
    [InlineData("128-byte inodes", 4096, new[] { "-I", "128" })]
    [InlineData("backups in every group", 1024, new[] { "-O", "^sparse_super,^resize_inode", "-g", "1024" })]
    [InlineData("many small groups", 1024, new[] { "-g", "512", "-N", "4096", "-O", "^resize_inode" })]
    [InlineData("no compat features", 4096, new[] { "-O", "^dir_index,^ext_attr,^resize_inode" })]
    public async Task LayoutVariantsReadAndWriteCleanly(string variant, int blockSize, string[] options)
    {
        using var scratch = new Ext2Scratch();
        var seeded = new Dictionary<string, byte[]>
        {
            ["/seed/one"] = RandomBytes(1, 3000),
            ["/seed/two"] = RandomBytes(2, 40 * blockSize),
        };
        foreach (var (name, data) in seeded)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(scratch.Source + name)!);
            File.WriteAllBytes(scratch.Source + name, data);
        }
        await scratch.MakeAsync(24L << 20, blockSize, populate: true, extra: options);
        var fs = scratch.Mount();
        foreach (var (name, data) in seeded) Assert.True(data.AsSpan().SequenceEqual(fs.ReadAll(name)), $"{variant}: {name}");

        var written = new Dictionary<string, byte[]>();
        Assert.Equal(0, fs.Mkdir("/work"));
        for (int i = 0; i < 40; i++)
        {
            string name = $"/work/file-{i}-{new string('w', i * 3)}";
            written[name] = RandomBytes(100 + i, i * 1500);
            fs.WriteFile(name, written[name]);
        }
        long p = blockSize / 4;
        written["/work/indirect"] = RandomBytes(7, (int)((12 + p + 5) * blockSize));
        fs.WriteFile("/work/indirect", written["/work/indirect"]);
        for (int i = 0; i < 40; i += 4)
        {
            string name = $"/work/file-{i}-{new string('w', i * 3)}";
            Assert.Equal(0, fs.Unlink(name));
            written.Remove(name);
        }
        Assert.Equal(0, fs.Rename("/seed/one", "/work/renamed"));
        written["/work/renamed"] = seeded["/seed/one"];
        Assert.Equal(0, fs.Rename("/work", "/seed/work"));
        written = written.ToDictionary(kv => "/seed" + kv.Key, kv => kv.Value);
        Assert.Equal(0, fs.Symlink("work/renamed", "/seed/link"));
        Assert.Equal(0, fs.Truncate("/seed/work/indirect", 5000));
        written["/seed/work/indirect"] = written["/seed/work/indirect"][..5000];
        // getdents64's d_type comes from the entry's file type, which only the filetype feature stores.
        bool fileTypes = variant is not ("revision 0" or "no filetype");
        foreach (var e in fs.List("/seed")) Assert.Equal(!fileTypes ? 0 : e.Name == "link" ? 10 : e.Name is "work" or "." or ".." ? 4 : 8, e.Type);
        await scratch.UnmountAndCheckAsync(fs);

        foreach (var (name, data) in written)
        {
            byte[] seen = await E2fsprogs.CatAsync(scratch.Image, name);
            Assert.True(data.SequenceEqual(seen), $"{variant}: debugfs reads other bytes in {name}");
        }
        Assert.Contains("Fast link dest: \"work/renamed\"", (await E2fsprogs.DebugfsAsync(scratch.Image, "stat /seed/link")).Output);
    }
}
