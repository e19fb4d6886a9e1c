using FsCheck.Xunit;
using Tessera.Core.Rpc;
using Tessera.Memory;
using Xunit;

namespace Tessera.Tests.Host.Memory;

/// <summary>
/// The memory service (kernel/Memory/MemoryService.cs) driven through its handlers with the
/// processor's requests, on host frames, with a real musl-static executable: what EXECVE
/// builds, what every kind of miss returns, that pages follow munmap, mremap, mmap MAP_FIXED
/// and brk, that every malformed or foreign request is refused without effect, and that EXIT
/// gives every frame back.
/// </summary>
public sealed class MemoryServiceTests : IDisposable
{
    private const ulong P = 4096;
    private const ushort Node = 1;
    private const uint Pid = 42;
    private const int RW = Prot.Read | Prot.Write;
    private const int Anon = MapFlags.Private | MapFlags.Anonymous;

    private readonly FakePageFrames _frames = new();
    private readonly RecordingPlatform _platform = new();
    private readonly ExecutableList _executables = new();
    private readonly byte[] _program;
    private readonly MemoryService _service;
    private readonly MemoryClient _client;

    public MemoryServiceTests()
    {
        _program = File.ReadAllBytes(HostPrograms.MemoryProbe());
        _executables.Add("/tmp/build/memory-probe memory-probe", _program);
        _service = new MemoryService(_frames, _executables, _platform);
        _client = MemoryClient.Direct(_service, Node);
    }

    public void Dispose() => _frames.Dispose();

    private static byte[] Pattern(int seed)
    {
        var page = new byte[P];
        new Random(seed).NextBytes(page);
        return page;
    }

    private MemoryClient.ExecResult Exec(uint pid = Pid)
    {
        var r = _client.Execve(pid, "/bin/memory-probe", ["memory-probe", "world"], ["HOME=/", "LANG=C"]);
        Assert.Equal(0, r.Status);
        return r;
    }

    /// <summary>What ProgramLoader gives for the same program and arguments (the service's inputs).</summary>
    private (ProgramStart Start, VmaSet Areas, byte[] Stack) Expected()
    {
        var image = new ElfImage();
        Assert.Equal(ElfError.None, image.Parse(_program));
        var random = new byte[16];
        _platform.FillRandom(random);
        var input = new InitialStackInput
        {
            Arguments = HostPrograms.Pack("memory-probe", "world"),
            Environment = HostPrograms.Pack("HOME=/", "LANG=C"),
            ExecFn = "/bin/memory-probe"u8,
            Random = random,
            HwCap = _platform.HardwareCapabilities,
        };
        var stack = new byte[AddressSpaceLayout.PageAlign(InitialStack.RequiredBytes(input, AddressSpaceLayout.LinuxX8664.StackLimit))];
        var areas = new VmaSet(AddressSpaceLayout.LinuxX8664);
        Assert.Equal(0, ProgramLoader.Load(areas, image, 1, input, stack, out ProgramStart start));
        return (start, areas, stack);
    }

    [Fact]
    public void ExecveAnswersWhatTheLoaderDecidedAndAnnouncesTheFreshRanges()
    {
        var r = Exec();
        var (start, areas, _) = Expected();
        Assert.Equal(start.Entry, r.Entry);
        Assert.Equal(start.StackPointer, r.StackPointer);
        Assert.Equal(start.BrkStart, r.Brk);
        Assert.Contains("exec 1/42 /bin/memory-probe", _platform.Reports);

        // Fresh: every anonymous (bss) area whole, and the stack area below the initial stack.
        var expected = new List<(ulong, ulong)>();
        for (int i = 0; i < areas.Count; i++)
        {
            Vma a = areas[i];
            if (a.Kind == VmaKind.Anonymous) expected.Add((a.Start >> 12, (a.End - a.Start) >> 12));
            if (a.Kind == VmaKind.Stack) expected.Add((a.Start >> 12, (start.StackPopulatedStart - a.Start) >> 12));
        }
        Assert.Equal(expected, r.Fresh);
        Assert.Contains(r.Fresh, f => f.FirstPage << 12 == start.StackAreaStart);
        // Only the initial stack's pages are stored.
        Assert.Equal((long)((start.StackTop - start.StackPopulatedStart) / P), _service.Find(Node, Pid)!.Pages.StoredPages);
    }

