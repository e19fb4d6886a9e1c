using System.Text;
using System.Text.RegularExpressions;
using Tessera.Processor;
using Tessera.Processor.Syscalls;
using Xunit;

namespace Tessera.Tests.Host.Processor;

/// <summary>
/// The processor's syscall-facing tables: syscall names (against the kernel headers of this
/// machine), struct utsname, the fault report lines (against Linux's printf formats) and the
/// signal state of rt_sigaction / rt_sigprocmask.
/// </summary>
public sealed class SyscallTablesTests
{
    private const string Header = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h";

    [Fact]
    public void SyscallNamesMatchTheKernelHeader()
    {
        // The spot checks hold with or without the header; the header (linux-libc-dev) checks all.
        Assert.Equal("read", SyscallNames.Of(0));
        Assert.Equal("mmap", SyscallNames.Of(9));
        Assert.Equal("arch_prctl", SyscallNames.Of(158));
        Assert.Equal("exit_group", SyscallNames.Of(231));
        Assert.Equal("pidfd_send_signal", SyscallNames.Of(424));
        Assert.Null(SyscallNames.Of(335));
        Assert.Null(SyscallNames.Of(-1));
        Assert.Null(SyscallNames.Of(SyscallNames.Highest + 1));
        if (!File.Exists(Header)) return;
        var fromHeader = new Dictionary<long, string>();
        foreach (var line in File.ReadLines(Header))
        {
            var m = Regex.Match(line, @"^#define __NR_(\w+) (\d+)$");
            if (m.Success) fromHeader[long.Parse(m.Groups[2].Value)] = m.Groups[1].Value;
        }
        Assert.NotEmpty(fromHeader);
        for (long n = 0; n <= Math.Max(SyscallNames.Highest, fromHeader.Keys.Max()); n++)
            Assert.Equal(fromHeader.GetValueOrDefault(n), n <= SyscallNames.Highest ? SyscallNames.Of(n) : null);
    }

    [Fact]
    public void UnameLooksLikeLinux()
    {
        var b = new byte[Utsname.Size + 8];
        Array.Fill(b, (byte)0xAA);
        Utsname.Fill(b);
        string Field(int i) => Encoding.ASCII.GetString(b, i * 65, 65).Split('\0')[0];
        Assert.Equal("Linux", Field(0));
        Assert.Equal("tessera", Field(1));
        Assert.Equal("6.1.0-tessera", Field(2));
        Assert.StartsWith("#1", Field(3));
        Assert.Equal("x86_64", Field(4));
        Assert.Equal(390, Utsname.Size);
        for (int i = 0; i < 6; i++) Assert.Equal(0, b[i * 65 + 64]);            // every field NUL-terminated
        Assert.Equal(0xAA, b[Utsname.Size]);                                   // nothing written past the struct
    }

    [Theory]
    [InlineData(0UL, 0x401000UL)]
    [InlineData(0x7ffc1234UL, 0xffffffffffffffffUL)]
    [InlineData(0x10000008UL, 0x40003cUL)]
    [InlineData(0xffffffffffffffffUL, 0UL)]
    public void SegfaultLineHasLinuxsFormat(ulong address, ulong ip)
    {
        var text = new Tessera.Processor.Cache.AsciiText(128);
        FaultReport.Segfault(text, address, ip);
        // arch/x86/mm/fault.c show_signal_msg: "segfault at %lx ip %px" (%016lx-wide on 64-bit).
        Assert.Equal($"segfault at {address:x} ip {ip:x16}", Encoding.ASCII.GetString(text.Bytes));
    }

    [Fact]
    public void TrapLinesNameTheException()
    {
        var text = new Tessera.Processor.Cache.AsciiText(128);
        FaultReport.Trap(text, 13, "general protection fault", 0x401000);
        Assert.Equal("general protection fault ip 0000000000401000", Encoding.ASCII.GetString(text.Bytes));
        text.Clear();
        FaultReport.Trap(text, 6, "invalid opcode", 0x401001);
        Assert.Equal("trap invalid opcode ip 0000000000401001", Encoding.ASCII.GetString(text.Bytes));
    }

    [Fact]
    public void SigactionRoundTripsAndProtectsKillAndStop()
    {
        var s = new SignalState();
        ulong[] act = [0x401234, 0x04000000, 0x401000, (1UL << 8) | (1UL << 1) | (1UL << 18)];
        var old = new ulong[4];
        Assert.Equal(0, s.SetAction(10, act, true, old, true));
        Assert.Equal(new ulong[4], old);                                        // SIG_DFL before
        Assert.Equal(0, s.SetAction(10, default, false, old, true));
        Assert.Equal(new ulong[] { 0x401234, 0x04000000, 0x401000, 1UL << 1 }, old); // SIGKILL and SIGSTOP dropped from the mask
        Assert.Equal(-Errno.EINVAL, s.SetAction(9, act, true, old, false));
        Assert.Equal(-Errno.EINVAL, s.SetAction(19, act, true, old, false));
        Assert.Equal(0, s.SetAction(9, default, false, old, true));             // reading SIGKILL's action is fine
        Assert.Equal(-Errno.EINVAL, s.SetAction(0, act, true, old, false));
        Assert.Equal(-Errno.EINVAL, s.SetAction(65, act, true, old, false));
        Assert.Equal(0, s.SetAction(64, act, true, old, false));
        Assert.Equal(0x401234UL, s.HandlerOf(64));
    }

    [Fact]
    public void SigprocmaskBlocksUnblocksAndSetsButNeverKillOrStop()
    {
        var s = new SignalState();
        const ulong usr1 = 1UL << 9, kill = 1UL << 8, stop = 1UL << 18;
        Assert.Equal(0, s.ChangeMask(SignalState.SigBlock, usr1 | kill | stop, true, out ulong old));
        Assert.Equal(0UL, old);
        Assert.Equal(usr1, s.Mask);
        Assert.Equal(0, s.ChangeMask(SignalState.SigBlock, 1, true, out old));
        Assert.Equal(usr1, old);
        Assert.Equal(0, s.ChangeMask(SignalState.SigUnblock, usr1, true, out _));
        Assert.Equal(1UL, s.Mask);
        Assert.Equal(0, s.ChangeMask(SignalState.SigSetMask, ulong.MaxValue, true, out _));
        Assert.Equal(ulong.MaxValue & ~(kill | stop), s.Mask);
        Assert.Equal(-Errno.EINVAL, s.ChangeMask(3, 0, true, out _));
        Assert.Equal(0, s.ChangeMask(3, 0, false, out old));                   // no set: how is not looked at
        Assert.Equal(s.Mask, old);
    }
}
