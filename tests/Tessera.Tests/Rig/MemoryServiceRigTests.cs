using Tessera.Core.Rpc;
using Tessera.Memory;
using Tessera.Tests.Host.Memory;
using Tessera.Tools;
using Tessera.Tools.Rig;
using Xunit;
using Xunit.Abstractions;

namespace Tessera.Tests.Rig;

/// <summary>
/// The memory service on a real memory VM, the host playing the processor (node 100) over
/// the rig's Ethernet segment with the kernel's own RpcEndpoint: a real musl-static program
/// (tests/apps/memory-probe.c) reaches the VM as a boot module, is exec'd, and its pages are
/// fetched, written back and unmapped as a processor would.
/// </summary>
[Collection("rigs")]
public sealed class MemoryServiceRigTests(ITestOutputHelper output)
{
    private const ushort Host = 100;
    private const uint Pid = 1;
    private const ulong P = 4096;
    private static readonly TimeSpan Boot = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task TheHostAsProcessorExecsAProgramAndMovesItsPages()
    {
        string program = HostPrograms.MemoryProbe();
        byte[] file = File.ReadAllBytes(program);
        var image = new ElfImage();
        Assert.Equal(ElfError.None, image.Parse(file));

        var config = new RigConfig { Processors = 0, Memories = 1, Storages = 0, Programs = [program] };
        await using var rig = new RigLauncher(config, Repo.Path("out", "test-logs", "rig-memory-service"));
        rig.Start();
        var vm = rig.Vms[0];
        try
        {
            Assert.NotNull(await vm.WaitForLineAsync(l => l.Contains("info: rpc: serving"), Boot));
            // The module arrived whole, under the name the launcher gave it.
            Assert.Contains(vm.Lines, l => l.Contains($"memory: executable 1: \"{program} memory-probe\", {file.Length} bytes (boot module)"));

            using var link = new MulticastLink(rig.MulticastPort);
            var endpoint = new RpcEndpoint(Host, link, new StopwatchClock(), (ulong)Environment.TickCount64 << 16)
            {
                InitialTimeoutNanoseconds = 50_000_000,
            };
            var memory = MemoryClient.Remote(endpoint, 1);

            // EXECVE: an ET_EXEC starts at its own entry point.
            var exec = memory.Execve(Pid, "/bin/memory-probe", ["memory-probe", "hello", "rig"], ["HOME=/"]);
            Assert.Equal(0, exec.Status);
            Assert.Equal(image.Entry, exec.Entry);
            Assert.Equal(0UL, exec.StackPointer & 15);
            Assert.Contains(exec.Fresh, f => f.Count > 0);

            // The page at the entry point is the executable's bytes, byte for byte.
            var text = memory.Miss(Pid, exec.Entry, MemoryProtocol.MissExecute);
            Assert.Equal(0, text.Status);
            Assert.Equal(MemoryProtocol.ReplyPage, text.Kind);
            Assert.Equal(Prot.Read | Prot.Exec, text.Protection);
            Assert.True(image.PageSource(exec.Entry, out ulong offset, out uint bytes, out _));
            Assert.Equal(file.AsSpan((int)offset, (int)bytes).ToArray(), text.Data[..(int)bytes]);

            // The stack page at rsp: argc, then argv[0] pointing at "memory-probe".
            byte[] top = memory.Read(Pid, exec.StackPointer);
            int at = (int)(exec.StackPointer & 0xfff);
            Assert.Equal(3UL, BitConverter.ToUInt64(top, at));
            ulong argv0 = BitConverter.ToUInt64(top, at + 8);
            byte[] strings = memory.Read(Pid, argv0);
            Assert.Equal("memory-probe\0hello\0rig\0HOME=/\0"u8.ToArray(), strings.AsSpan((int)(argv0 & 0xfff), 30).ToArray());

            // A page written back reads back; a victim riding on a miss is stored first.
            ulong heap = exec.Brk;
            var grown = memory.Brk(Pid, heap + 2 * P);
            Assert.Equal(heap + 2 * P, (ulong)grown.Result);
            Assert.True(grown.Fresh);
            byte[] page = new byte[P];
            new Random(5).NextBytes(page);
            Assert.Equal(0, memory.Flush(Pid, heap, page));
            Assert.Equal(page, memory.Read(Pid, heap));
            byte[] victim = new byte[P];
            new Random(6).NextBytes(victim);
            var miss = memory.Miss(Pid, heap, MemoryProtocol.MissWrite, (Pid, heap + P, victim));
            Assert.Equal(page, miss.Data);
            Assert.Equal(victim, memory.Read(Pid, heap + P));

            // Anonymous mmap reads as a zero page; after munmap the address is a segfault.
            var mapped = memory.Mmap(Pid, 0, 4 * P, Prot.Read | Prot.Write, MapFlags.Private | MapFlags.Anonymous);
            Assert.True(mapped.Result > 0 && mapped.Fresh);
            var zero = memory.Miss(Pid, (ulong)mapped.Result + P, MemoryProtocol.MissWrite);
            Assert.Equal(0, zero.Status);
            Assert.Equal(MemoryProtocol.ReplyZeroPage, zero.Kind);
            Assert.Equal(0, memory.Munmap(Pid, (ulong)mapped.Result, 4 * P).Result);
            Assert.Equal(-Errno.EFAULT, memory.Miss(Pid, (ulong)mapped.Result + P).Status);

            // Refusals: another pid, a write to the text.
            Assert.Equal(-Errno.ESRCH, memory.Miss(Pid + 1, exec.Entry).Status);
            Assert.Equal(-Errno.EACCES, memory.Miss(Pid, exec.Entry, MemoryProtocol.MissWrite).Status);

            // EXIT: everything goes, and the VM says what it did.
            Assert.Equal(0, memory.Exit(Pid));
            string? exit = await vm.WaitForLineAsync(l => l.Contains($"memory: node {Host} pid {Pid}: exit: "), TimeSpan.FromSeconds(30));
            Assert.NotNull(exit);
            Assert.Contains("frames in use 0 by 0 processes", exit);
            Assert.Equal(-Errno.ESRCH, memory.Exit(Pid));
            Assert.False(rig.AnyPanicked);
        }
        finally
        {
            output.WriteLine($"--- {vm.LogPath}");
            foreach (var l in vm.Lines) output.WriteLine(l);
        }
    }
}