    [Fact]
    public void EveryFilePageReadsAsTheExecutableMapsIt()
    {
        Exec();
        var image = new ElfImage();
        image.Parse(_program);
        for (int s = 0; s < image.LoadCount; s++)
        {
            ElfSegment seg = image.Load(s);
            for (ulong page = seg.PageStart; page < seg.MemoryEnd; page += P)
            {
                Assert.True(image.PageSource(page, out ulong offset, out uint bytes, out byte prot));
                var r = _client.Miss(Pid, page + 8);
                Assert.Equal(0, r.Status);
                Assert.Equal(prot, r.Protection);
                byte[] got = r.Kind == MemoryProtocol.ReplyPage ? r.Data : new byte[P];
                Assert.Equal(_program.AsSpan((int)offset, (int)bytes).ToArray(), got[..(int)bytes]);
                Assert.All(got[(int)bytes..], b => Assert.Equal(0, b));
                // A whole bss page is a zero page: nothing is transferred.
                Assert.Equal(bytes == 0 ? MemoryProtocol.ReplyZeroPage : MemoryProtocol.ReplyPage, r.Kind);
            }
        }
        var counters = _service.Find(Node, Pid)!.Counters;
        Assert.True(counters.FilePages > 0 && counters.ZeroPages > 0, $"{counters.FilePages} file, {counters.ZeroPages} zero, {counters.Misses} misses");
    }

    [Fact]
    public void TheStackPagesHoldTheInitialStack()
    {
        var r = Exec();
        var (start, _, stack) = Expected();
        ulong bottom = start.StackTop - (ulong)stack.Length;
        for (ulong page = start.StackPopulatedStart; page < start.StackTop; page += P)
            Assert.Equal(stack.AsSpan((int)(page - bottom), (int)P).ToArray(), _client.Read(Pid, page));
        byte[] top = _client.Read(Pid, r.StackPointer);
        Assert.Equal(2UL, BitConverter.ToUInt64(top, (int)(r.StackPointer & 0xfff))); // argc
        // Below the initial stack: fresh, a zero page; below the stack area: it grows.
        Assert.Equal(MemoryProtocol.ReplyZeroPage, _client.Miss(Pid, start.StackPopulatedStart - P, MemoryProtocol.MissWrite).Kind);
        Assert.Equal(0, _client.Miss(Pid, start.StackAreaStart - 3 * P, MemoryProtocol.MissWrite).Status);
    }

    [Fact]
    public void AWrittenBackPageIsServedBackAndAVictimIsStoredBeforeTheMiss()
    {
        var r = Exec();
        ulong heap = r.Brk;
        Assert.Equal(heap + 4 * P, (ulong)_client.Brk(Pid, heap + 4 * P).Result);
        byte[] a = Pattern(1), b = Pattern(2);
        Assert.Equal(0, _client.Flush(Pid, heap + 5, a)); // any address inside the page
        Assert.Equal(a, _client.Read(Pid, heap));
        // The victim is the very page asked for: the miss must see the victim's bytes.
        var m = _client.Miss(Pid, heap, MemoryProtocol.MissWrite, (Pid, heap, b));
        Assert.Equal(0, m.Status);
        Assert.Equal(b, m.Data);
        Assert.Equal(RW, m.Protection);
        // A dirty text page (say, after mprotect) can be written back and read back too.
        var image = new ElfImage();
        image.Parse(_program);
        ulong text = image.Load(0).PageStart;
        Assert.Equal(0, _client.Flush(Pid, text, a));
        Assert.Equal(a, _client.Read(Pid, text));
        var c = _service.Find(Node, Pid)!.Counters;
        Assert.Equal(3UL, c.WriteBacks);
        Assert.Equal(1UL, c.Victims);
    }

