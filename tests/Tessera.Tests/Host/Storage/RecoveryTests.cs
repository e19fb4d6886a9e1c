using Tessera.Core.Rpc;
using Tessera.Storage;
using Tessera.Storage.Ext2;
using Tessera.Tests.Host.Ext2;
using Tessera.Tools.Storage;
using Xunit;
using Xunit.Abstractions;

namespace Tessera.Tests.Host.Storage;

/// <summary>
/// The recovery pass (Ext2FileSystem.Recovery.cs) on the images a crash can leave: a workload
/// runs through the file service with every disk write logged; the image as it would be after
/// a crash at a point of the log (the first k writes done, none after) is mounted, recovered,
/// unmounted and must pass e2fsck -fn, with no damage outside what the write order can leave;
/// at every fsync point the files hold exactly what was written up to it.
/// </summary>
public sealed class RecoveryTests(ITestOutputHelper output)
{
    [Fact]
    public async Task AfterACrashAtAnyWriteTheRecoveryPassLeavesACleanVolume()
    {
        using var scratch = new Ext2Scratch();
        File.WriteAllBytes(Path.Combine(scratch.Source, "old"), FileWorkload.Data(1, 20_000));
        Directory.CreateDirectory(Path.Combine(scratch.Source, "olddir", "sub"));
        File.WriteAllBytes(Path.Combine(scratch.Source, "olddir", "victim"), FileWorkload.Data(2, 50_000));
        await scratch.MakeAsync(4L << 20, 1024, populate: true, inodes: 128);
        var device = scratch.Device();
        var fs = Ext2Scratch.Mount(device);
        byte[] pristine = await File.ReadAllBytesAsync(scratch.Image);
        var service = new FileService(fs, Errno.EIO, 3, 1);
        var client = new FileClient(new DirectFileTransport(service, 100));
        device.WriteLog = [];

        var files = new Dictionary<string, byte[]> { ["/old"] = FileWorkload.Data(1, 20_000), ["/olddir/victim"] = FileWorkload.Data(2, 50_000) };
        var snapshots = new List<Dictionary<string, byte[]>>();
        void Write(string path, byte[] data, bool append = false)
        {
            Assert.Equal(0, client.Open(path, FileProtocol.O_RDWR | FileProtocol.O_CREAT | (append ? FileProtocol.O_APPEND : FileProtocol.O_TRUNC), 0x1A4, out uint h));
            Assert.Equal(data.Length, client.WriteAll(h, 0, data));
            Assert.Equal(0, client.Close(h));
            files[path] = append && files.TryGetValue(path, out var before) ? [.. before, .. data] : data;
        }
        void Sync()
        {
            Assert.Equal(0, client.Sync());
            snapshots.Add(new Dictionary<string, byte[]>(files));
        }
        void Move(string from, string to)
        {
            Assert.Equal(0, client.Rename(from, to));
            foreach (var key in files.Keys.Where(k => k == from || k.StartsWith(from + "/")).ToList())
            {
                files[to + key[from.Length..]] = files[key];
                files.Remove(key);
            }
        }

        Assert.Equal(0, client.Mkdir("/a"));
        Write("/a/f", FileWorkload.Data(3, 30_000));                 // through the indirect block
        Write("/a/small", FileWorkload.Data(4, 100));
        Assert.Equal(0, client.Symlink(new string('t', 100), "/slow"));
        Sync();
        Assert.Equal(0, client.Mkdir("/b"));
        Move("/a/small", "/b/small");
        Write("/b/g", FileWorkload.Data(5, 300_000));               // into the doubly-indirect range
        Write("/b/g", FileWorkload.Data(6, 5000), append: true);
        Move("/a", "/b/a");                                          // a directory to another parent
        Sync();
        // A file unlinked while open: kept until its close.
        Assert.Equal(0, client.Open("/olddir/victim", FileProtocol.O_RDWR, 0, out uint victim));
        Assert.Equal(0, client.Unlink("/olddir/victim"));
        files.Remove("/olddir/victim");
        Assert.Equal(7000, (int)client.WriteAll(victim, 50_000, FileWorkload.Data(7, 7000)));
        Move("/b/small", "/old");                                     // replaces (frees) /old
        Assert.Equal(0, client.Truncate("/b/g", 70_000));
        files["/b/g"] = files["/b/g"][..70_000];
        Assert.Equal(0, client.Rmdir("/olddir/sub"));
        Assert.Equal(0, client.Link("/b/a/f", "/hard"));
        files["/hard"] = files["/b/a/f"];
        Sync();
        Assert.Equal(0, client.Close(victim));
        Assert.Equal(0, client.Rmdir("/olddir"));
        Assert.Equal(0, client.Unlink("/slow"));
        for (int i = 0; i < 8; i++) Write($"/b/n{i}", FileWorkload.Data(10 + i, 3000 * i));
        Sync();
        var log = device.WriteLog;
        device.WriteLog = null;
        Assert.Equal(0, fs.Unmount());
        Assert.True(log.Count > 100, $"only {log.Count} writes");

        string crashed = Path.Combine(scratch.Folder, "crashed.img");
        int sync = -1, checkedPoints = 0;
        var repaired = new Ext2RecoveryReport();
        for (int k = 0; k <= log.Count; k++)
        {
            bool atSync = k > 0 && log[k - 1].Data is null;
            if (atSync) sync++;
            if (!atSync && k % (log.Count / 150 + 1) != 0) continue;
            byte[] image = (byte[])pristine.Clone();
            for (int i = 0; i < k; i++) if (log[i].Data is { } data) data.CopyTo(image, log[i].Offset);
            await File.WriteAllBytesAsync(crashed, image);

            using (var crashDevice = new ImageFileDevice(crashed))
            {
                var recovered = Ext2Scratch.Mount(crashDevice);
                int r = recovered.Recover(out var report);
                Assert.True(r == 0, $"recovery after write {k}: {r}");
                Assert.True(report.Problems == 0, $"recovery after write {k} met {report.Problems} problems it cannot repair");
                repaired.OrphansDeleted += report.OrphansDeleted;
                repaired.LinkCountsFixed += report.LinkCountsFixed;
                repaired.BlocksReclaimed += report.BlocksReclaimed;
                repaired.InodesReclaimed += report.InodesReclaimed;
                repaired.DuplicateNamesRemoved += report.DuplicateNamesRemoved;
                repaired.SizesFixed += report.SizesFixed;
                repaired.BlockCountsFixed += report.BlockCountsFixed;
                repaired.GroupCountsFixed += report.GroupCountsFixed;
                Assert.Equal(0, recovered.Unmount());
                Assert.Equal(0, recovered.CorruptionsFound);
            }
            var check = await E2fsprogs.CheckAsync(crashed);
            Assert.True(check.ExitCode == 0, $"after a crash at write {k} of {log.Count} and recovery, e2fsck -fn exit {check.ExitCode}:\n{check.Output}");
            checkedPoints++;
            if (atSync)
            {
                foreach (var (path, data) in snapshots[sync])
                {
                    byte[] seen = await E2fsprogs.CatAsync(crashed, path);
                    Assert.True(data.SequenceEqual(seen), $"{path} at fsync {sync}");
                }
            }
        }
        Assert.Equal(snapshots.Count - 1, sync);
        output.WriteLine($"{checkedPoints} crash points of {log.Count} writes; repaired in all: {repaired.OrphansDeleted} unattached inodes, " +
            $"{repaired.LinkCountsFixed} link counts, {repaired.BlocksReclaimed} blocks, {repaired.InodesReclaimed} inodes, " +
            $"{repaired.DuplicateNamesRemoved} duplicate names, {repaired.SizesFixed} sizes, {repaired.BlockCountsFixed} i_blocks, {repaired.GroupCountsFixed} group counts");
        // The workload must have left every kind of damage the pass is for, somewhere.
        Assert.True(repaired.OrphansDeleted > 0 && repaired.LinkCountsFixed > 0 && repaired.BlocksReclaimed > 0 && repaired.GroupCountsFixed > 0);
    }

    [Fact]
    public async Task RecoveryOfACleanVolumeChangesNothingButTheSuperblock()
    {
        using var scratch = new Ext2Scratch();
        File.WriteAllBytes(Path.Combine(scratch.Source, "f"), FileWorkload.Data(1, 100_000));
        Directory.CreateDirectory(Path.Combine(scratch.Source, "d", "e"));
        File.CreateSymbolicLink(Path.Combine(scratch.Source, "d", "l"), "../f");
        await scratch.MakeAsync(8L << 20, 4096, populate: true);
        var fs = scratch.Mount();
        Assert.Equal(0, fs.Recover(out var report));
        Assert.Equal(0, report.OrphansDeleted + report.LinkCountsFixed + report.BlocksReclaimed + report.InodesReclaimed
            + report.SizesFixed + report.BlockCountsFixed + report.GroupCountsFixed + report.DuplicateNamesRemoved + report.Problems);
        Assert.True(report.InodesChecked >= 14);
        await scratch.UnmountAndCheckAsync(fs);
        Assert.Equal(FileWorkload.Data(1, 100_000), await E2fsprogs.CatAsync(scratch.Image, "/f"));
    }
}
