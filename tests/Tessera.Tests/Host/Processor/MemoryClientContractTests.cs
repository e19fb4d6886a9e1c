using System.Runtime.InteropServices;
using System.Text;
using Tessera.Core.Rpc;
using Tessera.Memory;
using Tessera.Processor;
using Tessera.Processor.Syscalls;
using Tessera.Tests.Host.Memory;
using Xunit;
using FaultAccess = Tessera.Processor.FaultAccess;
using Errno = Tessera.Processor.Syscalls.Errno;
using MemoryClient = Tessera.Processor.MemoryClient;

namespace Tessera.Tests.Host.Processor;

/// <summary>
/// The processor's side of the memory protocol (kernel/Processor/Memory/MemoryClient.cs)
/// against the real memory service (kernel/Memory/MemoryService.cs) over the simulated
/// network: both ends of every message the ExCache sends, on a real static executable.
/// </summary>
public sealed unsafe class MemoryClientContractTests : IDisposable
{
    private const uint Pid = 7;
    private const int ProtRead = 1, ProtWrite = 2, ProtExec = 4;

    private readonly SimulatedNetwork _net = new(11);
    private readonly MemoryClient _client;
    private readonly NativeFrames _frames = new();
    private readonly byte[] _program;

    public MemoryClientContractTests()
    {
        _program = File.ReadAllBytes(HostPrograms.MuslStatic("hello-contract", HostPrograms.Hello));
        var processor = new RpcEndpoint(1, _net.Attach(1), _net.NewClock(), 100);
        var memory = new RpcEndpoint(2, _net.Attach(2), _net.NewClock(), 9000);
        _net.AddEndpoint(processor);
        _net.AddEndpoint(memory);
        var service = new MemoryService(_frames, new OneExecutable("hello", _program), new QuietPlatform());
        MemoryServiceHandler.RegisterAll(memory, service);
        _client = new MemoryClient(processor, 2);
    }

    public void Dispose() => _frames.Dispose();

    private ExecImage Exec(params string[] argv)
    {
        var args = new ProgramArguments
        {
            Path = Encoding.ASCII.GetBytes("/bin/hello"),
            Argv = argv.Select(Encoding.ASCII.GetBytes).ToArray(),
            Envp = [Encoding.ASCII.GetBytes("HOME=/")],
        };
        var image = new ExecImage();
        Assert.Equal(0, _client.Execve(Pid, args.ExecveStrings(), args.Argv.Length, args.Envp.Length, image));
        return image;
    }

    private int Miss(ulong address, FaultAccess access, byte[] line, out bool zero, out int prot) =>
        _client.Miss(Pid, address, access, false, 0, 0, default, line, out zero, out prot);

    [Fact]
    public void ExecveGivesTheElfEntryAndAStackWithArgcThenTheCodeArrivesExecutable()
    {
        ExecImage image = Exec("hello", "a");
        ulong entry = BitConverter.ToUInt64(_program, 24);                     // e_entry
        Assert.Equal(entry, image.Entry);
        Assert.Equal(0UL, image.StackPointer % 16);
        Assert.True(image.Brk > entry);

        var line = new byte[4096];
        Assert.Equal(0, Miss(image.StackPointer, FaultAccess.Read, line, out bool zero, out int prot));
        Assert.False(zero);
        Assert.Equal(2UL, BitConverter.ToUInt64(line, (int)(image.StackPointer & 4095)));   // argc
        Assert.Equal(ProtRead | ProtWrite, prot & (ProtRead | ProtWrite));

        Assert.Equal(0, Miss(entry, FaultAccess.Execute, line, out zero, out prot));
        Assert.False(zero);
        Assert.True((prot & ProtExec) != 0 && (prot & ProtWrite) == 0);
        Assert.Equal(-Errno.EACCES, Miss(entry, FaultAccess.Write, line, out _, out _));
        Assert.Equal(-Errno.EFAULT, Miss(0x1000, FaultAccess.Read, line, out _, out _));
        Assert.Equal(0, _client.Exit(Pid));
        Assert.Equal(0, _frames.InUse);
    }

