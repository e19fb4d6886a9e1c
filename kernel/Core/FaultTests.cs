// Deliberate faults, asked for on the command line with `fault-test=<kind>`, so
// the boot tests (tests/Tessera.Tests/Boot/FaultTests.cs) can check that each
// one ends in a readable report and exit code 35. One method per kind; Run is
// called from KernelMain after the boot summary.
//   ro   write to read-only kernel text (a page fault: present, write, supervisor)
using Tessera.Core.Boot;

namespace Tessera.Core
{
    public static unsafe class FaultTests
    {
        public static void Run(CommandLine commandLine)
        {
            if (!commandLine.TryGetValue("fault-test", out System.ReadOnlySpan<byte> kind)) return;
            if (Is(kind, "ro")) WriteToReadOnlyText();
            else
            {
                if (Log.Begin(LogLevel.Error))
                {
                    Console.Write("fault-test: unknown kind '");
                    Console.WriteAscii(kind);
                    Console.WriteLine("'");
                }
                return;
            }
            // Reaching this line means the fault did not happen.
            Panic.Halt("fault-test: the deliberate fault did not fault");
        }

        /// <summary>
        /// Writes to the first page of kernel text, mapped read-only by KernelAddressSpace;
        /// with CR0.WP set that faults in ring 0 too (SDM Vol. 3A §4.6.1). The byte written is
        /// the byte already there, so a mapping that wrongly allowed it would change nothing.
        /// </summary>
        private static void WriteToReadOnlyText()
        {
            byte* target = KernelLayout.TextStart() + 0x10;
            Announce("ro", "writing to read-only kernel text at ", (ulong)target);
            byte value = *target;
            *target = value;
        }

        private static void Announce(string kind, string what, ulong address)
        {
            Console.Write("fault-test: ");
            Console.Write(kind);
            Console.Write(": ");
            Console.Write(what);
            Console.WriteHex(address);
            Console.WriteLine();
        }

        private static bool Is(System.ReadOnlySpan<byte> value, string name)
        {
            if (value.Length != name.Length) return false;
            for (int i = 0; i < name.Length; i++) if (value[i] != name[i]) return false;
            return true;
        }
    }
}
