using System.Text;
using Tessera.Storage;
using Tessera.Storage.Ext2;
using Xunit;
using static Tessera.Tests.Host.Ext2.Ext2ReadTests;

namespace Tessera.Tests.Host.Ext2;

/// <summary>
/// Names: lookup rules (path_resolution(7)), create / mkdir / link / symlink / unlink / rmdir /
/// rename with the errors Linux gives, link counts, directory growth and entry reuse, hashed
/// directories, extended-attribute blocks, getdents64 iteration. e2fsck -fn after each.
/// </summary>
public sealed class Ext2NamespaceTests
{
    private static async Task<(Ext2Scratch Scratch, Ext2FileSystem Fs)> FreshAsync(int blockSize = 1024, long size = 8L << 20)
    {
        var scratch = new Ext2Scratch();
        await scratch.MakeAsync(size, blockSize);
        return (scratch, scratch.Mount());
    }

    [Fact]
    public async Task PathLookupFollowsLinuxRules()
    {
        var (scratch, fs) = await FreshAsync();
        using var owner = scratch;
        Assert.Equal(0, fs.Mkdir("/a"));
        Assert.Equal(0, fs.Mkdir("/a/b"));
        fs.WriteFile("/a/b/file", [1]);
        uint file = fs.Ino("/a/b/file");

        // "..": up one level, and at the root it stays at the root.
        Assert.Equal(file, fs.Ino("/../../a/./b/../b//file"));
        Assert.Equal(Ext2FileSystem.RootInode, fs.Ino("/.."));
        Assert.Equal(Ext2FileSystem.RootInode, fs.Ino("/a/b/../../../.."));
        // Relative paths start at the given directory.
        Assert.Equal(0, fs.Lookup(fs.Ino("/a"), "b/file"u8, true, out uint relative));
        Assert.Equal(file, relative);
        Assert.Equal(0, fs.Lookup(fs.Ino("/a/b"), "../../a/b/file"u8, true, out relative));
        Assert.Equal(file, relative);

        // Names: 255 bytes are fine, 256 are too long, wherever they are in the path.
        string longest = new('n', 255);
        Assert.Equal(0, fs.CreateFile("/a/" + longest));
        Assert.Equal(0, fs.Resolve("/a/" + longest, out _));
        Assert.Contains(fs.List("/a"), e => e.Name == longest);
        string tooLong = new('n', 256);
        Assert.Equal(Errno.ENAMETOOLONG, fs.CreateFile("/a/" + tooLong));
        Assert.Equal(Errno.ENAMETOOLONG, fs.Resolve("/a/" + tooLong + "/x", out _));
        Assert.Equal(Errno.ENAMETOOLONG, fs.Mkdir("/" + tooLong));
        Assert.Equal(Errno.ENAMETOOLONG, fs.Resolve("/" + string.Concat(Enumerable.Repeat("a/", 2048)), out _));

        // A file is not a directory; a missing name is missing; an empty path is nothing.
        Assert.Equal(Errno.ENOTDIR, fs.Resolve("/a/b/file/x", out _));
        Assert.Equal(Errno.ENOTDIR, fs.Resolve("/a/b/file/", out _));
        Assert.Equal(Errno.ENOTDIR, fs.CreateFile("/a/b/file/x"));
        Assert.Equal(Errno.ENOENT, fs.Resolve("/a/missing/file", out _));
        Assert.Equal(Errno.ENOENT, fs.Resolve("", out _));
        Assert.Equal(Errno.ENOENT, fs.CreateFile("/a/missing/new"));

        // Symlinks: followed in the middle, relative to their directory; the last one only on request.
        Assert.Equal(0, fs.Symlink("b", "/a/to-b"));
        Assert.Equal(0, fs.Symlink("/a/b/file", "/abs"));
        Assert.Equal(0, fs.Symlink("../to-b/file", "/a/b/up"));
        Assert.Equal(file, fs.Ino("/a/to-b/file"));
        Assert.Equal(file, fs.Ino("/abs"));
        Assert.Equal(file, fs.Ino("/a/b/up"));
        Assert.NotEqual(file, fs.Ino("/abs", follow: false));
        Assert.Equal(fs.Ino("/a/b"), fs.Ino("/a/to-b/", follow: false));   // a trailing '/' follows it
        // Loops end with ELOOP; a dangling link is ENOENT when followed.
        Assert.Equal(0, fs.Symlink("loop2", "/loop1"));
        Assert.Equal(0, fs.Symlink("loop1", "/loop2"));
        Assert.Equal(Errno.ELOOP, fs.Resolve("/loop1", out _));
        Assert.Equal(0, fs.Resolve("/loop1", out _, follow: false));
        Assert.Equal(0, fs.Symlink("nowhere", "/dangling"));
        Assert.Equal(Errno.ENOENT, fs.Resolve("/dangling", out _));
        await scratch.UnmountAndCheckAsync(fs);
    }