    [Fact]
    public void AnonymousMemoryIsFreshThenHoldsWhatIsWrittenBackAloneOrWithAMiss()
    {
        ExecImage image = Exec("hello");
        long a = _client.Mmap(Pid, 0, 3 * 4096, ProtRead | ProtWrite, 0x22, -1, 0, out bool fresh);
        Assert.False(Errno.IsError(a));
        Assert.True(fresh);
        ulong b = (ulong)a;
        var line = new byte[4096];
        Assert.Equal(0, Miss(b, FaultAccess.Write, line, out bool zero, out int prot));
        Assert.True(zero);                                                     // nothing stored: "zero page"
        Assert.Equal(ProtRead | ProtWrite, prot);

        var page0 = Enumerable.Range(0, 4096).Select(i => (byte)(i * 3)).ToArray();
        Assert.Equal(0, _client.Flush(Pid, b, page0));                         // written back alone
        var page1 = Enumerable.Range(0, 4096).Select(i => (byte)(i * 5 + 1)).ToArray();
        // A miss on page 0 carrying page 1 as its dirty victim: the victim is stored first.
        Assert.Equal(0, _client.Miss(Pid, b + 100, FaultAccess.Read, true, Pid, b + 4096, page1, line, out zero, out _));
        Assert.False(zero);
        Assert.Equal(page0, line);
        Assert.Equal(0, Miss(b + 4096, FaultAccess.Read, line, out zero, out _));
        Assert.Equal(page1, line);
        // The victim's bytes may be the very line the reply lands in (the ExCache reuses it).
        var shared = (byte[])page0.Clone();
        shared[0] = 0xEE;
        Assert.Equal(0, _client.Miss(Pid, b + 4096, FaultAccess.Read, true, Pid, b, shared, shared, out _, out _));
        Assert.Equal(page1, shared);
        Assert.Equal(0, Miss(b, FaultAccess.Read, line, out _, out _));
        Assert.Equal(0xEE, line[0]);

        Assert.Equal(0L, _client.Mprotect(Pid, b, 4096, ProtRead));
        Assert.Equal(-Errno.EACCES, Miss(b, FaultAccess.Write, line, out _, out _));
        Assert.Equal(0, Miss(b, FaultAccess.Read, line, out _, out prot));
        Assert.Equal(ProtRead, prot);

        Assert.Equal(0L, _client.Munmap(Pid, b, 3 * 4096));
        Assert.Equal(-Errno.EFAULT, Miss(b, FaultAccess.Read, line, out _, out _));
        Assert.Equal(0, _client.Exit(Pid));
        Assert.Equal(0, _frames.InUse);
    }

    [Fact]
    public void BrkGrowsFreshAndMremapMovesTheData()
    {
        ExecImage image = Exec("hello");
        Assert.Equal((long)image.Brk, _client.Brk(Pid, 0, out _));
        long grown = _client.Brk(Pid, image.Brk + 3 * 4096, out bool fresh);
        Assert.Equal((long)(image.Brk + 3 * 4096), grown);
        Assert.True(fresh);

        long a = _client.Mmap(Pid, 0, 4096, ProtRead | ProtWrite, 0x22, -1, 0, out _);
        var data = Enumerable.Range(0, 4096).Select(i => (byte)(255 - i)).ToArray();
        Assert.Equal(0, _client.Flush(Pid, (ulong)a, data));
        long moved = _client.Mremap(Pid, (ulong)a, 4096, 64 * 4096, 1 /* MREMAP_MAYMOVE */, 0, out bool tailFresh);
        Assert.False(Errno.IsError(moved));
        Assert.True(tailFresh);
        var line = new byte[4096];
        Assert.Equal(0, Miss((ulong)moved, FaultAccess.Read, line, out _, out _));
        Assert.Equal(data, line);
        Assert.Equal(0, Miss((ulong)moved + 63 * 4096, FaultAccess.Read, line, out bool zero, out _));
        Assert.True(zero);
        Assert.Equal(0, _client.Exit(Pid));
    }

    [Fact]
    public void UnknownExecutablesAndProcessesAreErrors()
    {
        var image = new ExecImage();
        Assert.Equal(-Errno.ENOENT, _client.Execve(Pid, Encoding.ASCII.GetBytes("/nope\0nope\0"), 1, 0, image));
        var line = new byte[4096];
        Assert.True(_client.Miss(99, 0x400000, FaultAccess.Read, false, 0, 0, default, line, out _, out _) < 0);
        Assert.True(_client.Exit(99) < 0);
    }

    private sealed class OneExecutable(string name, byte[] bytes) : ExecutableSource
    {
        // Two files, so that a path that names neither is not taken to mean the only one.
        public override int Count => 2;
        public override ReadOnlySpan<byte> Name(int index) => Encoding.ASCII.GetBytes(index == 0 ? name : "other");
        public override ReadOnlySpan<byte> Contents(int index) => index == 0 ? bytes : new byte[16];
    }

    private sealed class QuietPlatform : MemoryServicePlatform
    {
        public override void FillRandom(Span<byte> bytes) => bytes.Fill(0x42);
        public override ulong HardwareCapabilities => 0x178bfbff;
    }

    /// <summary>4 KiB-aligned native blocks, each handed out once; Dispose frees them all.</summary>
    private sealed class NativeFrames : PageFrames, IDisposable
    {
        private readonly HashSet<ulong> _live = [];
        public int InUse => _live.Count;

        public override bool TryAllocate(out ulong frame)
        {
            frame = (ulong)NativeMemory.AlignedAlloc(4096, 4096);
            _live.Add(frame);
            return true;
        }

        public override void Free(ulong frame)
        {
            Assert.True(_live.Remove(frame), "a frame freed twice or never allocated");
            NativeMemory.AlignedFree((void*)frame);
        }

        public override byte* Address(ulong frame) => (byte*)frame;

        public void Dispose()
        {
            foreach (ulong f in _live) NativeMemory.AlignedFree((void*)f);
            _live.Clear();
        }
    }
}
