// The processor's self-tests of user mode: ring-3 programs (boot/usertests.asm) run in
// fresh address spaces, first on local frames (FixedUserMemory), then through a small
// ExCache whose pages come from a fake memory component over an in-memory RPC link.
using System;
using Tessera.Core;
using Tessera.Core.Memory;
using Tessera.Core.Rpc;
using Tessera.Processor.Cache;
using Tessera.Processor.Syscalls;

namespace Tessera.Processor
{
    public static class ProcessorSelfTests
    {
        public static void RunAll()
        {
            // The programs below fail and fault on purpose: their log lines would split the
            // self-test lines the boot test reads, so only errors are printed meanwhile.
            LogLevel level = Log.MinimumLevel;
            Log.MinimumLevel = LogLevel.Error;
            UserExceptions.Quiet = true;
            SelfTest.Run(new SyscallSetupTest());
            SelfTest.Run(new RingThreeSyscallsTest());
            SelfTest.Run(new RingThreeFaultsTest());
            SelfTest.Run(new ExCacheFaultPathTest(ways: 2));
            SelfTest.Run(new ExCacheFaultPathTest(ways: 1));
            UserExceptions.Quiet = false;
            Log.MinimumLevel = level;
        }

        /// <summary>A fixed space with the program at CodeAddress (read-only, executable) and one stack page.</summary>
        internal static unsafe Process? FixedProcess(int program, string name, OutputSink stdout, OutputSink stderr)
        {
            AddressSpace? space = AddressSpace.Create();
            if (space is null) return null;
            var memory = new FixedUserMemory(4);
            byte* code = UserPrograms.Bytes(program, out ulong length);
            if (length > 4096) return null;
            byte* page = memory.AddPage(space, UserPrograms.CodeAddress, 0);
            if (page == null || memory.AddPage(space, UserPrograms.StackTop - 4096, PageFlags.Writable | PageFlags.NoExecute) == null) return null;
            for (ulong i = 0; i < length; i++) page[i] = code[i];
            return new Process(Processes.AllocatePid(), name, space, memory, null, stdout, stderr);
        }
    }

    /// <summary>SYSCALL is on and aimed at the entry stub; the user segments are where SYSRET looks.</summary>
    internal sealed class SyscallSetupTest : SelfTestCase
    {
        public override string Name => "processor.syscall-setup";

        public override string? Run()
        {
            if (!UserMode.SyscallsEnabled) return "EFER.SCE or LSTAR not set";
            ulong star = Cpu.ReadMsr(UserMode.Star);
            if ((ushort)(star >> 32) != GlobalDescriptorTable.KernelCode) return "STAR's kernel selector wrong";
            ulong sysret = star >> 48;
            if (sysret + 8 != GlobalDescriptorTable.UserData || sysret + 16 != GlobalDescriptorTable.UserCode) return "STAR's user selectors do not match the GDT";
            if ((Cpu.ReadMsr(UserMode.FMask) & (1UL << 9)) == 0) return "FMASK does not clear IF";
            if (SyscallNames.Of(0) != "read" || SyscallNames.Of(231) != "exit_group" || SyscallNames.Of(400) is not null) return "syscall name table wrong";
            return null;
        }
    }

    /// <summary>The syscall ABI and the first syscalls, in ring 3 on local frames (usertest_syscalls: exit status 42).</summary>
    internal sealed class RingThreeSyscallsTest : SelfTestCase
    {
        public override string Name => "processor.ring3-syscalls";

        public override string? Run()
        {
            var stdout = new BufferSink(256);
            var stderr = new BufferSink(256);
            Process? p = ProcessorSelfTests.FixedProcess(UserPrograms.Syscalls, "selftest-syscalls", stdout, stderr);
            if (p is null) return "could not build the address space";
            ulong unimplemented = SyscallDispatcher.Unimplemented;
            bool interruptsBefore = Cpu.InterruptsEnabled;
            int status = Processes.Run(p, UserPrograms.CodeAddress, UserPrograms.StackTop - 16);
            if (Processes.Current is not null) return "the process is still current after it ended";
            if (AddressSpace.ActiveRoot != AddressSpace.Kernel.Root || Cpu.ReadCr3() != AddressSpace.Kernel.Root) return "the kernel's page table is not back";
            if (Cpu.InterruptsEnabled != interruptsBefore) return "the interrupt flag was not restored";
            if (status != 42) return status > 0 && status < 42 ? StepFailed(status) : "unexpected exit status";
            if (!stdout.Equals("hello from ring 3\n")) return "stdout did not get the program's bytes";
            if (!stderr.Equals("two iovecs\n")) return "stderr did not get writev's bytes";
            if (SyscallDispatcher.Unimplemented - unimplemented != 2) return "fork and syscall 1000 were not both answered -ENOSYS";
            return null;
        }

