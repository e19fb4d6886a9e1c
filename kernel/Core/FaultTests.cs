// `fault-test=<kind>` on the command line: raise one deliberate fault after the
// boot summary, with no handler for it, so the exception report and the panic
// can be checked end to end (tests/Tessera.Tests/Boot/FaultTests.cs). Each ends
// the VM with exit 35; reaching the line after the fault is itself a failure.
//   pf   read an unmapped address           de   divide by zero (a real DIV)
//   gp   read a non-canonical address       ro   write to read-only kernel text
using System;
using Tessera.Core.Boot;

namespace Tessera.Core
{
    public static unsafe class FaultTests
    {
        /// <summary>Not mapped by the boot stub (it maps only the first 4 GiB), nor by any kernel table: the top of the lower half.</summary>
        public const ulong UnmappedAddress = 0x0000_7FFF_FFFF_F000;
        /// <summary>Bits 63:47 not all equal: not canonical, so any access raises #GP(0) (SDM Vol. 1 §3.3.7.1).</summary>
        public const ulong NonCanonicalAddress = 0xDEAD_0000_0000_0000;

        private static ulong s_sink;

        public static void Run(CommandLine commandLine)
        {
            if (!commandLine.TryGetValue("fault-test", out ReadOnlySpan<byte> kind)) return;
            if (Is(kind, "pf")) PageFault();
            else if (Is(kind, "gp")) GeneralProtection();
            else if (Is(kind, "de")) DivideError();
            else if (Is(kind, "ro")) WriteToReadOnlyText();
            else Panic.Halt("fault-test: unknown kind (pf, gp, de, ro)");
        }

        /// <summary>Reads an unmapped address: #PF with CR2 = the address.</summary>
        private static void PageFault()
        {
            Announce("reading unmapped address ", UnmappedAddress);
            s_sink = *(ulong*)UnmappedAddress;
            Panic.Halt("fault-test=pf: reading an unmapped address did not fault");
        }

        /// <summary>Reads a non-canonical address: #GP with error code 0.</summary>
        private static void GeneralProtection()
        {
            Announce("reading non-canonical address ", NonCanonicalAddress);
            s_sink = *(ulong*)NonCanonicalAddress;
            Panic.Halt("fault-test=gp: reading a non-canonical address did not fault");
        }

        /// <summary>Divides by zero with a real DIV instruction: #DE.</summary>
        private static void DivideError()
        {
            Announce("dividing by zero at ", FaultProbe.DivideInstructionAddress);
            FaultProbe.TryDivide(1, 0, out s_sink);
            Panic.Halt("fault-test=de: dividing by zero did not fault");
        }

        /// <summary>
        /// Writes to kernel text, mapped read-only by KernelAddressSpace; with CR0.WP set that
        /// faults in ring 0 too (SDM Vol. 3A §4.6.1): #PF, present + write, CR2 = the byte.
        /// The byte written is the one already there, so a wrong mapping would change nothing.
        /// </summary>
        private static void WriteToReadOnlyText()
        {
            byte* target = KernelLayout.TextStart() + 0x10;
            Announce("ro: writing to read-only kernel text at ", (ulong)target);
            byte value = *target;
            *target = value;
            Panic.Halt("fault-test=ro: writing to read-only kernel text did not fault");
        }

        private static void Announce(string what, ulong address)
        {
            if (!Log.Begin(LogLevel.Info)) return;
            Console.Write("fault-test: ");
            Console.Write(what);
            Console.WriteHex(address);
            Console.WriteLine();
        }

        private static bool Is(ReadOnlySpan<byte> value, string name)
        {
            if (value.Length != name.Length) return false;
            for (int i = 0; i < name.Length; i++) if (value[i] != name[i]) return false;
            return true;
        }
    }
}
