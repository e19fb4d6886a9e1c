// What the memory service needs from the kernel it runs in beyond frames and executables:
// randomness for AT_RANDOM, the CPU's AT_HWCAP, and somewhere to report execs and exits.
// The memory kernel's version reads the TSC and CPUID and prints to the log; the host tests'
// is deterministic and records the reports.
// Pure logic: compiled into the memory kernel and the host tests.
using System;

namespace Tessera.Memory
{
    public abstract class MemoryServicePlatform
    {
        /// <summary>Fills bytes with unpredictable values (AT_RANDOM: libc's stack protector and pointer guard seeds).</summary>
        public abstract void FillRandom(Span<byte> bytes);

        /// <summary>AT_HWCAP: on x86, CPUID.1:EDX of the CPU the program runs on.</summary>
        public abstract ulong HardwareCapabilities { get; }

        /// <summary>A program was loaded (space is live, start says where it begins).</summary>
        public virtual void Executed(ProcessAddressSpace space, ReadOnlySpan<byte> path, in ProgramStart start) { }

        /// <summary>EXECVE failed with errno (negative) for path.</summary>
        public virtual void ExecFailed(ushort node, uint pid, ReadOnlySpan<byte> path, int errno, ElfError elfError) { }

        /// <summary>
        /// A process exited: space still holds its pages and counters; framesInUse counts
        /// every frame the service holds, this process's included.
        /// </summary>
        public virtual void Exited(ProcessAddressSpace space, long framesInUse, int liveProcesses) { }
    }
}