    [Fact]
    public async Task CreateMkdirLinkUnlinkRmdirKeepLinkCountsAndReportLinuxErrors()
    {
        var (scratch, fs) = await FreshAsync();
        using var owner = scratch;
        uint freeBlocks = fs.FreeBlocks, freeInodes = fs.FreeInodes;
        uint rootLinks = fs.Stat("/").Links;

        Assert.Equal(0, fs.Mkdir("/d"));
        Assert.Equal(rootLinks + 1, fs.Stat("/").Links);
        Assert.Equal(2u, fs.Stat("/d").Links);
        Assert.Equal(0, fs.Mkdir("/d/e"));
        Assert.Equal(3u, fs.Stat("/d").Links);
        Assert.Equal(0x41EDu, fs.Stat("/d").Mode);       // directory, 0755
        Assert.Equal(Errno.EEXIST, fs.Mkdir("/d"));
        Assert.Equal(Errno.EEXIST, fs.CreateFile("/d"));
        Assert.Equal(Errno.EEXIST, fs.Mkdir("/"));
        Assert.Equal(Errno.EEXIST, fs.Mkdir("/d/."));

        fs.WriteFile("/d/f", RandomBytes(1, 3000));
        Assert.Equal(0x81A4u, fs.Stat("/d/f").Mode);     // regular, 0644
        Assert.Equal(0, fs.HardLink("/d/f", "/g"));
        Assert.Equal(2u, fs.Stat("/g").Links);
        Assert.Equal(fs.Ino("/d/f"), fs.Ino("/g"));
        Assert.Equal(Errno.EPERM, fs.HardLink("/d", "/dlink"));
        Assert.Equal(Errno.EEXIST, fs.HardLink("/d/f", "/g"));

        Assert.Equal(Errno.ENOTEMPTY, fs.Rmdir("/d"));
        Assert.Equal(Errno.EISDIR, fs.Unlink("/d"));
        Assert.Equal(Errno.ENOTDIR, fs.Rmdir("/g"));
        Assert.Equal(Errno.EINVAL, fs.Rmdir("/d/."));
        Assert.Equal(Errno.ENOTEMPTY, fs.Rmdir("/d/e/.."));
        Assert.Equal(Errno.EBUSY, fs.Rmdir("/"));
        Assert.Equal(Errno.ENOENT, fs.Unlink("/nothing"));

        // The first unlink leaves the data to the other name; the second frees it.
        Assert.Equal(0, fs.Unlink("/d/f"));
        Assert.Equal(1u, fs.Stat("/g").Links);
        Assert.Equal(RandomBytes(1, 3000), fs.ReadAll("/g"));
        Assert.Equal(0, fs.Sync());
        await scratch.AssertCleanAsync();
        Assert.Equal(0, fs.Unlink("/g"));
        Assert.Equal(0, fs.Rmdir("/d/e"));
        Assert.Equal(2u, fs.Stat("/d").Links);
        Assert.Equal(0, fs.Rmdir("/d"));
        Assert.Equal(rootLinks, fs.Stat("/").Links);
        Assert.Equal(freeBlocks, fs.FreeBlocks);
        Assert.Equal(freeInodes, fs.FreeInodes);
        Assert.Equal(Errno.ENOENT, fs.Resolve("/d", out _));

        // Symlinks: fast (in the inode) and slow (a block), both freed with their name.
        Assert.Equal(0, fs.Symlink("short", "/fast"));
        string longTarget = new('t', 300);
        Assert.Equal(0, fs.Symlink(longTarget, "/slow"));
        Assert.Equal(0ul, fs.Stat("/fast", follow: false).Blocks);
        Assert.Equal(2ul, fs.Stat("/slow", follow: false).Blocks);
        Assert.Equal(longTarget, fs.ReadLinkText("/slow"));
        Assert.Equal(Errno.ENAMETOOLONG, fs.Symlink(new string('t', 1024), "/toolong"));
        Assert.Equal(Errno.EINVAL, fs.ReadLink(fs.Ino("/"), new byte[10]));
        await scratch.UnmountAndCheckAsync(fs);
        Assert.Contains("Size: 300", (await E2fsprogs.DebugfsAsync(scratch.Image, "stat /slow")).Output);
        Assert.Contains("Fast link dest: \"short\"", (await E2fsprogs.DebugfsAsync(scratch.Image, "stat /fast")).Output);

        fs = scratch.Mount();
        Assert.Equal(0, fs.Unlink("/fast"));
        Assert.Equal(0, fs.Unlink("/slow"));
        Assert.Equal(freeBlocks, fs.FreeBlocks);
        Assert.Equal(freeInodes, fs.FreeInodes);
        await scratch.UnmountAndCheckAsync(fs);
    }