        private static string StepFailed(int step) => step switch
        {
            1 => "step 1: write to stdout", 2 => "step 2: registers not preserved across syscall", 3 => "step 3: getpid/gettid",
            4 => "step 4: -ENOSYS", 5 => "step 5: bad pointers not -EFAULT", 6 => "step 6: uname", 7 => "step 7: arch_prctl and FS",
            8 => "step 8: clock_gettime", 9 => "step 9: rt_sigaction/rt_sigprocmask", 10 => "step 10: writev",
            11 => "step 11: ioctl/read", 12 => "step 12: set_tid_address", _ => "a step failed",
        };
    }

    /// <summary>Programs that fault end with the right signal and report; the kernel goes on.</summary>
    internal sealed class RingThreeFaultsTest : SelfTestCase
    {
        public override string Name => "processor.ring3-faults";

        public override string? Run()
        {
            string? r = Expect(UserPrograms.NullRead, 139, Processes.SigSegv, checkAddress: true, address: 0, ip: UserPrograms.CodeAddress);
            if (r != null) return "null read: " + r;
            r = Expect(UserPrograms.Undefined, 132, Processes.SigIll, checkAddress: false, address: 0, ip: UserPrograms.CodeAddress + 1);
            if (r != null) return "ud2: " + r;
            r = Expect(UserPrograms.CodeWrite, 139, Processes.SigSegv, checkAddress: true, address: UserPrograms.CodeAddress, ip: UserPrograms.CodeAddress + 7);
            if (r != null) return "write to code: " + r;
            r = Expect(UserPrograms.Int80, 139, Processes.SigSegv, checkAddress: false, address: 0, ip: UserPrograms.CodeAddress);
            if (r != null) return "int 0x80: " + r;
            return null;
        }

        private static string? Expect(int program, int status, int signal, bool checkAddress, ulong address, ulong ip)
        {
            var sink = new BufferSink(16);
            Process? p = ProcessorSelfTests.FixedProcess(program, "selftest-fault", sink, sink);
            if (p is null) return "could not build the address space";
            int got = Processes.Run(p, UserPrograms.CodeAddress, UserPrograms.StackTop - 16);
            if (got != status) return "wrong exit status";
            if (p.TerminatingSignal != signal) return "wrong signal";
            if (p.FaultIp != ip) return "wrong ip reported";
            if (checkAddress && p.FaultAddress != address) return "wrong fault address";
            if (Processes.Current is not null || AddressSpace.ActiveRoot != AddressSpace.Kernel.Root) return "the kernel did not get its state back";
            return null;
        }
    }

    /// <summary>
    /// The ExCache's fault path for real: 8 lines in 4 sets of 2, pages from a fake memory
    /// component over an in-memory RPC link. The program zero-fills, evicts dirty pages (alone
    /// and with misses), reads them back, has the kernel copy out of an evicted page, grows its
    /// break and unmaps; a second program touches memory it unmapped and gets the segfault the
    /// memory component decides.
    /// </summary>
    internal sealed unsafe class ExCacheFaultPathTest : SelfTestCase
    {
        private readonly int _ways;
        public ExCacheFaultPathTest(int ways) { _ways = ways; }

        // With one way the code page (0x400000) and the data page (0x600000) share a set: the
        // program's load of the data page can only complete through the overflow set.
        public override string Name => _ways == 1 ? "processor.excache-direct-mapped" : "processor.excache-faults";

        private const ulong DataPage = 0x600000, BreakStart = 0x800000, StackPages = 32;
        private const int OverflowLines = 4;

