// The storage component's hooks into the shared kernel entry (kernel/Core/KernelMain.cs).
using Tessera.Core;
using Tessera.Storage;

namespace Tessera
{
    public static class Component
    {
        public const string Kind = "storage";

        /// <summary>Self-tests of what only this component has (run after the core's).</summary>
        public static void RunSelfTests()
        {
            SelfTest.Run(new Ext2SelfTest());
        }

        /// <summary>The component's work after boot; returning means idle.</summary>
        public static void Run() { }
    }
}