    [Fact]
    public async Task RenameFollowsRename2()
    {
        var (scratch, fs) = await FreshAsync();
        using var owner = scratch;
        Assert.Equal(0, fs.Mkdir("/a"));
        Assert.Equal(0, fs.Mkdir("/b"));
        Assert.Equal(0, fs.Mkdir("/a/sub"));
        fs.WriteFile("/a/sub/x", [1]);
        fs.WriteFile("/a/f", [2]);
        fs.WriteFile("/b/g", [3]);
        uint f = fs.Ino("/a/f"), sub = fs.Ino("/a/sub");

        // Within a directory, then across directories.
        Assert.Equal(0, fs.Rename("/a/f", "/a/f2"));
        Assert.Equal(Errno.ENOENT, fs.Resolve("/a/f", out _));
        Assert.Equal(f, fs.Ino("/a/f2"));
        Assert.Equal(0, fs.Rename("/a/f2", "/b/f"));
        Assert.Equal(f, fs.Ino("/b/f"));
        Assert.Equal(1u, fs.Stat("/b/f").Links);

        // A directory to another parent: ".." follows, the parents' link counts move.
        uint aLinks = fs.Stat("/a").Links, bLinks = fs.Stat("/b").Links;
        Assert.Equal(0, fs.Rename("/a/sub", "/b/sub"));
        Assert.Equal(fs.Ino("/b"), fs.Ino("/b/sub/.."));
        Assert.Equal(aLinks - 1, fs.Stat("/a").Links);
        Assert.Equal(bLinks + 1, fs.Stat("/b").Links);
        Assert.Equal(sub, fs.Ino("/b/sub"));
        Assert.Equal(new byte[] { 1 }, fs.ReadAll("/b/sub/x"));

        // Replacing: a file by a file (the old one is freed), a directory by an empty directory.
        uint freeInodes = fs.FreeInodes;
        Assert.Equal(0, fs.Rename("/b/f", "/b/g"));
        Assert.Equal(new byte[] { 2 }, fs.ReadAll("/b/g"));
        Assert.Equal(freeInodes + 1, fs.FreeInodes);
        Assert.Equal(0, fs.Mkdir("/a/empty"));
        bLinks = fs.Stat("/b").Links;
        aLinks = fs.Stat("/a").Links;
        Assert.Equal(0, fs.Rename("/b/sub", "/a/empty"));
        Assert.Equal(sub, fs.Ino("/a/empty"));
        Assert.Equal(bLinks - 1, fs.Stat("/b").Links);
        Assert.Equal(aLinks, fs.Stat("/a").Links);     // gains sub's "..", loses empty's
        Assert.Equal(fs.Ino("/a"), fs.Ino("/a/empty/.."));

        // The errors: into itself, dir over file, file over dir, over a non-empty dir, "." and "..".
        Assert.Equal(0, fs.Mkdir("/a/empty/inner"));
        Assert.Equal(Errno.EINVAL, fs.Rename("/a/empty", "/a/empty/inner/moved"));
        Assert.Equal(Errno.EINVAL, fs.Rename("/a", "/a/empty/x"));
        Assert.Equal(Errno.ENOTDIR, fs.Rename("/a/empty", "/b/g"));
        Assert.Equal(Errno.EISDIR, fs.Rename("/b/g", "/a/empty"));
        Assert.Equal(Errno.ENOTEMPTY, fs.Rename("/b", "/a"));
        Assert.Equal(Errno.EBUSY, fs.Rename("/a/.", "/c"));
        Assert.Equal(Errno.EBUSY, fs.Rename("/b/g", "/a/.."));
        Assert.Equal(Errno.ENOENT, fs.Rename("/b/none", "/b/other"));
        Assert.Equal(Errno.ENOENT, fs.Rename("/b/g", "/none/g"));

        // Renaming one name of an inode onto another name of it does nothing (rename(2)).
        Assert.Equal(0, fs.HardLink("/b/g", "/b/g2"));
        Assert.Equal(0, fs.Rename("/b/g", "/b/g2"));
        Assert.Equal(0, fs.Resolve("/b/g", out _));
        Assert.Equal(2u, fs.Stat("/b/g").Links);
        // A name onto itself, a directory into the same parent: no change.
        Assert.Equal(0, fs.Rename("/a/empty", "/a/empty"));
        Assert.Equal(0, fs.Rename("/a/empty", "/a/renamed"));
        Assert.Equal(fs.Ino("/a"), fs.Ino("/a/renamed/.."));
        await scratch.UnmountAndCheckAsync(fs);
        Assert.Contains("renamed", (await E2fsprogs.DebugfsAsync(scratch.Image, "ls -l /a")).Output);
    }

