using System.Buffers.Binary;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Tessera.Storage;
using Tessera.Storage.Ext2;
using Xunit;

namespace Tessera.Tests.Host.Ext2;

/// <summary>
/// Images the implementation must refuse, saying why (issue 6 item 6): a wrong magic number,
/// impossible geometry or counts, group descriptors pointing outside the disk, features it
/// does not support; and images damaged at random, which must never make it fail other than
/// by returning an error (in the kernel, an out-of-range access is a panic).
/// </summary>
public sealed class Ext2DamagedImageTests
{
    private const int Super = 1024;   // the superblock's byte offset

    private static async Task<byte[]> ImageAsync(Action<Ext2Scratch>? populate = null, long size = 2L << 20, int blockSize = 1024, string type = "ext2", string? features = null)
    {
        using var scratch = new Ext2Scratch();
        populate?.Invoke(scratch);
        await scratch.MakeAsync(size, blockSize, populate: populate is not null, features: features, inodes: 64, type: type);
        return await File.ReadAllBytesAsync(scratch.Image);
    }

    private static (int Result, string Reason) TryMount(byte[] image, bool readOnly = false, int deviceBlock = 512)
    {
        int r = Ext2FileSystem.Mount(new MemoryBlockDevice(image, deviceBlock), new TestClock(1), readOnly, out var fs, out string reason);
        Assert.Equal(r == 0, fs is not null);
        return (r, reason);
    }

    private static void Put32(byte[] image, int at, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(at), value);
    private static void Put16(byte[] image, int at, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(at), value);

    private static void AssertRefused(byte[] image, string because, bool readOnly = false)
    {
        var (r, reason) = TryMount(image, readOnly);
        Assert.Equal(Errno.EINVAL, r);
        Assert.Contains(because, reason);
    }

    [Fact]
    public async Task DamagedSuperblocksAndDescriptorsAreRefusedWithAReason()
    {
        byte[] good = await ImageAsync();
        Assert.Equal(0, TryMount((byte[])good.Clone()).Result);

        byte[] Damaged(Action<byte[]> damage)
        {
            var copy = (byte[])good.Clone();
            damage(copy);
            return copy;
        }

        AssertRefused(Damaged(i => Put16(i, Super + 56, 0x1234)), "bad magic number 0x1234");
        AssertRefused(new byte[1 << 20], "bad magic number 0x0");
        AssertRefused(Damaged(i => Put32(i, Super + 76, 7)), "unknown revision level 7");
        AssertRefused(Damaged(i => Put32(i, Super + 24, 9)), "block size 1024 << 9");
        AssertRefused(Damaged(i => Put32(i, Super + 4, 1u << 30)), "does not fit the device");
        AssertRefused(good[..(1 << 20)], "does not fit the device");                    // the image cut short
        AssertRefused(good[..1536], "smaller than the superblock");
        AssertRefused(Damaged(i => Put32(i, Super + 20, 0)), "first data block 0");
        AssertRefused(Damaged(i => Put32(i, Super + 32, 0)), "impossible blocks per group 0");
        AssertRefused(Damaged(i => Put32(i, Super + 32, 100_000)), "impossible blocks per group");
        AssertRefused(Damaged(i => Put32(i, Super + 40, 0)), "impossible inodes per group 0");
        AssertRefused(Damaged(i => Put32(i, Super + 0, 1000)), "inode count 1000 does not match");
        AssertRefused(Damaged(i => Put16(i, Super + 88, 100)), "impossible inode size 100");
        AssertRefused(Damaged(i => Put32(i, Super + 84, 3)), "impossible first non-reserved inode 3");
        AssertRefused(Damaged(i => Put32(i, Super + 12, uint.MaxValue)), "free or reserved counts");
        // Group descriptor 0 (block 2 with 1 KiB blocks): bitmaps and inode table inside group 0.
        AssertRefused(Damaged(i => Put32(i, 2048 + 8, 0xFFFFFF00)), "group 0: inode table 4294967040 is outside the group");
        AssertRefused(Damaged(i => Put32(i, 2048 + 0, 0)), "group 0: block bitmap 0 is outside the group");
        AssertRefused(Damaged(i => Put32(i, 2048 + 4, 5_000_000)), "group 0: inode bitmap 5000000 is outside the group");
        AssertRefused(Damaged(i => Put16(i, 2048 + 12, 60_000)), "group 0: impossible free or directory counts");
        AssertRefused(Damaged(i => Put32(i, 2048 + 0, 2)), "group 0: bitmaps, inode table and superblock copy overlap");   // on the descriptor table
        AssertRefused(Damaged(i => Put32(i, 2048 + 4, BinaryPrimitives.ReadUInt32LittleEndian(i.AsSpan(2048)))), "overlap");
        AssertRefused(Damaged(i => Put32(i, 2048 + 0, BinaryPrimitives.ReadUInt32LittleEndian(i.AsSpan(2048 + 8)) + 1)), "overlap");
        // The root inode (2) made a regular file.
        AssertRefused(Damaged(i =>
        {
            int table = BinaryPrimitives.ReadInt32LittleEndian(i.AsSpan(2048 + 8));
            int inodeSize = BinaryPrimitives.ReadUInt16LittleEndian(i.AsSpan(Super + 88));
            Put16(i, table * 1024 + inodeSize, 0x81A4);
        }), "root inode is not a directory");
        // A device whose blocks are not a power of two from 512 to 4096 bytes.
        Assert.Contains("device block size", TryMount(good, deviceBlock: 768).Reason);
    }

