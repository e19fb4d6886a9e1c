using System.Buffers.Binary;
using System.Text;
using Tessera.Core.Rpc;
using Tessera.Storage;
using Tessera.Tests.Host.Ext2;
using Tessera.Tools.Storage;
using Xunit;

namespace Tessera.Tests.Host.Storage;

/// <summary>
/// The file service's own rules (kernel/Core/Rpc/FileProtocol.cs): handles per node, GETDENTS
/// cookies, READPATH, statfs and stat layouts, the limits of names, a full disk, no disk, and
/// requests that do not follow the protocol — each answered, none crashing the service.
/// </summary>
public sealed class FileServiceTests
{
    private const int EBADF = -9, ENOENT = -2, ENAMETOOLONG = -36, ENOSPC = -28, EBADMSG = -74, EINVAL = -22,
        ENODEV = -19, EIO = -5, ENFILE = -23, EISDIR = -21, ENOTDIR = -20;

    [Fact]
    public async Task HandlesBelongToTheNodeThatOpenedThemAndDieWithClose()
    {
        using var v = await ServedVolume.CreateAsync();
        var other = v.ClientFor(7);
        Assert.Equal(0, v.Client.Open("/f", FileProtocol.O_RDWR | FileProtocol.O_CREAT, 0x1A4, out uint h));
        Assert.Equal(3, v.Client.Pwrite(h, 0, "abc"u8, out ulong end));
        Assert.Equal(3ul, end);
        // Another node cannot use it, read, write, stat, close or use it as a base.
        Assert.Equal(EBADF, other.Pread(h, 0, 3, out _));
        Assert.Equal(EBADF, other.Pwrite(h, 0, "x"u8, out _));
        Assert.Equal(EBADF, other.Fstat(h, out _));
        Assert.Equal(EBADF, other.Close(h));
        Assert.Equal(EBADF, other.Stat("g", out _, dir: h));
        // A made-up handle and a closed one name nothing.
        Assert.Equal(EBADF, v.Client.Pread(h ^ 0x10000, 0, 3, out _));
        Assert.Equal(EBADF, v.Client.Pread(h + 1, 0, 3, out _));
        Assert.Equal(0, v.Client.Close(h));
        Assert.Equal(EBADF, v.Client.Pread(h, 0, 3, out _));
        Assert.Equal(EBADF, v.Client.Close(h));
        // The slot is reused, with another generation: the old handle stays dead.
        Assert.Equal(0, v.Client.Open("/f", FileProtocol.O_RDONLY, 0, out uint again));
        Assert.NotEqual(h, again);
        Assert.Equal(EBADF, v.Client.Pread(h, 0, 3, out _));
        Assert.Equal(3, v.Client.Pread(again, 0, 100, out byte[] data));
        Assert.Equal("abc"u8.ToArray(), data);
        Assert.Equal(0, v.Client.Close(again));
        await v.UnmountAndCheckAsync();
    }

    [Fact]
    public async Task ForgetClosesEveryHandleOfTheNodeAndReleasesUnlinkedFiles()
    {
        using var v = await ServedVolume.CreateAsync();
        var other = v.ClientFor(7);
        uint freeBefore = v.Fs.FreeBlocks;
        for (int i = 0; i < 5; i++) Assert.Equal(0, v.Client.Open($"/f{i}", FileProtocol.O_RDWR | FileProtocol.O_CREAT, 0x1A4, out _));
        Assert.Equal(0, other.Open("/f0", FileProtocol.O_RDONLY, 0, out uint kept));
        Assert.Equal(0, v.Client.Open("/doomed", FileProtocol.O_RDWR | FileProtocol.O_CREAT, 0x1A4, out uint doomed));
        Assert.Equal(100_000, (int)v.Client.WriteAll(doomed, 0, new byte[100_000]));
        Assert.Equal(0, v.Client.Unlink("/doomed"));
        Assert.True(v.Fs.FreeBlocks < freeBefore - 90, "an open unlinked file keeps its blocks");
        Assert.Equal(6, v.Client.Forget());
        Assert.Equal(1, v.Service.Table.Count);
        Assert.Equal(0, v.Client.Forget());
        Assert.True(v.Fs.FreeBlocks >= freeBefore - 10, "the last close freed the unlinked file's blocks");
        Assert.Equal(0, other.Fstat(kept, out var stat));
        Assert.Equal(0, other.Close(kept));
        await v.UnmountAndCheckAsync();
    }