    [Fact]
    public void AVictimThatNoAreaCoversIsDroppedAndTheMissStillServed()
    {
        var r = Exec();
        var m = _client.Miss(Pid, r.StackPointer, 0, (Pid, 0x1000, Pattern(3)));
        Assert.Equal(0, m.Status);
        m = _client.Miss(Pid, r.StackPointer, 0, (Pid + 1, r.StackPointer, Pattern(3))); // an exited pid
        Assert.Equal(0, m.Status);
        Assert.Equal(2UL, _service.Find(Node, Pid)!.Counters.VictimsDropped);
        Assert.Equal(-Errno.EFAULT, _client.Flush(Pid, 0x1000, Pattern(3)));
    }

    [Fact]
    public void MissesAreCheckedAgainstTheAreas()
    {
        var r = Exec();
        var image = new ElfImage();
        image.Parse(_program);
        ulong text = image.Entry;
        Assert.Equal(-Errno.EACCES, _client.Miss(Pid, text, MemoryProtocol.MissWrite).Status);
        Assert.Equal(0, _client.Miss(Pid, text, MemoryProtocol.MissExecute).Status);
        Assert.Equal(-Errno.EACCES, _client.Miss(Pid, r.StackPointer, MemoryProtocol.MissExecute).Status); // no exec stack
        Assert.Equal(-Errno.EFAULT, _client.Miss(Pid, 0).Status);
        Assert.Equal(-Errno.EFAULT, _client.Miss(Pid, r.Brk).Status); // the heap is empty at exec
        Assert.Equal(-Errno.EFAULT, _client.Miss(Pid, 0x7ffffffff000).Status);
        Assert.Equal(-Errno.EFAULT, _client.Miss(Pid, ulong.MaxValue).Status);
        Assert.Equal(-Errno.EINVAL, _client.Miss(Pid, text, MemoryProtocol.MissWrite | MemoryProtocol.MissExecute).Status);
        Assert.Equal(-Errno.EINVAL, _client.Miss(Pid, text, 0x80).Status);
    }

    [Fact]
    public void MmapIsFreshAndMunmapFreesItsPages()
    {
        Exec();
        var m = _client.Mmap(Pid, 0, 3 * P, RW, Anon);
        Assert.True(m.Result > 0 && m.Fresh);
        ulong a = (ulong)m.Result;
        Assert.Equal(MemoryProtocol.ReplyZeroPage, _client.Miss(Pid, a + P, MemoryProtocol.MissWrite).Kind);
        long framesBefore = _frames.Outstanding;
        Assert.Equal(0, _client.Flush(Pid, a + P, Pattern(4)));
        Assert.True(_frames.Outstanding > framesBefore);
        Assert.Equal(0, _client.Munmap(Pid, a, 3 * P).Result);
        Assert.Equal(framesBefore, _frames.Outstanding);
        Assert.Equal(-Errno.EFAULT, _client.Miss(Pid, a + P).Status);
        // Errors are mmap's own, in an OK reply.
        Assert.Equal(-Errno.EINVAL, _client.Mmap(Pid, 0, 0, RW, Anon).Result);
        Assert.Equal(-Errno.EINVAL, _client.Munmap(Pid, a + 1, P).Result);
        Assert.Equal(-Errno.ENODEV, _client.Mmap(Pid, 0, P, RW, MapFlags.Private, fd: 3).Result);
    }

    [Fact]
    public void MapFixedReplacesThePagesUnderIt()
    {
        Exec();
        ulong a = (ulong)_client.Mmap(Pid, 0, 2 * P, RW, Anon).Result;
        Assert.Equal(0, _client.Flush(Pid, a, Pattern(5)));
        var m = _client.Mmap(Pid, a, 2 * P, RW, Anon | MapFlags.Fixed);
        Assert.Equal((long)a, m.Result);
        Assert.True(m.Fresh);
        Assert.Equal(MemoryProtocol.ReplyZeroPage, _client.Miss(Pid, a).Kind);
    }