    [Theory]
    [InlineData(1024)]
    [InlineData(4096)]
    public async Task DirectoriesGrowReuseSlackAndMergeDeletedEntries(int blockSize)
    {
        var (scratch, fs) = await FreshAsync(blockSize);
        using var owner = scratch;
        Assert.Equal(0, fs.Mkdir("/d"));
        var names = new SortedSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < 400; i++)
        {
            string name = $"entry-{i:D3}-" + new string('z', i % 50);
            Assert.Equal(0, fs.CreateFile("/d/" + name));
            names.Add(name);
        }
        ulong grownSize = fs.Stat("/d").Size;
        Assert.True(grownSize > (ulong)blockSize, "the directory grew past one block");
        Assert.Equal(names, new SortedSet<string>(fs.List("/d").Select(e => e.Name).Where(n => n is not "." and not ".."), StringComparer.Ordinal));

        // Remove every other entry (and some first entries of blocks), then add new names:
        // they go into the freed space, so the directory does not grow.
        int k = 0;
        foreach (var name in names.ToList())
            if (k++ % 2 == 0) { Assert.Equal(0, fs.Unlink("/d/" + name)); names.Remove(name); }
        for (int i = 0; i < 150; i++)
        {
            string name = $"new-{i}";
            Assert.Equal(0, fs.CreateFile("/d/" + name));
            names.Add(name);
        }
        Assert.Equal(grownSize, fs.Stat("/d").Size);
        Assert.Equal(names, new SortedSet<string>(fs.List("/d").Select(e => e.Name).Where(n => n is not "." and not ".."), StringComparer.Ordinal));
        foreach (var name in names) Assert.Equal(0, fs.Resolve("/d/" + name, out _));
        await scratch.UnmountAndCheckAsync(fs);
        string listing = (await E2fsprogs.DebugfsAsync(scratch.Image, "ls /d")).Output;
        foreach (var name in names) Assert.Contains(name, listing);