        public override string? Run()
        {
            int lines = 4 * _ways;
            if (ExCacheGeometry.TryCreate((ulong)lines * ExCacheGeometry.LineSize, (ulong)_ways, out ExCacheGeometry geometry) != GeometryError.None) return "geometry refused";
            if (ExCacheGeometry.TryCreate(OverflowLines * ExCacheGeometry.LineSize, OverflowLines, out ExCacheGeometry overflowGeometry) != GeometryError.None) return "overflow geometry refused";
            if (!PhysicalFrames.TryAllocateContiguous((ulong)(lines + OverflowLines), 1, out ulong region)) return "no frames for the lines";
            var cache = new ExCache(geometry, ReplacementPolicy.Lru, region);
            var overflow = new ExCache(overflowGeometry, ReplacementPolicy.Lru, region + (ulong)lines * ExCacheGeometry.LineSize);
            var pager = new ExCacheMemory(cache, overflow);

            var a = new LoopbackLink();
            var b = new LoopbackLink();
            a.Peer = b; b.Peer = a;
            var clock = new TscRpcClock();
            var client = new RpcEndpoint(1, a, clock, Clock.Ticks);
            var server = new RpcEndpoint(2, b, clock, Clock.Ticks);
            a.PeerEndpoint = server;
            var memory = new FakeMemoryComponent(server);

            string? result = RunProgram(UserPrograms.ExCache, cache, pager, client, memory, out Process? p, out BufferSink stdout);
            if (result is null)
            {
                ExCacheCounters c = cache.Counters, o = overflow.Counters;
                if (p!.ExitStatus != 7) result = p.ExitStatus < 7 ? "the program failed its step " + Digit(p.ExitStatus) : "unexpected exit status";
                else if (!stdout.Equals("excache says hi\n")) result = "write from an evicted page did not reach stdout";
                else if (c.ProtocolErrors != 0 || !c.Consistent) result = "the cache's counters are inconsistent";
                else if (c.ZeroFills + o.ZeroFills < 33 + 2) result = "fresh pages were not zero-filled locally";
                else if (c.Fetches + o.Fetches < 3 || c.ZeroReplies + o.ZeroReplies != 0) result = "code and data pages were not fetched";
                else if (c.StandaloneWriteBacks + o.StandaloneWriteBacks == 0) result = "no dirty victim of a zero-fill was written back alone";
                else if (c.CombinedWriteBacks + o.CombinedWriteBacks == 0) result = "no dirty victim rode with a miss";
                else if (!memory.ExitReceived) result = "EXIT was not sent";
                else if (c.MissLatency.Count + o.MissLatency.Count != c.Misses + o.Misses) result = "not every miss was timed";
                else if (pager.LostWriteBacks != 0) result = "a write-back was lost";
                else if (!o.Consistent || o.ProtocolErrors != 0) result = "the overflow set's counters are inconsistent";
                else if (_ways == 1 && o.Misses == 0) result = "conflicting pages of one instruction did not use the overflow set";
                else if (memory.PagesStored != c.WriteBacks + o.WriteBacks) result = "the memory component did not store every write-back";
            }
            memory.Clear();
            if (result is null)
            {
                memory.ExitReceived = false;
                result = RunProgram(UserPrograms.Unmapped, cache, pager, client, memory, out p, out _);
                if (result is null && (p!.ExitStatus != 139 || p.FaultAddress != 0x10000000 + 8)) result = "a read after munmap was not a segfault at the unmapped address";
                if (result is null && memory.Refused == 0) result = "the memory component was not the one to refuse the page";
                memory.Clear();
            }
            PhysicalFrames.FreeContiguous(region, (ulong)(lines + OverflowLines));
            return result;
        }

        private static string? RunProgram(int program, ExCache cache, ExCacheMemory pager, RpcEndpoint client, FakeMemoryComponent memory,
            out Process? process, out BufferSink stdout)
        {
            process = null;
            stdout = new BufferSink(64);
            AddressSpace? space = AddressSpace.Create();
            if (space is null) return "no page table";
            int pid = Processes.AllocatePid();
            memory.Pid = (uint)pid;
            memory.AddArea(UserPrograms.CodeAddress, UserPrograms.CodeAddress + 4096, 1 | 4);
            memory.AddArea(DataPage, DataPage + 4096, 1 | 2);
            memory.AddArea(UserPrograms.StackTop - StackPages * 4096, UserPrograms.StackTop, 1 | 2);
            memory.SetBreak(BreakStart);
            byte* code = UserPrograms.Bytes(program, out ulong length);
            ulong seed = 0x5EED5EED5EED5EED;
            if (length > 4096 || !memory.Preload(UserPrograms.CodeAddress, code, (int)length) || !memory.Preload(DataPage, (byte*)&seed, 8))
                return "the fake memory component has no frames";
            var p = new Process(pid, "selftest-excache", space, pager, new MemoryClient(client, 2), stdout, stdout) { Brk = BreakStart };
            if (!pager.Attach(p)) return "no address-space id";
            pager.AnnounceFresh(p, (UserPrograms.StackTop >> 12) - StackPages, StackPages);
            pager.ClearCounters();
            Processes.Run(p, UserPrograms.CodeAddress, UserPrograms.StackTop - 16);
            process = p;
            if (p.Asid != -1) return "the process still holds an address-space id";
            if (cache.ResidentLines() != 0 || pager.Overflow!.ResidentLines() != 0) return "lines of the ended process are still resident";
            return null;
        }

        private static string Digit(int n) => n switch { 1 => "1", 2 => "2", 3 => "3", 4 => "4", 5 => "5", 6 => "6", _ => "?" };
    }
}