    [Fact]
    public void MprotectChangesWhatAMissMayDo()
    {
        Exec();
        ulong a = (ulong)_client.Mmap(Pid, 0, 2 * P, RW, Anon).Result;
        Assert.Equal(0, _client.Mprotect(Pid, a, P, Prot.Read).Result);
        Assert.Equal(-Errno.EACCES, _client.Miss(Pid, a, MemoryProtocol.MissWrite).Status);
        Assert.Equal(Prot.Read, _client.Miss(Pid, a).Protection);
        Assert.Equal(RW, _client.Miss(Pid, a + P, MemoryProtocol.MissWrite).Protection);
        Assert.Equal(0, _client.Mprotect(Pid, a, P, Prot.None).Result);
        Assert.Equal(-Errno.EACCES, _client.Miss(Pid, a).Status);
        Assert.Equal(-Errno.ENOMEM, _client.Mprotect(Pid, 0x1000, P, Prot.Read).Result);
        Assert.Equal(-Errno.EINVAL, _client.Mprotect(Pid, a, P, 0x100).Result);
    }

    [Fact]
    public void MremapMovesThePagesAndAnnouncesTheGrownTail()
    {
        Exec();
        ulong a = (ulong)_client.Mmap(Pid, 0, 2 * P, RW, Anon).Result;
        _client.Mmap(Pid, a + 2 * P, P, Prot.Read, Anon | MapFlags.Fixed); // blocks growth in place
        byte[] first = Pattern(6), second = Pattern(7);
        _client.Flush(Pid, a, first);
        _client.Flush(Pid, a + P, second);
        var m = _client.Mremap(Pid, a, 2 * P, 4 * P, MremapFlags.MayMove);
        Assert.True(m.Result > 0 && (ulong)m.Result != a && m.Fresh);
        ulong b = (ulong)m.Result;
        Assert.Equal(first, _client.Read(Pid, b));
        Assert.Equal(second, _client.Read(Pid, b + P));
        Assert.Equal(MemoryProtocol.ReplyZeroPage, _client.Miss(Pid, b + 2 * P).Kind);
        Assert.Equal(-Errno.EFAULT, _client.Miss(Pid, a).Status);
        PageStore pages = _service.Find(Node, Pid)!.Pages;
        Assert.Equal(b, pages.NextStored(b, b + 4 * P));
        Assert.Equal(b + P, pages.NextStored(b + P, b + 4 * P));
        Assert.Equal(PageStore.NotFound, pages.NextStored(b + 2 * P, b + 4 * P));
        Assert.Equal(PageStore.NotFound, pages.NextStored(a, a + 2 * P));

        // Shrinking in place frees the tail's page.
        long frames = _frames.Outstanding;
        var s = _client.Mremap(Pid, b, 4 * P, P, 0);
        Assert.Equal((long)b, s.Result);
        Assert.False(s.Fresh);
        Assert.True(_frames.Outstanding < frames);
        Assert.Equal(first, _client.Read(Pid, b));
        Assert.Equal(-Errno.EFAULT, _client.Miss(Pid, b + P).Status);

        // MREMAP_FIXED onto a mapping with pages: they are replaced by the moved ones.
        ulong c = (ulong)_client.Mmap(Pid, 0, P, RW, Anon).Result;
        _client.Flush(Pid, c, second);
        Assert.Equal((long)c, _client.Mremap(Pid, b, P, P, MremapFlags.MayMove | MremapFlags.Fixed, c).Result);
        Assert.Equal(first, _client.Read(Pid, c));
        Assert.Equal(-Errno.EFAULT, _client.Mremap(Pid, b, P, P, MremapFlags.MayMove).Result);
    }

    [Fact]
    public void BrkGrowsFreshAndShrinkingFreesThePages()
    {
        var r = Exec();
        Assert.Equal(r.Brk, (ulong)_client.Brk(Pid, 0).Result); // query
        var g = _client.Brk(Pid, r.Brk + 10 * P + 5);
        Assert.Equal(r.Brk + 10 * P + 5, (ulong)g.Result);
        Assert.True(g.Fresh);
        Assert.False(_client.Brk(Pid, r.Brk + 10 * P + 100).Fresh); // same last page
        long frames = _frames.Outstanding;
        for (ulong p = r.Brk; p < r.Brk + 11 * P; p += P) Assert.Equal(0, _client.Flush(Pid, p, Pattern((int)(p >> 12))));
        var s = _client.Brk(Pid, r.Brk + P);
        Assert.Equal(r.Brk + P, (ulong)s.Result);
        Assert.False(s.Fresh);
        Assert.Equal(Pattern((int)(r.Brk >> 12)), _client.Read(Pid, r.Brk));
        Assert.Equal(-Errno.EFAULT, _client.Miss(Pid, r.Brk + P).Status);
        Assert.True(_frames.Outstanding <= frames + 4); // the page kept, and the tables on its way
        Assert.Equal(r.Brk + P, (ulong)_client.Brk(Pid, 0x1000).Result); // below the start: refused
    }

