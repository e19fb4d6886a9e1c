using System.Diagnostics;
using System.Text;
using Tessera.Core.Rpc;
using Tessera.Tests.Host.Ext2;
using Tessera.Tests.Host.Storage;
using Tessera.Tools;
using Tessera.Tools.Qemu;
using Tessera.Tools.Rig;
using Tessera.Tools.Storage;
using Xunit;
using Xunit.Abstractions;

namespace Tessera.Tests.Rig;

/// <summary>
/// The storage component in its VM, on a virtio-blk disk made by mke2fs, with the host acting
/// as the processor (node 100 on the rig's segment, the kernel's own RpcEndpoint): file
/// workloads through the file RPCs compared call by call with the same workload on the host's
/// Linux, then the disk unpacked by debugfs compared with the host's folder byte for byte and
/// checked by e2fsck -fn; bad input; a damaged image; a storage VM killed mid-run and restarted.
/// Logs and disks go to out/test-logs/storage-*/.
/// </summary>
[Collection("rigs")]
public sealed class StorageRigTests(ITestOutputHelper output) : IDisposable
{
    private const ushort Host = 100;
    private static readonly TimeSpan Boot = TimeSpan.FromSeconds(120);
    private readonly List<string> _scratch = [];

    private static string Folder(string name) => Repo.Path("out", "test-logs", "storage-" + name);

    /// <summary>A storage-only rig (node 1) on the given disk, or on one the launcher makes.</summary>
    private static RigLauncher Launch(string name, RigConfig? config = null) =>
        new((config ?? new RigConfig()) with { Processors = 0, Memories = 0, Storages = 1 }, Folder(name));

    private async Task<QemuVm> StartAsync(RigLauncher rig)
    {
        await rig.StartAsync();
        var vm = rig.Vms[0];
        string? serving = await vm.WaitForLineAsync(l => l.Contains("info: rpc: serving") || l.StartsWith("PANIC"), Boot);
        if (serving is null || serving.StartsWith("PANIC")) Dump(rig);
        Assert.True(serving != null && !serving.StartsWith("PANIC"), "the storage VM never started serving");
        return vm;
    }

    private void Dump(RigLauncher rig)
    {
        foreach (var vm in rig.Vms)
        {
            output.WriteLine($"--- {vm.LogPath}");
            foreach (var l in vm.Lines) output.WriteLine(l);
        }
    }

    /// <summary>The host's endpoint on the rig's segment, patient enough for a TCG VM doing disk work.</summary>
    private static (MulticastLink Link, FileClient Client, RpcEndpoint Endpoint) Connect(RigLauncher rig, ushort node = 1)
    {
        var link = new MulticastLink(rig.MulticastPort);
        var endpoint = new RpcEndpoint(Host, link, new StopwatchClock(), (ulong)Environment.TickCount64 << 20)
        {
            InitialTimeoutNanoseconds = 200_000_000, MaxAttempts = 8,
        };
        return (link, new FileClient(new RpcFileTransport(endpoint, node)), endpoint);
    }

    private async Task AssertDiskCleanAsync(string image)
    {
        var check = await RigDisk.CheckAsync(image);
        Assert.True(check.Clean, $"e2fsck -fn exit {check.ExitCode}:\n{check.Output}");
    }

