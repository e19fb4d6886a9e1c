using System.Text.RegularExpressions;
using Tessera.Storage.Ext2;
using Xunit;
using static Tessera.Tests.Host.Ext2.Ext2ReadTests;

namespace Tessera.Tests.Host.Ext2;

/// <summary>
/// The write ordering claimed in Ext2FileSystem ("Durability"), checked by simulated crashes:
/// a workload's writes are logged, and the image as it would be after a crash at every point
/// of the log (the first k writes done, none after) is checked with e2fsck -fn. It may show
/// harmless damage — leaked blocks and inodes, link counts too high, free counts off — but
/// never a block or inode in use that its bitmap calls free, two owners of a block, an entry
/// naming a free inode, a link count too low or a pointer outside the disk. At every sync
/// point (a device flush) the image is entirely clean and holds exactly what was written.
/// </summary>
public sealed partial class Ext2CrashTests
{
    [GeneratedRegex(@"^(Block|Inode) bitmap differences:(.*)$", RegexOptions.Multiline)]
    private static partial Regex BitmapDifferences();

    [GeneratedRegex(@"Inode (\d+) ref count is (\d+), should be (\d+)")]
    private static partial Regex RefCount();

    [GeneratedRegex(@"'\.\.' in .* \((\d+)\) is .* \((\d+)\), should be")]
    private static partial Regex OrphanDotDot();

    // Not in the list: "is a link to directory". A directory moved to another parent has both
    // names for a moment (the new one is written before the old one goes, as in Linux's ext2,
    // so it always has at least one); e2fsck removes the second.
    private static readonly string[] Forbidden =
    [
        "multiply-claimed", "deleted/unused inode", "illegal block", "Duplicate", "bad block",
        "has an unallocated block",
    ];

    [Fact]
    public async Task ACrashAtAnyWriteLeavesOnlyHarmlessDamage()
    {
        using var scratch = new Ext2Scratch();
        File.WriteAllBytes(Path.Combine(scratch.Source, "old"), RandomBytes(1, 20_000));
        Directory.CreateDirectory(Path.Combine(scratch.Source, "olddir"));
        File.WriteAllBytes(Path.Combine(scratch.Source, "olddir", "victim"), RandomBytes(2, 50_000));
        await scratch.MakeAsync(4L << 20, 1024, populate: true, inodes: 128);
        var device = scratch.Device();
        var fs = Ext2Scratch.Mount(device);
        byte[] pristine = await File.ReadAllBytesAsync(scratch.Image);   // as mounted: "not clean"
        device.WriteLog = [];
        var snapshots = new List<Dictionary<string, byte[]>>();   // the files at each sync, in order
        var files = new Dictionary<string, byte[]> { ["/old"] = RandomBytes(1, 20_000), ["/olddir/victim"] = RandomBytes(2, 50_000) };
        void Sync()
        {
            Assert.Equal(0, fs.Sync());
            snapshots.Add(new Dictionary<string, byte[]>(files));
        }
        void Write(string path, byte[] data) { fs.WriteFile(path, data); files[path] = data; }

        Assert.Equal(0, fs.Mkdir("/a"));
        Write("/a/f", RandomBytes(3, 30_000));                     // through the indirect block
        Write("/a/small", RandomBytes(4, 100));
        Assert.Equal(0, fs.Symlink(new string('t', 100), "/slow"));
        Sync();
        Assert.Equal(0, fs.Mkdir("/b"));
        Assert.Equal(0, fs.Rename("/a/small", "/b/small"));
        files["/b/small"] = files["/a/small"]; files.Remove("/a/small");
        Write("/b/g", RandomBytes(5, 300_000));                    // into the doubly-indirect range
        Assert.Equal(0, fs.Rename("/a", "/b/a"));                  // a directory to another parent
        files["/b/a/f"] = files["/a/f"]; files.Remove("/a/f");
        Sync();
        Assert.Equal(0, fs.Rename("/b/small", "/old"));            // replaces (frees) /old
        files["/old"] = files["/b/small"]; files.Remove("/b/small");
        Assert.Equal(0, fs.Truncate("/b/g", 70_000));
        files["/b/g"] = files["/b/g"][..70_000];
        Assert.Equal(0, fs.Unlink("/olddir/victim"));
        files.Remove("/olddir/victim");
        Assert.Equal(0, fs.Rmdir("/olddir"));
        Assert.Equal(0, fs.HardLink("/b/a/f", "/hard"));
        files["/hard"] = files["/b/a/f"];
        Assert.Equal(0, fs.Unlink("/slow"));
        Sync();
        var log = device.WriteLog;
        device.WriteLog = null;
        Assert.Equal(0, fs.Unmount());
        Assert.True(log.Count > 100, $"only {log.Count} writes");

        string crashed = Path.Combine(scratch.Folder, "crashed.img");
        int sync = 0;
        for (int k = 0; k <= log.Count; k++)
        {
            bool atSync = k > 0 && log[k - 1].Data is null;
            // Every point up to a few hundred writes; past that a sample, and every sync point.
            if (!atSync && log.Count > 400 && k % (log.Count / 300 + 1) != 0) continue;
            byte[] image = (byte[])pristine.Clone();
            for (int i = 0; i < k; i++) if (log[i].Data is { } data) data.CopyTo(image, log[i].Offset);
            await File.WriteAllBytesAsync(crashed, image);
            var check = await E2fsprogs.CheckAsync(crashed);
            string context = $"crash after write {k} of {log.Count}:\n{check.Output}";
            if (atSync)
            {
                Assert.True(check.ExitCode == 0, "at a sync point the image must be clean; " + context);
                foreach (var (path, data) in snapshots[sync])
                {
                    byte[] seen = await E2fsprogs.CatAsync(crashed, path);
                    Assert.True(data.SequenceEqual(seen), $"{path} after sync {sync}");
                }
                sync++;
                continue;
            }
            foreach (string bad in Forbidden) Assert.DoesNotContain(bad, check.Output);
            foreach (Match m in BitmapDifferences().Matches(check.Output))
                Assert.DoesNotContain("+", m.Groups[2].Value);   // "+n": in use, yet free in the bitmap
            // A link count may look one too low to e2fsck only because a directory that lost its
            // name (rmdir, or mkdir undone by the crash) still has its ".." naming the parent:
            // e2fsck counts that, although nothing reaches the directory any more.
            var orphanParents = OrphanDotDot().Matches(check.Output).Select(m => m.Groups[2].Value).ToList();
            foreach (Match m in RefCount().Matches(check.Output))
            {
                int deficit = int.Parse(m.Groups[3].Value) - int.Parse(m.Groups[2].Value);
                Assert.True(deficit <= orphanParents.Count(p => p == m.Groups[1].Value), "a link count too low; " + context);
            }
        }
        Assert.Equal(snapshots.Count, sync);
    }
}