    [Fact]
    public void ExitFreesEveryFrameAndForgetsTheProcess()
    {
        var r = Exec();
        ulong a = (ulong)_client.Mmap(Pid, 0, 64 * P, RW, Anon).Result;
        for (ulong p = a; p < a + 64 * P; p += P) _client.Flush(Pid, p, Pattern(8));
        _client.Brk(Pid, r.Brk + P);
        _client.Flush(Pid, r.Brk, Pattern(9));
        Assert.True(_frames.Outstanding > 64);
        Assert.Equal(0, _client.Exit(Pid));
        Assert.Equal(0, _frames.Outstanding);
        Assert.Equal(0, _service.LiveProcesses);
        Assert.Contains(_platform.Reports, l => l.StartsWith("exit 1/42 ") && l.Contains("writebacks=65"));
        Assert.Equal(-Errno.ESRCH, _client.Exit(Pid));
        Assert.Equal(-Errno.ESRCH, _client.Miss(Pid, r.StackPointer).Status);
        Assert.Equal(-Errno.ESRCH, _client.Brk(Pid, 0).Status);
        // The slot is reused by the next process.
        Exec(Pid + 1);
        Assert.Equal(1, _service.LiveProcesses);
    }

    [Fact]
    public void ProcessesAreKeyedByNodeAndPid()
    {
        Exec();
        var other = MemoryClient.Direct(_service, 2);
        Assert.Equal(-Errno.ESRCH, other.Miss(Pid, 0x400000).Status);
        Assert.Equal(-Errno.ESRCH, other.Exit(Pid));
        Assert.Equal(0, other.Execve(Pid, "/bin/memory-probe", ["memory-probe"], []).Status);
        Assert.Equal(2, _service.LiveProcesses);
        _client.Exit(Pid);
        other.Exit(Pid);
        Assert.Equal(0, _frames.Outstanding);
    }

    [Fact]
    public void ExecveAgainReplacesTheImage()
    {
        var r = Exec();
        ulong a = (ulong)_client.Mmap(Pid, 0, P, RW, Anon).Result;
        _client.Flush(Pid, a, Pattern(10));
        var again = Exec();
        Assert.Equal(r.StackPointer, again.StackPointer);
        Assert.Equal(-Errno.EFAULT, _client.Miss(Pid, a).Status);
        Assert.Equal(1, _service.LiveProcesses);
        _client.Exit(Pid);
        Assert.Equal(0, _frames.Outstanding);
    }

