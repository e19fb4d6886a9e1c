// `exec=PATH [argv=...] [envp=...]` (ProgramArguments.cs; exec2= ... exec9= for more): after
// the processor has greeted its peers it asks a memory component to build each program's
// address space (EXECVE), runs it in ring 3 until it ends, prints
//     process N exited with status S
// (S as a shell reports it: the exit status, or 128 + the signal that killed it) and the
// ExCache counters, and after the last program ends the VM through isa-debug-exit with
// success (QEMU exit 33), so
// `./build.sh run PROGRAM` can finish and report S. A program that cannot be started still
// gets its line: status 127 when the memory component has no such executable (-ENOENT), 126
// for any other EXECVE failure (as shells report "not found" and "cannot execute").
// Nothing to run on (no memory component, no ExCache) ends the VM with the failure code.
//
// Which memory component: the memory peers in the order peers= lists them, the process's
// pid picking one round-robin (pid 1 -> the first). A process's whole address space lives on
// that one component.
using Tessera.Core;
using Tessera.Core.Cluster;
using Tessera.Core.Memory;
using Tessera.Core.Net;
using Tessera.Drivers;
using Tessera.Processor.Cache;
using Tessera.Processor.Syscalls;

namespace Tessera.Processor
{
    public static class ProgramRunner
    {
        public const int StatusNotFound = 127, StatusCannotExecute = 126;

        /// <summary>Runs the exec= programs, if any, one after the other, then ends the VM; returns only when there is none.</summary>
        public static void RunIfAsked()
        {
            var programs = new ProgramArguments[9];
            int count = 0;
            for (int index = 1; index <= 9; index++)
            {
                ProgramArguments? args = ProgramArguments.FromCommandLine(KernelMain.CommandLine, index, out string? problem);
                if (problem is not null)
                {
                    Log.Error(problem);
                    QemuDebugExit.Exit(QemuDebugExit.Failure);
                }
                if (args is null) break;
                programs[count++] = args;
            }
            if (count == 0) return;
            ExCacheMemory? cache = ExCacheSetup.Memory;
            MemoryClient? memory = ClusterNode.Endpoint is null ? null : ClientFor(ClusterNode.Endpoint, 1);
            if (cache is null || memory is null)
            {
                Log.Error(cache is null ? "exec: no ExCache (see the excache error above)" : "exec: no memory component among the peers");
                QemuDebugExit.Exit(QemuDebugExit.Failure);
                return;
            }
            OutputSink stdout = SerialSink.For(Serial16550.Com2), stderr = SerialSink.For(Serial16550.Com3);
            for (int i = 0; i < count; i++) Run(programs[i], cache, stdout, stderr);
            QemuDebugExit.Exit(QemuDebugExit.Success);
        }

        /// <summary>The memory component that holds process pid's address space; null without any.</summary>
        public static MemoryClient? ClientFor(Tessera.Core.Rpc.RpcEndpoint endpoint, int pid)
        {
            ClusterConfig config = ClusterNode.Config;
            int memories = 0;
            for (int i = 0; i < config.PeerCount; i++) if (config.Peers[i].Role == NodeRole.Memory) memories++;
            if (memories == 0) return null;
            int pick = (pid - 1) % memories;
            for (int i = 0; i < config.PeerCount; i++)
            {
                if (config.Peers[i].Role != NodeRole.Memory) continue;
                if (pick-- == 0) return new MemoryClient(endpoint, config.Peers[i].Node);
            }
            return null;
        }

        /// <summary>EXECVE, run, report; returns the exit status (127/126 when it could not start).</summary>
        public static int Run(ProgramArguments args, ExCacheMemory cache, OutputSink stdout, OutputSink stderr)
        {
            int pid = Processes.AllocatePid();
            MemoryClient memory = ClientFor(ClusterNode.Endpoint!, pid)!;
            return Run(pid, args, cache, memory, stdout, stderr);
        }

