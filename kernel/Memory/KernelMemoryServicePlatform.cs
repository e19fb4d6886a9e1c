// The memory kernel's side of MemoryServicePlatform: AT_RANDOM from the time-stamp counter,
// AT_HWCAP from CPUID, and log lines for exec and exit.
using System;
using Tessera.Core;

namespace Tessera.Memory
{
    public sealed unsafe class KernelMemoryServicePlatform : MemoryServicePlatform
    {
        private ulong _state;
        private ulong _hwcap;
        private bool _hwcapRead;

        /// <summary>
        /// 16 bytes from splitmix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number
        /// generators", OOPSLA 2014) over the TSC: different for every exec and every boot,
        /// which is what libc's stack-protector and pointer-guard seeds need here. Not a
        /// cryptographic source: QEMU's default CPU model has no RDRAND, and there is no
        /// entropy pool yet.
        /// </summary>
        public override void FillRandom(Span<byte> bytes)
        {
            for (int i = 0; i < bytes.Length; i++)
            {
                if ((i & 7) == 0)
                {
                    _state += Cpu.ReadTimestampCounter() + 0x9E3779B97F4A7C15UL;
                }
                ulong z = _state + (ulong)(i >> 3) * 0x9E3779B97F4A7C15UL;
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                z ^= z >> 31;
                bytes[i] = (byte)(z >> (8 * (i & 7)));
            }
        }

        /// <summary>CPUID.01H:EDX (Intel SDM Vol. 2A, CPUID), as Linux reports it in AT_HWCAP on x86.</summary>
        public override ulong HardwareCapabilities
        {
            get
            {
                if (!_hwcapRead)
                {
                    uint* r = stackalloc uint[4];
                    Cpu.CpuId(1, 0, r);
                    _hwcap = r[3];
                    _hwcapRead = true;
                }
                return _hwcap;
            }
        }

        public override void Executed(ProcessAddressSpace space, ReadOnlySpan<byte> path, in ProgramStart start)
        {
            if (!Log.Begin(LogLevel.Info)) return;
            WriteProcess(space.Node, space.Pid);
            Console.Write(": exec ");
            Console.WriteAscii(path);
            Console.Write(": entry ");
            Console.WriteHex(start.Entry);
            Console.Write(", rsp ");
            Console.WriteHex(start.StackPointer);
            Console.Write(", brk ");
            Console.WriteHex(start.BrkStart);
            Console.Write(", ");
            Console.WriteDecimal((ulong)space.Areas.Count);
            Console.WriteLine(" areas");
        }

        public override void ExecFailed(ushort node, uint pid, ReadOnlySpan<byte> path, int errno, ElfError elfError)
        {
            if (!Log.Begin(LogLevel.Warn)) return;
            WriteProcess(node, pid);
            Console.Write(": exec ");
            Console.WriteAscii(path);
            Console.Write(" failed: ");
            Console.Write(errno == -Errno.ENOENT ? "no such executable (ENOENT)"
                : errno == -Errno.ENOEXEC ? ElfErrors.Describe(elfError)
                : errno == -Errno.E2BIG ? "arguments too long (E2BIG)"
                : errno == -Errno.ENOMEM ? "out of memory (ENOMEM)"
                : "error");
            Console.WriteLine();
        }

        /// <summary>The STATS-like line of a process: what the page service did, and what is held.</summary>
        public override void Exited(ProcessAddressSpace space, long framesInUse, int liveProcesses)
        {
            if (!Log.Begin(LogLevel.Info)) return;
            ProcessCounters c = space.Counters;
            WriteProcess(space.Node, space.Pid);
            Console.Write(": exit: ");
            Console.WriteDecimal(c.Misses);
            Console.Write(" misses (");
            Console.WriteDecimal(c.ZeroPages);
            Console.Write(" zero, ");
            Console.WriteDecimal(c.FilePages);
            Console.Write(" file, ");
            Console.WriteDecimal(c.StoredPages);
            Console.Write(" stored), ");
            Console.WriteDecimal(c.WriteBacks);
            Console.Write(" write-backs (");
            Console.WriteDecimal(c.Victims);
            Console.Write(" victims, ");
            Console.WriteDecimal(c.VictimsDropped);
            Console.Write(" dropped), ");
            Console.WriteDecimal(c.Refused);
            Console.Write(" refused; pages stored ");
            Console.WriteDecimal((ulong)space.Pages.StoredPages);
            Console.Write(" (peak ");
            Console.WriteDecimal(c.PeakStoredPages);
            Console.Write("), frames freed ");
            long own = space.Pages.FramesInUse;
            Console.WriteDecimal((ulong)own);
            Console.Write("; frames in use ");
            Console.WriteDecimal((ulong)(framesInUse - own));
            Console.Write(" by ");
            Console.WriteDecimal((ulong)(liveProcesses - 1));
            Console.WriteLine(" processes");
        }

        private static void WriteProcess(ushort node, uint pid)
        {
            Console.Write("memory: node ");
            Console.WriteDecimal(node);
            Console.Write(" pid ");
            Console.WriteDecimal(pid);
        }
    }
}
