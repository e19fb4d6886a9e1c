// Deliberate heap faults, chosen on the kernel command line (`heap-test=double-free`,
// `heap-test=use-after-free`, `heap-test=exhaust`), so the boot tests can see that the
// kernel's policy holds: each ends in a panic naming what went wrong (KernelHeap.cs).
using System;

namespace Tessera.Core.Memory
{
    public static unsafe class HeapFaultTest
    {
        public static void Run(Boot.CommandLine commandLine)
        {
            if (!commandLine.TryGetValue("heap-test", out ReadOnlySpan<byte> which)) return;
            if (Is(which, "double-free"))
            {
                Log.Info("heap-test: freeing one block twice");
                void* block = KernelHeap.AllocateZeroed(64);
                KernelHeap.Free(block);
                KernelHeap.Free(block);
            }
            else if (Is(which, "use-after-free"))
            {
                Log.Info("heap-test: writing to a freed block, then allocating it again");
                KernelHeap.EnablePoisoning();
                byte* keep = (byte*)KernelHeap.AllocateZeroed(64);
                byte* block = (byte*)KernelHeap.AllocateZeroed(64);
                KernelHeap.Free(block);
                block[5] = 1;
                // The written block is found when its turn comes; other free blocks of the
                // class may come first, and the region runs out long before 100000 of them.
                for (int i = 0; i < 100000; i++) KernelHeap.AllocateZeroed(64);
                keep[0] = 1;
            }
            else if (Is(which, "exhaust"))
            {
                Log.Info("heap-test: allocating 1 MiB blocks until the heap runs out");
                for (int i = 0; i < 1 << 20; i++) KernelHeap.AllocateZeroed(1 << 20);
            }
            Log.Error("heap-test: the heap did not stop the kernel");
        }

        private static bool Is(ReadOnlySpan<byte> value, string name)
        {
            if (value.Length != name.Length) return false;
            for (int i = 0; i < name.Length; i++) if (value[i] != name[i]) return false;
            return true;
        }
    }
}