    [Fact]
    public void ExecveFailuresAreErrnoReplies()
    {
        var r = Exec();
        _executables.Add("other", _program); // two executables now: no fallback to "the only one"
        Assert.Equal(-Errno.ENOENT, _client.Execve(Pid, "/bin/nothing", ["x"], []).Status);
        Assert.Equal(-Errno.ENOENT, _client.Execve(Pid, "", [], []).Status);
        Assert.Equal(-Errno.ENOENT, _client.Execve(Pid, "/bin/", [], []).Status);
        // The old image survives a failure before the point of no return.
        Assert.Equal(0, _client.Miss(Pid, r.StackPointer).Status);

        var broken = (byte[])_program.Clone();
        broken[18] = 3; // e_machine: i386
        _executables.Add("broken", broken);
        Assert.Equal(-Errno.ENOEXEC, _client.Execve(Pid, "/x/broken", ["broken"], []).Status);
        Assert.Contains(_platform.Reports, l => l.Contains("broken") && l.Contains("WrongMachine"));
        Assert.Equal(-Errno.EINVAL, _client.Execve(0, "/bin/memory-probe", [], []).Status);

        // Counts that do not match the strings, and strings without their NUL.
        var (status, _) = _client.Raw(RpcOpcode.Execve, [.. BitConverter.GetBytes(Pid), 2, 0, 0, 0, .. "/bin/memory-probe\0memory-probe\0"u8]);
        Assert.Equal(-Errno.EINVAL, status);
        (status, _) = _client.Raw(RpcOpcode.Execve, [.. BitConverter.GetBytes(Pid), 0, 0, 0, 0, .. "/bin/memory-probe\0extra\0"u8]);
        Assert.Equal(-Errno.EINVAL, status);
        (status, _) = _client.Raw(RpcOpcode.Execve, [.. BitConverter.GetBytes(Pid), 0, 0, 0, 0, .. "/bin/memory-probe"u8]);
        Assert.Equal(-Errno.EINVAL, status);
        (status, _) = _client.Raw(RpcOpcode.Execve, [1, 0, 0]);
        Assert.Equal(-Errno.EINVAL, status);
        Assert.Equal(0, _client.Miss(Pid, r.StackPointer).Status);
    }

    [Fact]
    public void TheOnlyExecutableRunsWhateverItIsCalled()
    {
        Assert.Equal(0, _client.Execve(Pid, "/usr/bin/anything", ["anything"], []).Status);
    }

    [Theory]
    [InlineData(RpcOpcode.PcacheMiss, 15)]
    [InlineData(RpcOpcode.PcacheMiss, 17)]
    [InlineData(RpcOpcode.PcacheMiss, MemoryProtocol.MissWithVictimSize)] // no victim flag
    [InlineData(RpcOpcode.PcacheFlush, MemoryProtocol.FlushSize - 1)]
    [InlineData(RpcOpcode.PcacheFlush, MemoryProtocol.FlushSize + 1)]
    [InlineData(RpcOpcode.Mmap, 39)]
    [InlineData(RpcOpcode.Mmap, 41)]
    [InlineData(RpcOpcode.Munmap, 23)]
    [InlineData(RpcOpcode.Mprotect, 23)]
    [InlineData(RpcOpcode.Mremap, 39)]
    [InlineData(RpcOpcode.Brk, 15)]
    [InlineData(RpcOpcode.Brk, 41)]
    [InlineData(RpcOpcode.Exit, 3)]
    [InlineData(RpcOpcode.Exit, 0)]
    public void MalformedLengthsAreRefused(ushort opcode, int length)
    {
        var r = Exec();
        var request = new byte[length];
        if (length >= 4) BitConverter.GetBytes(Pid).CopyTo(request, 0);
        if (length >= 16) BitConverter.GetBytes(r.StackPointer).CopyTo(request, 8);
        var (status, reply) = _client.Raw(opcode, request);
        Assert.Equal(-Errno.EINVAL, status);
        Assert.Empty(reply);
        Assert.Equal(0, _client.Miss(Pid, r.StackPointer).Status); // still alive
    }

    [Fact]
    public void ReservedBytesMustBeZero()
    {
        var r = Exec();
        var miss = new byte[16];
        MemoryProtocol.WriteMiss(miss, Pid, r.StackPointer, false);
        miss[6] = 1;
        Assert.Equal(-Errno.EINVAL, _client.Raw(RpcOpcode.PcacheMiss, miss).Status);
        var flush = new byte[MemoryProtocol.FlushSize];
        MemoryProtocol.WriteFlush(flush, Pid, r.StackPointer, new byte[P]);
        flush[5] = 1;
        Assert.Equal(-Errno.EINVAL, _client.Raw(RpcOpcode.PcacheFlush, flush).Status);
        var brk = new byte[16];
        BitConverter.GetBytes(Pid).CopyTo(brk, 0);
        brk[4] = 9;
        Assert.Equal(-Errno.EINVAL, _client.Raw(RpcOpcode.Brk, brk).Status);
        Assert.Equal(RpcStatus.ENOSYS, _service.Handle(RpcOpcode.Fork, Node, new byte[8], new byte[64], out _));
    }