    [Fact]
    public async Task OpenDirectoryHandlesAreBasesForRelativePaths()
    {
        using var v = await ServedVolume.CreateAsync();
        Assert.Equal(0, v.Client.Mkdir("/work"));
        Assert.Equal(0, v.Client.Open("/work", FileProtocol.O_RDONLY | FileProtocol.O_DIRECTORY, 0, out uint dir));
        Assert.Equal(0, v.Client.Open("data", FileProtocol.O_WRONLY | FileProtocol.O_CREAT, 0x1A4, out uint f, dir));
        Assert.Equal(0, v.Client.Close(f));
        Assert.Equal(0, v.Client.Mkdir("sub", dir: dir));
        Assert.Equal(0, v.Client.Rename("data", "sub/data", fromDir: dir, toDir: dir));
        Assert.Equal(0, v.Client.Stat("/work/sub/data", out _));
        Assert.Equal(0, v.Client.Stat("../work/sub/data", out _, dir: dir));
        // An absolute path ignores the base; a relative path from a file is -ENOTDIR.
        Assert.Equal(0, v.Client.Stat("/work", out _, dir: 0x12345));
        Assert.Equal(0, v.Client.Open("/work/sub/data", FileProtocol.O_RDONLY, 0, out uint file));
        Assert.Equal(ENOTDIR, v.Client.Stat("x", out _, dir: file));
        // fstatat(fd, "", AT_EMPTY_PATH) is the base itself; without the flag "" is -ENOENT.
        Assert.Equal(0, v.Client.StatAt(file, [], FileProtocol.AT_EMPTY_PATH, out var self));
        Assert.True(self!.IsRegular);
        Assert.Equal(ENOENT, v.Client.StatAt(file, [], 0, out _));
        // The working directory survives a rename of it, as an open directory does on Linux.
        Assert.Equal(0, v.Client.Rename("/work", "/moved"));
        Assert.Equal(0, v.Client.Stat("sub/data", out _, dir: dir));
        Assert.Equal(0, v.Client.Close(file));
        Assert.Equal(0, v.Client.Close(dir));
        await v.UnmountAndCheckAsync();
    }

    [Fact]
    public async Task GetdentsContinuesFromItsCookieAndListsEveryNameOnce()
    {
        using var v = await ServedVolume.CreateAsync();
        Assert.Equal(0, v.Client.Mkdir("/many"));
        var names = Enumerable.Range(0, 300).Select(i => $"entry-{i:D3}-" + new string('n', i % 40)).ToList();
        foreach (var name in names)
        {
            Assert.Equal(0, v.Client.Open("/many/" + name, FileProtocol.O_WRONLY | FileProtocol.O_CREAT, 0x1A4, out uint h));
            Assert.Equal(0, v.Client.Close(h));
        }
        foreach (int capacity in new[] { 80, 200, 1000, FileProtocol.MaxDirents, 1 << 20 })
        {
            var listed = v.Client.List("/many", out int error, capacity);
            Assert.True(listed is not null, $"capacity {capacity}: {error}");
            Assert.Equal(names.Order(StringComparer.Ordinal), listed!.Select(e => e.Name).Order(StringComparer.Ordinal));
            Assert.All(listed, e => Assert.Equal(8, e.Type));   // DT_REG
        }
        // A record's d_off is a cookie that continues after it.
        Assert.Equal(0, v.Client.Open("/many", FileProtocol.O_RDONLY | FileProtocol.O_DIRECTORY, 0, out uint dir));
        Assert.True(v.Client.Getdents(dir, 0, 4096, out var first, out _) > 0);
        Assert.True(v.Client.Getdents(dir, (ulong)first[5].Offset, 4096, out var rest, out _) > 0);
        Assert.Equal(first[6].Name, rest[0].Name);
        // Too small for one record: -EINVAL, as getdents64(2).
        Assert.Equal(EINVAL, v.Client.Getdents(dir, 0, 16, out _, out _));
        // At the end: nothing, the cookie unchanged.
        Assert.Equal(0, v.Client.Getdents(dir, 1UL << 40, 4096, out var none, out ulong next));
        Assert.Empty(none);
        Assert.Equal(1UL << 40, next);
        Assert.Equal(0, v.Client.Close(dir));
        // A file is not a directory.
        Assert.Equal(0, v.Client.Open("/many/" + names[0], FileProtocol.O_RDONLY, 0, out uint file));
        Assert.Equal(ENOTDIR, v.Client.Getdents(file, 0, 4096, out _, out _));
        Assert.Equal(0, v.Client.Close(file));
        await v.UnmountAndCheckAsync();
    }