    [Fact]
    public async Task UnsupportedFeaturesAreRefusedByName()
    {
        // ext4: incompatible features (extents, 64-bit, flex_bg) come first.
        var (r, reason) = TryMount(await ImageAsync(size: 8L << 20, type: "ext4"));
        Assert.Equal(Errno.EINVAL, r);
        Assert.Contains("unsupported incompatible features:", reason);
        Assert.Contains("extent", reason);
        Assert.Contains("64bit", reason);
        Assert.Contains("flex_bg", reason);
        // ext3: a journal.
        (r, reason) = TryMount(await ImageAsync(size: 8L << 20, type: "ext3"));
        Assert.Equal(Errno.EINVAL, r);
        Assert.Contains("has_journal", reason);
        // A read-only-compatible feature we cannot keep up to date refuses a read-write mount
        // only; read-only, the files are there.
        byte[] image = await ImageAsync(s => File.WriteAllText(Path.Combine(s.Source, "f"), "hello"), features: "metadata_csum,dir_nlink");
        (r, reason) = TryMount((byte[])image.Clone());
        Assert.Equal(Errno.EINVAL, r);
        Assert.Contains("dir_nlink", reason);
        Assert.Contains("metadata_csum", reason);
        Assert.Equal(0, TryMount(image, readOnly: true).Result);
        Assert.Equal("hello"u8.ToArray(), Ext2Scratch.Mount(new MemoryBlockDevice(image), readOnly: true).ReadAll("/f"));
        // An unknown incompatible bit is named by its value.
        image = await ImageAsync();
        Put32(image, Super + 96, BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(Super + 96)) | 0x80000000);
        Assert.Contains("unknown(0x80000000)", TryMount(image).Reason);
    }

    /// <summary>A random image damage: byte offsets (mostly in the metadata at the start) and new values.</summary>
    public sealed record Damage(int[] Offsets, byte[] Values);

    private static Arbitrary<Damage> Damages =>
        Arb.From(
            from count in Gen.Choose(1, 24)
            from offsets in Gen.ArrayOf(Gen.Frequency((7, Gen.Choose(1024, 40 * 1024)), (3, Gen.Choose(0, (2 << 20) - 1))), count)
            from values in Gen.ArrayOf(Gen.Choose(0, 255).Select(v => (byte)v), count)
            select new Damage(offsets, values));

    private static readonly Lazy<byte[]> Pristine = new(() => ImageAsync(s =>
    {
        Directory.CreateDirectory(Path.Combine(s.Source, "dir", "sub"));
        for (int i = 0; i < 30; i++) File.WriteAllBytes(Path.Combine(s.Source, "dir", $"file{i}"), Ext2ReadTests.RandomBytes(i, i * 997));
        File.WriteAllBytes(Path.Combine(s.Source, "big"), Ext2ReadTests.RandomBytes(99, 400_000));
        File.CreateSymbolicLink(Path.Combine(s.Source, "link"), "dir/sub");
        File.CreateSymbolicLink(Path.Combine(s.Source, "longlink"), "dir/" + string.Concat(Enumerable.Repeat("./", 40)) + "file3");
    }).GetAwaiter().GetResult());

    /// <summary>
    /// Randomly damaged images are either refused at mount or mounted; then walking, reading,
    /// writing, renaming and removing give results or errors, never an exception.
    /// </summary>
    [Property(MaxTest = 300)]
    public Property RandomDamageNeverCrashes() => Prop.ForAll(Damages, damage =>
    {
        byte[] image = (byte[])Pristine.Value.Clone();
        for (int i = 0; i < damage.Offsets.Length; i++) image[damage.Offsets[i]] = damage.Values[i];
        int r = Ext2FileSystem.Mount(new MemoryBlockDevice(image), new TestClock(1), false, out var fs, out string reason);
        if (r != 0) return Prop.Classify(reason.Length > 0, true, "refused");
        Workout(fs!);
        fs!.Unmount();
        return Prop.Classify(true, true, "mounted");
    });

    private static void Workout(Ext2FileSystem fs)
    {
        var buffer = new byte[65536];
        var entries = new byte[4096];
        int visited = 0;
        void Walk(uint dir, int depth)
        {
            if (depth > 6 || visited > 400) return;
            ulong position = 0;
            for (int rounds = 0; rounds < 50; rounds++)
            {
                int n = fs.ReadDirectory(dir, position, entries, out ulong next);
                if (n <= 0) return;
                foreach (var e in Ext2Paths.ParseDirents(entries.AsSpan(0, n)))
                {
                    if (e.Name is "." or ".." || visited++ > 400) continue;
                    uint ino = (uint)e.Ino;
                    fs.GetStatus(ino, out _);
                    fs.Read(ino, 0, buffer);
                    fs.Read(ino, 300_000, buffer.AsSpan(0, 5000));
                    fs.ReadLink(ino, buffer);
                    if (fs.LookupName(dir, Ext2Paths.Bytes(e.Name), out uint found) == 0 && found == ino) Walk(ino, depth + 1);
                }
                if (next <= position) return;
                position = next;
            }
        }
        Walk(Ext2FileSystem.RootInode, 0);
        fs.GetVolumeStatus(out _);
        foreach (var path in new[] { "/big", "/dir/file7", "/link/x", "/longlink", "/dir/sub/../file2" }) fs.Resolve(path, out _);
        fs.CreateFile("/new");
        fs.WriteAt("/new", 5000, Ext2ReadTests.RandomBytes(1, 30_000));
        fs.WriteAt("/big", 100, Ext2ReadTests.RandomBytes(2, 3000));
        fs.Truncate("/big", 1000);
        fs.Mkdir("/dir/newdir");
        fs.Rename("/dir/file5", "/dir/sub/moved");
        fs.Rename("/dir/sub", "/elsewhere");
        fs.Unlink("/dir/file9");
        fs.Rmdir("/dir/newdir");
        fs.HardLink("/dir/file1", "/hard");
        fs.Symlink(new string('s', 200), "/slow");
        fs.Sync();
    }
}