    /// <summary>
    /// Random requests of every opcode — random lengths, random bytes, sometimes a valid pid
    /// and a plausible address — never throw, never touch a frame they should not (the fake
    /// frames throw on that), and after EXIT nothing is left.
    /// </summary>
    [Property(MaxTest = 40)]
    public void RandomRequestsNeverCrashTheService(int seed)
    {
        var random = new Random(seed);
        using var frames = new FakePageFrames();
        var platform = new RecordingPlatform();
        var service = new MemoryService(frames, _executables, platform);
        var client = MemoryClient.Direct(service, Node);
        var r = client.Execve(Pid, "/bin/memory-probe", ["memory-probe"], []);
        Assert.Equal(0, r.Status);
        ulong[] addresses = [r.StackPointer, r.Brk, r.Entry, 0x7ffff7fff000, 0, 0x7ffffffff000, ulong.MaxValue, 0x400000];
        for (int i = 0; i < 300; i++)
        {
            ushort opcode = MemoryServiceHandler.Opcodes[random.Next(MemoryServiceHandler.Opcodes.Length)];
            int[] lengths = [0, 4, 8, 16, 24, 40, MemoryProtocol.FlushSize, MemoryProtocol.MissWithVictimSize, random.Next(0, 200)];
            var request = new byte[lengths[random.Next(lengths.Length)]];
            random.NextBytes(request);
            if (request.Length >= 4 && random.Next(3) > 0) BitConverter.GetBytes(Pid).CopyTo(request, 0);
            if (request.Length >= 8 && random.Next(2) == 0) { request[4] = (byte)random.Next(8); request[5] = request[6] = request[7] = 0; }
            for (int at = 8; at + 8 <= request.Length && at < 40; at += 8)
                if (random.Next(2) == 0) BitConverter.GetBytes(addresses[random.Next(addresses.Length)] + (ulong)random.Next(0, 4) * P).CopyTo(request, at);
            if (opcode == RpcOpcode.Exit && random.Next(4) > 0) continue; // keep the process alive most of the time
            client.Raw(opcode, request);
            Assert.Equal(frames.Outstanding, service.FramesInUse);
        }
        // A random EXECVE may have succeeded (the only executable answers any path) for
        // another pid: every process that was created goes.
        foreach (var report in platform.Reports.Where(l => l.StartsWith("exec 1/")).ToList())
            client.Exit(uint.Parse(report.Split(' ')[1][2..]));
        Assert.Equal(0, service.LiveProcesses);
        Assert.Equal(0, frames.Outstanding);
    }

    [Fact]
    public void TheServiceWorksThroughRpcEndpointsOnALossyNetwork()
    {
        var net = new Tessera.Tests.Host.SimulatedNetwork(7) { DropRate = 0.2, DuplicateRate = 0.2, MaxDelayNanoseconds = 2_000_000 };
        var processor = new RpcEndpoint(1, net.Attach(1), net.NewClock(), 1000);
        var memory = new RpcEndpoint(2, net.Attach(2), net.NewClock(), 5000);
        net.AddEndpoint(processor);
        net.AddEndpoint(memory);
        MemoryServiceHandler.RegisterAll(memory, _service);
        var client = MemoryClient.Remote(processor, 2);

        var r = client.Execve(Pid, "/bin/memory-probe", ["memory-probe", "world"], ["HOME=/", "LANG=C"]);
        Assert.Equal(0, r.Status);
        Assert.Equal(Expected().Start.StackPointer, r.StackPointer);
        // brk moves by exactly what was asked, once each, however often a request is repeated.
        for (int i = 1; i <= 20; i++) Assert.Equal(r.Brk + (ulong)i * P, (ulong)client.Brk(Pid, r.Brk + (ulong)i * P).Result);
        for (int i = 0; i < 20; i++) Assert.Equal(0, client.Flush(Pid, r.Brk + (ulong)i * P, Pattern(i)));
        for (int i = 0; i < 20; i++) Assert.Equal(Pattern(i), client.Read(Pid, r.Brk + (ulong)i * P));
        Assert.Equal(0, client.Exit(Pid));
        Assert.Equal(0, _frames.Outstanding);
    }
}
