// Executables handed to the memory image as boot modules (multiboot1 from QEMU's
// `-initrd "path name,..."`, multiboot2 from GRUB's `module2`): a module's bytes are where
// the loader put them in physical memory (excluded from the frame allocator), read through
// the direct map; its string names it (ExecutableSource.NameMatches).
using System;
using Tessera.Core;
using Tessera.Core.Boot;
using Tessera.Core.Memory;

namespace Tessera.Memory
{
    public sealed unsafe class BootModuleExecutables : ExecutableSource
    {
        private readonly BootInfo _boot;

        public BootModuleExecutables(BootInfo boot) { _boot = boot; }

        public override int Count => _boot.ModuleCount;

        public override ReadOnlySpan<byte> Name(int index) => _boot.Modules[index < Count ? index : -1].Name;

        public override ReadOnlySpan<byte> Contents(int index)
        {
            BootModule m = _boot.Modules[index < Count ? index : -1];
            ulong length = m.End - m.Start;
            if (length > int.MaxValue || !DirectMap.Contains(m.Start, length)) return default;
            return new ReadOnlySpan<byte>(DirectMap.ToVirtual(m.Start), (int)length);
        }

        /// <summary>One log line per module: its name and size, so a rig's log shows what it can run.</summary>
        public void PrintModules()
        {
            for (int i = 0; i < Count; i++)
            {
                if (!Log.Begin(LogLevel.Info)) return;
                Console.Write("memory: executable ");
                Console.WriteDecimal((ulong)i + 1);
                Console.Write(": \"");
                ReadOnlySpan<byte> name = Name(i);
                int n = name.Length;
                while (n > 0 && name[n - 1] == 0) n--;
                Console.WriteAscii(name.Slice(0, n));
                Console.Write("\", ");
                Console.WriteDecimal((ulong)Contents(i).Length);
                Console.WriteLine(" bytes (boot module)");
            }
        }
    }
}