    [Fact]
    public async Task ARemovedDirectoryStillOpenListsNothing()
    {
        using var v = await ServedVolume.CreateAsync();
        Assert.Equal(0, v.Client.Mkdir("/gone"));
        Assert.Equal(0, v.Client.Open("/gone", FileProtocol.O_RDONLY | FileProtocol.O_DIRECTORY, 0, out uint dir));
        Assert.Equal(0, v.Client.Rmdir("/gone"));
        Assert.Equal(0, v.Client.Getdents(dir, 0, 4096, out var entries, out _));
        Assert.Empty(entries);
        Assert.Equal(0, v.Client.Fstat(dir, out var stat));
        Assert.Equal(0ul, stat!.Links);
        Assert.Equal(ENOENT, v.Client.Open("x", FileProtocol.O_WRONLY | FileProtocol.O_CREAT, 0x1A4, out _, dir));
        Assert.Equal(0, v.Client.Close(dir));
        await v.UnmountAndCheckAsync();
    }

    [Fact]
    public async Task ReadPathServesExecutablesByPathInPieces()
    {
        using var v = await ServedVolume.CreateAsync();
        byte[] program = FileWorkload.Data(42, 50_000);
        Assert.Equal(0, v.Client.Mkdir("/bin"));
        Assert.Equal(0, v.Client.Open("/bin/prog", FileProtocol.O_WRONLY | FileProtocol.O_CREAT, 0x1ED, out uint h));
        Assert.Equal(program.Length, (int)v.Client.WriteAll(h, 0, program));
        Assert.Equal(0, v.Client.Close(h));
        Assert.Equal(0, v.Client.Symlink("bin/prog", "/prog"));
        var memory = v.ClientFor(2);
        var copy = new MemoryStream();
        for (ulong offset = 0; ; offset += FileProtocol.MaxRead)
        {
            int r = memory.ReadPath("/prog", offset, FileProtocol.MaxRead, out byte[] piece);
            Assert.True(r >= 0, $"READPATH at {offset}: {r}");
            if (r == 0) break;
            copy.Write(piece);
        }
        Assert.Equal(program, copy.ToArray());
        Assert.Equal(4096, memory.ReadPath("/bin/prog", 4096, 4096, out byte[] page));
        Assert.Equal(program.AsSpan(4096, 4096).ToArray(), page);
        Assert.Equal(ENOENT, memory.ReadPath("/bin/none", 0, 10, out _));
        Assert.Equal(EISDIR, memory.ReadPath("/bin", 0, 10, out _));
        Assert.Equal(EBADMSG, memory.ReadPath("/bin/prog", 0, FileProtocol.MaxRead + 1, out _));
        Assert.Equal(0, v.Service.Table.Count);
        await v.UnmountAndCheckAsync();
    }

    [Fact]
    public async Task StatAndStatfsUseLinuxLayouts()
    {
        using var v = await ServedVolume.CreateAsync(16L << 20, 1024);
        Assert.Equal(0, v.Client.Open("/f", FileProtocol.O_WRONLY | FileProtocol.O_CREAT, 0x1A0, out uint h));
        Assert.Equal(5000, (int)v.Client.WriteAll(h, 0, new byte[5000]));
        Assert.Equal(0, v.Client.Fstat(h, out var s));
        Assert.Equal(0, v.Client.Close(h));
        Assert.Equal(3ul, s!.Device);                   // the storage node's id
        Assert.Equal(0x81A0u, s.Mode);                  // S_IFREG | 0640
        Assert.Equal(1ul, s.Links);
        Assert.Equal(5000, s.Size);
        Assert.Equal(1024, s.BlockSize);
        Assert.Equal(10, s.Blocks);                     // 5 KiB in 1 KiB blocks, in 512-byte units
        Assert.InRange(s.ModifyTime, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 60);
        var debugfs = await E2fsprogs.DebugfsAsync(v.Scratch.Image, "stat /f");
        Assert.Contains($"Inode: {s.Inode} ", debugfs.Output);

        Assert.Equal(0, v.Client.Statfs("/f", out var fs));
        Assert.Equal(0xEF53, fs!.Type);
        Assert.Equal(1024, fs.BlockSize);
        Assert.Equal(1024, fs.FragmentSize);
        Assert.Equal(255, fs.NameLength);
        Assert.Equal((ulong)v.Fs.FreeBlocks, fs.FreeBlocks);
        Assert.Equal((ulong)v.Fs.InodesCount, fs.Files);
        Assert.Equal((ulong)v.Fs.FreeInodes, fs.FreeFiles);
        Assert.True(fs.AvailableBlocks < fs.FreeBlocks, "mke2fs reserves 5% for root");
        Assert.Equal(0x20 | 0x400, fs.Flags);           // ST_VALID | ST_NOATIME
        Assert.Equal(ENOENT, v.Client.Statfs("/none", out _));
        await v.UnmountAndCheckAsync();
    }