    private string Scratch(string name)
    {
        string path = Path.Combine(Path.GetTempPath(), $"tessera-{name}-{Guid.NewGuid():N}"[..40]);
        Directory.CreateDirectory(path);
        _scratch.Add(path);
        return path;
    }

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
    }

    [Fact]
    public async Task FileWorkloadsThroughTheRpcsMatchTheHostByteForByte()
    {
        // The disk starts with a folder's contents (--files); the host's folder is a copy of it.
        string files = Scratch("files");
        Directory.CreateDirectory(Path.Combine(files, "seed", "nested"));
        File.WriteAllBytes(Path.Combine(files, "seed", "nested", "blob.bin"), FileWorkload.Data(77, 123_457));
        File.WriteAllText(Path.Combine(files, "seed", "hello.txt"), "hello from the host\n");
        string hostRoot = Path.Combine(Scratch("host"), "root");
        CopyTree(files, hostRoot);
        Directory.CreateDirectory(Path.Combine(hostRoot, "lost+found"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string image = Path.Combine(Folder("workload"), "disk.img");
        await RigDisk.CreateAsync(image, files);

        await using var rig = Launch("workload", new RigConfig { Disk = image });
        var vm = await StartAsync(rig);
        Assert.Contains(vm.Lines, l => l.Contains("info: storage: ext2 volume 'tessera' mounted read-write: 4096-byte blocks, "));
        var (link, client, _) = Connect(rig);
        using (link)
        {
            // What the disk held from the start reads back as the host wrote it.
            Assert.Equal(0, client.Open("/seed/nested/blob.bin", FileProtocol.O_RDONLY, 0, out uint blob));
            Assert.Equal(FileWorkload.Data(77, 123_457), client.ReadAll(blob, out int error));
            Assert.Equal(0, error);
            Assert.Equal(0, client.Close(blob));

            var ops = FileWorkload.Scripted().Concat(FileWorkload.Random(2024, 700)).ToList();
            var log = new List<string>();
            string difference;
            using (var host = new HostFiles(hostRoot))
            {
                var tessera = new TesseraFiles(client, LinuxFiles.Umask());
                difference = FileWorkload.Compare(ops, host, tessera, log);
                tessera.CloseAll();
            }
            if (difference.Length > 0) { foreach (var line in log.TakeLast(30)) output.WriteLine(line); Dump(rig); }
            Assert.True(difference.Length == 0, difference);
            Assert.Equal(0, client.Forget());
        }
        await rig.StopAsync();
        Assert.False(rig.AnyPanicked);
        await AssertDiskCleanAsync(image);
        await TreeComparison.AssertImageMatchesAsync(image, hostRoot, Path.Combine(Scratch("unpacked"), "tree"));
    }

    [Fact]
    public async Task BadInputGetsErrorRepliesAndTheComponentStaysAlive()
    {
        await using var rig = Launch("bad-input");
        await StartAsync(rig);
        var (link, client, endpoint) = Connect(rig);
        using (link)
        {
            // ".." past the root stays at the root.
            Assert.Equal(0, client.Mkdir("/../../top"));
            Assert.Equal(0, client.Stat("/top/../../../top", out var top));
            Assert.True(top!.IsDirectory);
            Assert.Equal(0, client.Stat("/..", out var up));
            Assert.Equal(0, client.Stat("/", out var root));
            Assert.Equal(root!.Inode, up!.Inode);
            // Names longer than 255 bytes.
            Assert.Equal(-36, client.Open("/top/" + new string('x', 256), FileProtocol.O_WRONLY | FileProtocol.O_CREAT, 0x1A4, out _));
            Assert.Equal(-36, client.Mkdir("/" + new string('y', 300)));
            Assert.Equal(0, client.Mkdir("/" + new string('y', 255)));
            // Requests that do not follow the protocol: error replies, nothing executed.
            Assert.Equal(RpcStatus.EBADMSG, client.RawCall(RpcOpcode.Open, [1, 2, 3], out _));
            Assert.Equal(RpcStatus.EBADMSG, client.RawCall(RpcOpcode.Read, new byte[15], out _));
            Assert.Equal(RpcStatus.EBADMSG, client.RawCall(RpcOpcode.Mkdir, new byte[30], out _));
            Assert.Equal(-9, client.Pread(0xDEAD0001, 0, 10, out _));
            var random = new Random(11);
            for (int i = 0; i < 300; i++)
            {
                var junk = new byte[random.Next(0, 80)];
                random.NextBytes(junk);
                int r = client.RawCall((ushort)random.Next(RpcOpcode.Open, RpcOpcode.Forget), junk, out _);
                Assert.True(r <= 0 && r != RpcStatus.ETIMEDOUT, $"junk {i}: {r}");
            }
            // Unknown opcodes in the file range's neighbourhood: -ENOSYS, as before.
            Assert.Equal(RpcStatus.ENOSYS, client.RawCall(RpcOpcode.Forget + 1, [], out _));
            // Alive: a real round trip and a real file operation.
            var reply = new byte[RpcMessage.MaxPayload];
            Assert.Equal(RpcStatus.Ok, endpoint.Call(1, RpcOpcode.Echo, "alive?"u8, reply, out int length));
            Assert.Equal("alive?"u8.ToArray(), reply[..length]);
            Assert.Equal(0, client.Stat("/top", out _));
            client.Forget();
        }
        await rig.StopAsync();
        Assert.False(rig.AnyPanicked);
        await AssertDiskCleanAsync(rig.Disks[1]);
    }

    [Fact]
    public async Task AFullDiskAnswersEnospcAndPassesE2fsck()
    {
        await using var rig = Launch("full", new RigConfig { DiskBytes = 4L << 20 });
        await StartAsync(rig);
        var (link, client, _) = Connect(rig);
        using (link)
        {
            Assert.Equal(0, client.Statfs("/", out var before));
            Assert.Equal(0, client.Open("/filler", FileProtocol.O_RDWR | FileProtocol.O_CREAT, 0x1A4, out uint h));
            byte[] chunk = FileWorkload.Data(5, FileProtocol.MaxWrite);
            long written = 0;
            int r;
            while ((r = client.Pwrite(h, (ulong)written, chunk, out _)) > 0) written += r;
            Assert.Equal(-28, r);
            output.WriteLine($"{written} bytes fit; statfs said {before!.FreeBlocks} free blocks of {before.BlockSize}");
            Assert.InRange(written, (long)(before.FreeBlocks - 16) * before.BlockSize, (long)before.FreeBlocks * before.BlockSize);
            Assert.Equal(0, client.Statfs("/", out var after));
            Assert.Equal(0ul, after!.FreeBlocks);
            Assert.Equal(-28, client.Mkdir("/more"));
            Assert.Equal(0, client.Fsync(h));
            // Everything that went in reads back.
            var data = client.ReadAll(h, out int error);
            Assert.Equal(0, error);
            Assert.Equal(written, data!.Length);
            for (long at = 0; at < written; at += chunk.Length)
                Assert.True(data.AsSpan((int)at, (int)Math.Min(chunk.Length, written - at)).SequenceEqual(chunk.AsSpan(0, (int)Math.Min(chunk.Length, written - at))), $"bytes at {at}");
            Assert.Equal(0, client.Close(h));
        }
        await rig.StopAsync();
        await AssertDiskCleanAsync(rig.Disks[1]);
    }

    [Fact]
    public async Task ChangesReachTheSuperblockWithinASecondWithoutAnFsync()
    {
        await using var rig = Launch("delayed-sync");
        var vm = await StartAsync(rig);
        var (link, client, _) = Connect(rig);
        LinuxStatfs? statfs;
        using (link)
        {
            Assert.Equal(0, client.Mkdir("/d"));
            Assert.Equal(0, client.Open("/d/f", FileProtocol.O_WRONLY | FileProtocol.O_CREAT, 0x1A4, out uint h));
            Assert.Equal(200_000, client.WriteAll(h, 0, FileWorkload.Data(1, 200_000)));
            Assert.Equal(0, client.Close(h));
            Assert.Equal(0, client.Statfs("/", out statfs));
        }
        // No FSYNC: the component's timer writes the superblock's counts on its own.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Process.GetProcessById(vm.ProcessId!.Value).Kill();
        await rig.StopAsync(sync: false);
        Assert.Equal(statfs!.FreeBlocks.ToString(), await E2fsprogs.SuperblockFieldAsync(rig.Disks[1], "Free blocks"));
        Assert.Equal(statfs.FreeFiles.ToString(), await E2fsprogs.SuperblockFieldAsync(rig.Disks[1], "Free inodes"));
        await AssertDiskCleanAsync(rig.Disks[1]);
    }

    [Fact]
    public async Task ADamagedImageIsRefusedWithAReasonAndTheComponentKeepsServing()
    {
        string image = Path.Combine(Folder("damaged"), "disk.img");
        await RigDisk.CreateAsync(image, null, 8L << 20);
        // Group 0's inode table pointer made to point past its group (Linux's ext2_check_descriptors refuses that too).
        await using (var f = File.OpenWrite(image))
        {
            f.Position = 4096 + 8;   // 4 KiB blocks: the descriptor table is block 1; bg_inode_table at byte 8
            f.Write(BitConverter.GetBytes(900_000u));
        }
        await using var rig = Launch("damaged", new RigConfig { Disk = image });
        var vm = await StartAsync(rig);
        string? refusal = vm.Lines.FirstOrDefault(l => l.Contains("storage: cannot mount the disk: "));
        Assert.True(refusal != null, "no refusal line");
        Assert.Contains("group 0: inode table 900000 is outside the group; file requests answer -EIO", refusal);
        var (link, client, endpoint) = Connect(rig);
        using (link)
        {
            Assert.Equal(-5, client.Stat("/", out _));
            Assert.Equal(-5, client.Open("/x", FileProtocol.O_WRONLY | FileProtocol.O_CREAT, 0x1A4, out _));
            var reply = new byte[64];
            Assert.Equal(RpcStatus.Ok, endpoint.Call(1, RpcOpcode.Echo, "still here"u8, reply, out int length));
            Assert.Equal("still here"u8.ToArray(), reply[..length]);
        }
        Assert.False(rig.AnyPanicked);
    }

    [Fact]
    public async Task AStorageVmKilledMidRunRecoversAndKeepsEverythingFsynced()
    {
        string image = Path.Combine(Folder("crash"), "disk.img");
        await RigDisk.CreateAsync(image, null, 32L << 20);
        var durable = new Dictionary<string, byte[]>();   // contents as of the last completed fsync
        var written = new Dictionary<string, byte[]>();
        int fsyncs = 0;
        Exception? failure = null;
        // The step the kill may have cut short: the paths it touched and where its write began.
        string[] inFlight = [];
        long inFlightOffset = 0;

        await using (var rig = Launch("crash", new RigConfig { Disk = image }))
        {
            var vm = await StartAsync(rig);
            var (link, client, _) = Connect(rig);
            using (link)
            {
                var stop = new CancellationTokenSource();
                // A write-heavy run: files made, appended to, rewritten, renamed and removed; every
                // few steps an fsync, after which what was written counts as durable.
                var run = Task.Run(() =>
                {
                    var random = new Random(3);
                    try
                    {
                        for (int step = 0; !stop.IsCancellationRequested; step++)
                        {
                            string dir = $"/d{step % 4}";
                            if (step < 4) Assert.Equal(0, client.Mkdir(dir));
                            string path = $"{dir}/f{random.Next(12)}";
                            if (client.Open(path, FileProtocol.O_RDWR | FileProtocol.O_CREAT, 0x1A4, out uint h) < 0) break;
                            byte[] current = written.TryGetValue(path, out var c) ? c : [];
                            byte[] data = FileWorkload.Data(step, random.Next(1, 60_000));
                            long offset = random.Next(3) == 0 ? 0 : current.Length;
                            inFlight = [path];
                            inFlightOffset = offset;
                            if (client.WriteAll(h, (ulong)offset, data) != data.Length) break;
                            var next = new byte[Math.Max(current.Length, offset + data.Length)];
                            current.CopyTo(next, 0);
                            data.CopyTo(next, offset);
                            written[path] = next;
                            if (random.Next(8) == 0)
                            {
                                string other = $"{dir}/f{random.Next(12)}";
                                inFlight = [path, other];
                                inFlightOffset = 0;
                                if (client.Rename(path, other) < 0) break;
                                written[other] = written[path];
                                written.Remove(path);
                            }
                            bool sync = step % 5 == 4;
                            if (sync && client.Fsync(h) < 0) break;
                            client.Close(h);
                            inFlight = [];
                            if (sync)
                            {
                                durable = written.ToDictionary(kv => kv.Key, kv => kv.Value);
                                Interlocked.Increment(ref fsyncs);
                            }
                        }
                    }
                    catch (Exception e) { failure = e; }
                });
                var started = Stopwatch.StartNew();
                while (Volatile.Read(ref fsyncs) < 6 && !run.IsCompleted && started.Elapsed < TimeSpan.FromMinutes(5)) await Task.Delay(100);
                Assert.True(Volatile.Read(ref fsyncs) >= 6, $"the run did not get going: {failure}");
                await Task.Delay(700);   // into the middle of whatever comes next
                Process.GetProcessById(vm.ProcessId!.Value).Kill();
                stop.Cancel();
                await run;
                Assert.Null(failure);
            }
            output.WriteLine($"killed after {fsyncs} fsyncs; {durable.Count} files durable, {written.Count} written");
            await vm.StopAsync();
        }
        var afterCrash = await RigDisk.CheckAsync(image);
        output.WriteLine($"e2fsck -fn right after the crash: exit {afterCrash.ExitCode}\n{afterCrash.Output}");

        // The same disk, a new storage VM: its recovery pass, then every fsynced byte.
        await using (var rig = Launch("crash-restart", new RigConfig { Disk = image }))
        {
            var vm = await StartAsync(rig);
            Assert.Contains(vm.Lines, l => l.Contains("warn: storage: the volume was not cleanly unmounted; checking it"));
            string? recovery = vm.Lines.FirstOrDefault(l => l.Contains("storage: recovery "));
            output.WriteLine(recovery ?? "(no recovery line)");
            Assert.True(recovery != null && recovery.Contains("storage: recovery done: "), recovery);
            var (link, client, _) = Connect(rig);
            using (link)
            {
                int checkedFiles = 0;
                foreach (var (path, data) in durable)
                {
                    // Renamed away, renamed over or written again after the last fsync (by a step
                    // that completed): a later state, as good.
                    if (!written.TryGetValue(path, out var latest) || !latest.AsSpan().SequenceEqual(data)) continue;
                    bool cut = inFlight.Contains(path);
                    if (cut && inFlight.Length > 1) continue;   // a rename that may or may not have happened
                    Assert.True(client.Open(path, FileProtocol.O_RDONLY, 0, out uint h) == 0, $"{path} is gone");
                    var seen = client.ReadAll(h, out int error);
                    Assert.Equal(0, error);
                    // A write the kill cut short may have changed the file from its offset on; nothing before.
                    int compared = cut ? (int)Math.Min(inFlightOffset, data.Length) : data.Length;
                    Assert.True(seen!.Length >= compared && data.AsSpan(0, compared).SequenceEqual(seen.AsSpan(0, compared)),
                        $"{path}: {data.Length} bytes fsynced, {seen.Length} read back, the first {compared} differ");
                    if (!cut) Assert.Equal(data.Length, seen.Length);
                    client.Close(h);
                    checkedFiles++;
                }
                output.WriteLine($"{checkedFiles} fsynced files read back intact");
                Assert.True(checkedFiles > 0);
                Assert.Equal(0, client.Sync());
            }
            await rig.StopAsync();
            Assert.False(rig.AnyPanicked);
        }
        await AssertDiskCleanAsync(image);
    }

    public void Dispose()
    {
        foreach (var path in _scratch) try { Directory.Delete(path, true); } catch (IOException) { }
    }
}