        public static int Run(int pid, ProgramArguments args, ExCacheMemory cache, MemoryClient memory, OutputSink stdout, OutputSink stderr)
        {
            string name = AsciiString(args.Path);
            var image = new ExecImage();
            int status = memory.Execve((uint)pid, args.ExecveStrings(), args.Argv.Length, args.Envp.Length, image);
            if (status != 0)
            {
                if (Log.Begin(LogLevel.Error))
                {
                    Console.Write("exec: ");
                    Console.Write(name);
                    Console.Write(": ");
                    string? errno = Errno.Name(-status);
                    Console.Write(errno ?? "error");
                    Console.Write(" (");
                    Console.WriteDecimal((long)status);
                    Console.WriteLine(")");
                }
                return Report(pid, status == -Errno.ENOENT ? StatusNotFound : StatusCannotExecute);
            }
            AddressSpace? space = AddressSpace.Create();
            if (space is null)
            {
                memory.Exit((uint)pid);
                Log.Error("exec: no memory for a page table");
                return Report(pid, StatusCannotExecute);
            }
            var p = new Process(pid, name, space, cache, memory, stdout, stderr) { Brk = image.Brk };
            if (!cache.Attach(p))
            {
                memory.Exit((uint)pid);
                space.Destroy();
                Log.Error("exec: every ExCache address-space id is in use");
                return Report(pid, StatusCannotExecute);
            }
            for (int i = 0; i < image.FreshCount; i++) cache.AnnounceFresh(p, image.FreshFirstPage[i], image.FreshPageCount[i]);
            if (Log.Begin(LogLevel.Info))
            {
                Console.Write("process ");
                Console.WriteDecimal((ulong)pid);
                Console.Write(": ");
                Console.Write(name);
                Console.Write(" on memory node ");
                Console.WriteDecimal((ulong)memory.Node);
                Console.Write(", entry ");
                Console.WriteHex(image.Entry);
                Console.Write(", stack ");
                Console.WriteHex(image.StackPointer);
                Console.Write(", brk ");
                Console.WriteHex(image.Brk);
                Console.WriteLine();
            }
            cache.ClearCounters();
            Tessera.Core.Rpc.RpcCounters rpc = memory.Endpoint.Counters;
            ulong calls = rpc.CallsMade, retransmissions = rpc.Retransmissions, timeouts = rpc.Timeouts;
            ulong started = Clock.Ticks;
            int exit = Processes.Run(p, image.Entry, image.StackPointer);
            ulong elapsed = Clock.TicksToNanoseconds(Clock.Ticks - started);
            if (Log.Begin(LogLevel.Info))
            {
                Console.Write("process ");
                Console.WriteDecimal((ulong)pid);
                Console.Write(" ran ");
                Console.WriteDecimal(elapsed / 1000000);
                Console.Write('.');
                Console.WriteDecimal(elapsed / 1000 % 1000, 3, '0');
                Console.Write(" ms; rpc: ");
                Console.WriteDecimal(rpc.CallsMade - calls);
                Console.Write(" calls, ");
                Console.WriteDecimal(rpc.Retransmissions - retransmissions);
                Console.Write(" retransmissions, ");
                Console.WriteDecimal(rpc.Timeouts - timeouts);
                Console.WriteLine(" timeouts");
            }
            var summary = new AsciiText(4096);
            cache.WriteSummary(summary);
            Console.WriteAscii(summary.Bytes);
            return Report(pid, exit);
        }

        private static int Report(int pid, int status)
        {
            Console.Write("process ");
            Console.WriteDecimal((ulong)pid);
            Console.Write(" exited with status ");
            Console.WriteDecimal((long)status);
            Console.WriteLine();
            return status;
        }

        private static unsafe string AsciiString(byte[] bytes)
        {
            fixed (byte* b = bytes) return string.FromAscii(b, bytes.Length);
        }
    }
}
