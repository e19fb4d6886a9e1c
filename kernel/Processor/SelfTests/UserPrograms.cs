// The ring-3 programs of boot/usertests.asm, as the self-tests load them.
using System.Runtime;
using System.Runtime.CompilerServices;

namespace Tessera.Processor
{
    internal static unsafe class UserPrograms
    {
        public const int Syscalls = 0, NullRead = 1, Undefined = 2, CodeWrite = 3, Int80 = 4, ExCache = 5, Unmapped = 6;

        /// <summary>Where the self-tests put a program's first byte (its entry point).</summary>
        public const ulong CodeAddress = 0x400000;
        /// <summary>The top of the self-tests' stack area (the last user page ends here).</summary>
        public const ulong StackTop = UserMode.UserTop;

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("usertest_program")]
        private static extern byte* Program(int which, ulong* length);

        public static byte* Bytes(int which, out ulong length)
        {
            ulong n = 0;
            byte* start = Program(which, &n);
            length = n;
            return start;
        }
    }
}