    [Fact]
    public async Task NamesLongerThan255BytesAndPathsOfPathMaxAreRefused()
    {
        using var v = await ServedVolume.CreateAsync();
        string longName = "/" + new string('n', 256);
        string longest = "/" + new string('n', 255);
        Assert.Equal(ENAMETOOLONG, v.Client.Open(longName, FileProtocol.O_WRONLY | FileProtocol.O_CREAT, 0x1A4, out _));
        Assert.Equal(ENAMETOOLONG, v.Client.Mkdir(longName));
        Assert.Equal(ENAMETOOLONG, v.Client.Stat(longName, out _));
        Assert.Equal(ENAMETOOLONG, v.Client.Stat(longName + "/x", out _));
        Assert.Equal(ENAMETOOLONG, v.Client.Unlink(longName));
        Assert.Equal(ENAMETOOLONG, v.Client.Symlink("t", longName));
        Assert.Equal(0, v.Client.Open(longest, FileProtocol.O_WRONLY | FileProtocol.O_CREAT, 0x1A4, out uint h));
        Assert.Equal(0, v.Client.Close(h));
        Assert.Equal(ENAMETOOLONG, v.Client.Rename(longest, longName));
        Assert.Equal(0, v.Client.Stat(longest, out _));
        // A path of PATH_MAX (4096) bytes or more, even of short components.
        string deep = string.Concat(Enumerable.Repeat("/a", 2048));
        Assert.Equal(ENAMETOOLONG, v.Client.Stat(deep, out _));
        Assert.Equal(ENAMETOOLONG, v.Client.Stat(deep[..4095] + "/", out _));
        Assert.Equal(ENOENT, v.Client.Stat(deep[..4094] + "/", out _));   // 4095 bytes: long enough to be looked up
        await v.UnmountAndCheckAsync();
    }

    [Fact]
    public async Task DotDotStopsAtTheRoot()
    {
        using var v = await ServedVolume.CreateAsync();
        Assert.Equal(0, v.Client.Stat("/", out var root));
        Assert.Equal(0, v.Client.Stat("/..", out var up));
        Assert.Equal(root!.Inode, up!.Inode);
        Assert.Equal(0, v.Client.Stat("/../../..", out up));
        Assert.Equal(root.Inode, up!.Inode);
        Assert.Equal(0, v.Client.Mkdir("/../../escape"));
        Assert.Equal(0, v.Client.Stat("/escape", out _));
        Assert.Equal(0, v.Client.Open("../../../escape/f", FileProtocol.O_WRONLY | FileProtocol.O_CREAT, 0x1A4, out uint h));
        Assert.Equal(0, v.Client.Close(h));
        Assert.Equal(0, v.Client.Stat("/escape/f", out _));
        Assert.Equal(0, v.Client.Open("/escape", FileProtocol.O_RDONLY | FileProtocol.O_DIRECTORY, 0, out uint dir));
        Assert.Equal(0, v.Client.Stat("../../../../escape/f", out _, dir: dir));
        Assert.Equal(0, v.Client.Close(dir));
        Assert.Equal(0, v.Client.Symlink("../../../../..", "/escape/up"));
        Assert.Equal(0, v.Client.Stat("/escape/up", out up));
        Assert.Equal(root.Inode, up!.Inode);
        await v.UnmountAndCheckAsync();
        await TreeComparison.UnpackAsync(v.Scratch.Image, Path.Combine(v.Scratch.Folder, "unpacked"));
        Assert.Equal(["escape", "lost+found"], Directory.GetFileSystemEntries(Path.Combine(v.Scratch.Folder, "unpacked")).Select(Path.GetFileName).Order());
    }

