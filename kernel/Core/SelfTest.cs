// In-kernel self-tests, run when `selftest` is on the command line.
// Output contract (read by tests/ boot tests):
//   selftest: <name> ... ok            one line per test
//   selftest: <name> ... FAILED (<why>)
//   selftest: N passed, M failed       closing line; then QEMU exits 33 or 35
using Tessera.Drivers;

namespace Tessera.Core
{
    public abstract class SelfTestCase
    {
        public abstract string Name { get; }
        /// <summary>Returns null on success, or the reason it failed.</summary>
        public abstract string? Run();
    }

    public static class SelfTest
    {
        private static int s_passed, s_failed;

        public static void Run(SelfTestCase test)
        {
            Console.Write("selftest: ");
            Console.Write(test.Name);
            Console.Write(" ... ");
            string? failure = test.Run();
            if (failure is null) { s_passed++; Console.WriteLine("ok"); }
            else { s_failed++; Console.Write("FAILED ("); Console.Write(failure); Console.WriteLine(")"); }
        }

        /// <summary>Prints the closing line and ends the VM: 33 when all passed, 35 otherwise.</summary>
        public static void Finish()
        {
            Console.Write("selftest: ");
            Console.WriteDecimal((ulong)s_passed);
            Console.Write(" passed, ");
            Console.WriteDecimal((ulong)s_failed);
            Console.WriteLine(" failed");
            QemuDebugExit.Exit(s_failed == 0 && s_passed > 0 ? QemuDebugExit.Success : QemuDebugExit.Failure);
        }
    }
}