        // Emptied completely, the directory can be removed (its blocks stay until then).
        fs = scratch.Mount();
        foreach (var name in names) Assert.Equal(0, fs.Unlink("/d/" + name));
        Assert.Equal(new[] { ".", ".." }, fs.List("/d").Select(e => e.Name).ToArray());
        Assert.Equal(0, fs.Rmdir("/d"));
        await scratch.UnmountAndCheckAsync(fs);
    }

    [Fact]
    public async Task GetdentsIteratesEveryEntryOnceWhateverTheBufferSize()
    {
        var (scratch, fs) = await FreshAsync();
        using var owner = scratch;
        Assert.Equal(0, fs.Mkdir("/d"));
        for (int i = 0; i < 100; i++) Assert.Equal(0, fs.CreateFile($"/d/{i}-{new string('q', i)}"));
        var whole = fs.List("/d", 1 << 16);
        Assert.Equal(102, whole.Count);
        foreach (int size in new[] { 24 + 128, 300, 1000 })
            Assert.Equal(whole.Select(e => e.Name), fs.List("/d", size).Select(e => e.Name));
        // Each record's d_off continues after it.
        uint dir = fs.Ino("/d");
        var buffer = new byte[4096];
        int n = fs.ReadDirectory(dir, 0, buffer, out ulong next);
        var records = Ext2Paths.ParseDirents(buffer.AsSpan(0, n));
        Assert.Equal((long)next, records[^1].NextOffset);
        n = fs.ReadDirectory(dir, (ulong)records[2].NextOffset, buffer, out _);
        Assert.Equal(records[3].Name, Ext2Paths.ParseDirents(buffer.AsSpan(0, n))[0].Name);
        // Too small for the next record: EINVAL; past the end: 0; not a directory: ENOTDIR.
        Assert.Equal(Errno.EINVAL, fs.ReadDirectory(dir, 0, new byte[16], out _));
        Assert.Equal(0, fs.ReadDirectory(dir, fs.Stat("/d").Size, buffer, out _));
        Assert.Equal(Errno.ENOTDIR, fs.ReadDirectory(fs.Ino("/d/0-"), 0, buffer, out _));
        Assert.Equal(Errno.EISDIR, fs.Read(dir, 0, buffer));
        await scratch.UnmountAndCheckAsync(fs);
    }

    [Fact]
    public async Task HashedDirectoriesAreChangedAsLinearOnes()
    {
        using var scratch = new Ext2Scratch();
        Directory.CreateDirectory(Path.Combine(scratch.Source, "big"));
        for (int i = 0; i < 600; i++) File.WriteAllText(Path.Combine(scratch.Source, "big", $"file-{i:D4}-{new string('h', 30)}"), i.ToString());
        await scratch.MakeAsync(16L << 20, 1024, populate: true);
        // e2fsck -D builds the hash index (dir_index) for the big directory.
        var index = await E2fsprogs.RunAsync("e2fsck", ["-fyD", scratch.Image]);
        Assert.True(index.ExitCode <= 1, index.Output);
        Assert.Contains("Root node dump", (await E2fsprogs.DebugfsAsync(scratch.Image, "htree /big")).Output);

        var fs = scratch.Mount();
        Assert.Equal(600, fs.List("/big").Count - 2);
        Assert.Equal(Encoding.ASCII.GetBytes("417"), fs.ReadAll($"/big/file-0417-{new string('h', 30)}"));
        for (int i = 0; i < 600; i += 3) Assert.Equal(0, fs.Unlink($"/big/file-{i:D4}-{new string('h', 30)}"));
        for (int i = 0; i < 100; i++) Assert.Equal(0, fs.CreateFile($"/big/added-{i}"));
        await scratch.UnmountAndCheckAsync(fs);
        Assert.Contains("Not a hash-indexed directory", (await E2fsprogs.DebugfsAsync(scratch.Image, "htree /big")).Output);
        fs = scratch.Mount(readOnly: true);
        Assert.Equal(600 - 200 + 100, fs.List("/big").Count - 2);
    }

    [Fact]
    public async Task AnExtendedAttributeBlockIsReleasedWithItsInode()
    {
        using var scratch = new Ext2Scratch();
        File.WriteAllText(Path.Combine(scratch.Source, "tagged"), "data");
        await scratch.MakeAsync(8L << 20, 1024, populate: true);
        uint freeBefore = uint.Parse(await E2fsprogs.SuperblockFieldAsync(scratch.Image, "Free blocks"));
        // A value too big for the inode's own space goes to an attribute block (i_file_acl).
        string valueFile = Path.Combine(scratch.Folder, "value");
        File.WriteAllText(valueFile, new string('v', 600));
        await E2fsprogs.DebugfsAsync(scratch.Image, $"ea_set -f {valueFile} /tagged user.big", write: true);
        Assert.Contains("File ACL: ", (await E2fsprogs.DebugfsAsync(scratch.Image, "stat /tagged")).Output);
        Assert.DoesNotContain("File ACL: 0", (await E2fsprogs.DebugfsAsync(scratch.Image, "stat /tagged")).Output);
        await scratch.AssertCleanAsync();

        var fs = scratch.Mount();
        Assert.Equal(freeBefore - 1, fs.FreeBlocks);
        Assert.Equal(0, fs.Unlink("/tagged"));
        Assert.Equal(freeBefore + 1, fs.FreeBlocks);    // its data block and its attribute block
        await scratch.UnmountAndCheckAsync(fs);
    }
}