    [Fact]
    public async Task AFullDiskAnswersEnospcAndStaysConsistent()
    {
        using var v = await ServedVolume.CreateAsync(1L << 20, 1024, inodes: 64);
        Assert.Equal(0, v.Client.Open("/big", FileProtocol.O_WRONLY | FileProtocol.O_CREAT, 0x1A4, out uint h));
        long written = 0;
        int result;
        byte[] chunk = FileWorkload.Data(9, FileProtocol.MaxWrite);
        while ((result = v.Client.Pwrite(h, (ulong)written, chunk, out _)) > 0) written += result;
        Assert.Equal(ENOSPC, result);
        Assert.InRange(written, 500_000, 1L << 20);
        Assert.Equal(0, v.Client.Fstat(h, out var s));
        Assert.Equal(written, s!.Size);
        // Creating needs a directory block or inode at some point: -ENOSPC for mkdir once the disk is full.
        Assert.Equal(ENOSPC, v.Client.Mkdir("/d"));
        Assert.Equal(0, v.Client.Fsync(h));
        Assert.Equal(0, v.Client.Close(h));
        // Files: inodes run out too.
        int created = 0;
        Assert.Equal(0, v.Client.Truncate("/big", 0));
        while (true)
        {
            int r = v.Client.Open($"/f{created}", FileProtocol.O_WRONLY | FileProtocol.O_CREAT, 0x1A4, out uint f);
            if (r < 0) { Assert.Equal(ENOSPC, r); break; }
            Assert.Equal(0, v.Client.Close(f));
            created++;
        }
        Assert.InRange(created, 40, 64);
        Assert.Equal(0, v.Client.Sync());
        await v.UnmountAndCheckAsync();
        // The bytes that went in are all there.
        v.Serve();
        Assert.Equal(0, v.Client.Stat("/big", out s));
        Assert.Equal(0, s!.Size);
        await v.UnmountAndCheckAsync();
    }

    [Fact]
    public async Task TheOpenFileTableFillsUpWithEnfile()
    {
        using var v = await ServedVolume.CreateAsync();
        var handles = new List<uint>();
        for (int i = 0; i < OpenFileTable.Capacity; i++)
        {
            Assert.Equal(0, v.Client.Open("/", FileProtocol.O_RDONLY, 0, out uint h));
            handles.Add(h);
        }
        Assert.Equal(ENFILE, v.Client.Open("/", FileProtocol.O_RDONLY, 0, out _));
        Assert.Equal(ENFILE, v.Client.Open("/new", FileProtocol.O_WRONLY | FileProtocol.O_CREAT, 0x1A4, out _));
        Assert.Equal(ENOENT, v.Client.Stat("/new", out _));
        Assert.Equal(handles.Count, handles.Distinct().Count());
        Assert.Equal(0, v.Client.Close(handles[500]));
        Assert.Equal(0, v.Client.Open("/", FileProtocol.O_RDONLY, 0, out _));
        Assert.Equal(OpenFileTable.Capacity, v.Client.Forget());
        await v.UnmountAndCheckAsync();
    }

    [Fact]
    public void WithoutAVolumeEveryFileRequestGetsTheSameAnswer()
    {
        foreach (int status in new[] { ENODEV, EIO })
        {
            var service = new FileService(null, status, 3, 1);
            var client = new FileClient(new DirectFileTransport(service, 100));
            Assert.Equal(status, client.Open("/", 0, 0, out _));
            Assert.Equal(status, client.Stat("/", out _));
            Assert.Equal(status, client.Mkdir("/x"));
            Assert.Equal(status, client.Pread(1, 0, 10, out _));
            Assert.Equal(status, client.Sync());
            Assert.Equal(status, client.Forget());
            Assert.Equal(status, client.RawCall(RpcOpcode.Rename, [1, 2, 3], out _));
        }
    }

    [Fact]
    public async Task MalformedRequestsGetErrorRepliesAndTheServiceGoesOn()
    {
        using var v = await ServedVolume.CreateAsync();
        Assert.Equal(0, v.Client.Open("/f", FileProtocol.O_RDWR | FileProtocol.O_CREAT, 0x1A4, out uint h));
        Assert.Equal(4, v.Client.Pwrite(h, 0, "data"u8, out _));
        byte[] Path(uint baseHandle, uint arg, ulong value, string a, string b = "")
        {
            var buffer = new byte[RpcMessage.MaxPayload];
            int n = FileProtocol.WritePathRequest(buffer, baseHandle, arg, value, Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));
            return buffer[..n];
        }

        // Shorter than a header, names longer than the payload, a payload longer than its names,
        // a non-zero reserved field, a second name where none belongs.
        var good = Path(FileClient.Root, 0, 0, "/f");
        Assert.Equal(EBADMSG, v.Client.RawCall(RpcOpcode.Stat, good[..10], out _));
        Assert.Equal(EBADMSG, v.Client.RawCall(RpcOpcode.Stat, good[..^1], out _));
        Assert.Equal(EBADMSG, v.Client.RawCall(RpcOpcode.Stat, [.. good, 0], out _));
        var reserved = (byte[])good.Clone();
        reserved[21] = 1;
        Assert.Equal(EBADMSG, v.Client.RawCall(RpcOpcode.Stat, reserved, out _));
        Assert.Equal(EBADMSG, v.Client.RawCall(RpcOpcode.Stat, Path(FileClient.Root, 0, 0, "/f", "/g"), out _));
        Assert.Equal(EBADMSG, v.Client.RawCall(RpcOpcode.Mkdir, Path(FileClient.Root, 0x1ED, 5, "/d"), out _));
        // Handle requests: too short, too long, READ larger than a payload, flags no one defined.
        Assert.Equal(EBADMSG, v.Client.RawCall(RpcOpcode.Read, new byte[8], out _));
        Assert.Equal(EBADMSG, v.Client.RawCall(RpcOpcode.Fstat, new byte[17], out _));
        Assert.Equal(EBADMSG, v.Client.HandleCall(RpcOpcode.Read, h, FileProtocol.MaxRead + 1, 0, [], out _));
        Assert.Equal(EBADMSG, v.Client.HandleCall(RpcOpcode.Write, h, 7, 0, "x"u8, out _));
        Assert.Equal(EBADMSG, v.Client.HandleCall(RpcOpcode.Fsync, h, 2, 0, [], out _));
        Assert.Equal(EBADMSG, v.Client.RawCall(RpcOpcode.Forget, [1], out _));
        Assert.Equal(EBADMSG, v.Client.RawCall(RpcOpcode.Close, [], out _));
        // Offsets past off_t and unknown flags are -EINVAL, as the system calls say.
        Assert.Equal(EINVAL, v.Client.Pread(h, 1UL << 63, 10, out _));
        Assert.Equal(EINVAL, v.Client.Pwrite(h, 1UL << 63, "x"u8, out _));
        Assert.Equal(EINVAL, v.Client.Ftruncate(h, 1UL << 63));
        Assert.Equal(EINVAL, v.Client.Open("/f", FileProtocol.O_ACCMODE, 0, out _));
        Assert.Equal(EINVAL, v.Client.Rename("/f", "/g", 4));
        Assert.Equal(EINVAL, v.Client.Access("/f", 8));
        Assert.Equal(EINVAL, v.Client.PathCall(RpcOpcode.Unlink, FileClient.Root, 1, 0, "/f"u8, [], out _));
        Assert.Equal(EINVAL, v.Client.StatAt(FileClient.Root, "/f"u8, 0x40, out _));
        Assert.Equal(EINVAL, v.Client.Readlink("/f", out _, capacity: 0));
        Assert.Equal(13ul, v.Service.Malformed);   // the EBADMSG answers above, counted apart from file errors

        // Random bytes to every opcode, then the file is still there and the service answers.
        var random = new Random(6);
        for (int i = 0; i < 20_000; i++)
        {
            var junk = new byte[random.Next(0, 64)];
            random.NextBytes(junk);
            if (random.Next(3) == 0 && junk.Length >= 24) { junk[16] = (byte)(junk.Length - 24); junk[17] = 0; junk[18] = 0; junk[19] = 0; junk[20] = junk[21] = junk[22] = junk[23] = 0; }
            ushort op = (ushort)random.Next(RpcOpcode.Open, RpcOpcode.Forget + 1);
            if (op == RpcOpcode.Forget) continue;
            int r = v.Client.RawCall(op, junk, out _);
            Assert.True(r <= 0, $"opcode {op}: {r}");
        }
        v.Client.Forget();
        Assert.Equal(0, v.Client.Open("/f", FileProtocol.O_RDONLY, 0, out h));
        Assert.Equal(4, v.Client.Pread(h, 0, 10, out byte[] data));
        Assert.Equal("data"u8.ToArray(), data);
        Assert.Equal(0, v.Client.Close(h));
        Assert.Equal(0, v.Fs.CorruptionsFound);
        // Whatever the junk created or removed, the volume is consistent.
        v.Client.Forget();
        await v.UnmountAndCheckAsync();
    }
}
