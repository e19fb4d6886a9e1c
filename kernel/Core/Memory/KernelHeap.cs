// The kernel heap: what `new` allocates from (kernel/Runtime/RuntimeExports.cs) and what
// kernel code frees explicitly — there is no garbage collector (DESIGN §4). The allocator
// is SlabHeap (pure, host-tested); this file gives it its pages and the kernel's policy:
//
// - Pages: the boot heap region reserved in the image (boot/entry.asm, 8 MiB) through
//   RegionPageSource. THE SEAM: when the frame allocator and the direct map exist, write a
//   struct page source over them (AllocatePages = frames mapped through the direct map) and
//   change the type argument of s_heap and the line that makes it in Initialize — nothing
//   else here depends on where pages come from. The page source must keep to plain
//   (non-reference) fields: the heap runs before the runtime has made any static base.
// - Errors: a double free, a free of a pointer the heap never gave out, or (with
//   poisoning) a write after free is a kernel bug: the heap reports it, and the kernel
//   prints the address and panics naming it. Self-tests switch to recording (RecordErrors)
//   to check detection without ending the kernel.
// - Poisoning is a run-time switch, `heap_debug` on the kernel command line, not a
//   build flag: the same image is tested with and without it (a boot test runs it with),
//   no second set of images is built, and it costs one predictable branch per allocation
//   and free when off. It is turned on as soon as the command line is read; blocks freed
//   before then are poisoned at that moment (SlabHeap.EnablePoisoning).
// - Exhaustion ends in a panic naming it.
//
// All statics here are plain data (a struct of pointers, numbers): RhpNewFast calls in
// while StartupCodeHelpers is still allocating the static bases of reference-type statics.
using System.Runtime.CompilerServices;

namespace Tessera.Core.Memory
{
    public static unsafe class KernelHeap
    {
        private static SlabHeap<KernelPageSource> s_heap;
        private static RegionPageSource s_pages;
        private static ulong s_errorsHandled;
        private static bool s_recordErrors;

        /// <summary>Returns size bytes of zeroed memory, 16-byte aligned (RhpNewFast, RhpNewArray).</summary>
        public static void* AllocateZeroed(nuint size)
        {
            if (!s_heap.IsReady) Initialize();
            byte* block = s_heap.AllocateZeroed(size);
            if (block == null) Exhausted(size);
            if (s_heap.ErrorCount != s_errorsHandled) OnError();
            return block;
        }

        /// <summary>Gives back a block from AllocateZeroed. Misuse panics (or is recorded, see RecordErrors).</summary>
        public static HeapResult Free(void* block)
        {
            if (!s_heap.IsReady) Initialize();
            HeapResult result = s_heap.Free(block);
            if (s_heap.ErrorCount != s_errorsHandled) OnError();
            return result;
        }

        /// <summary>
        /// Frees a kernel object made with `new`. Every reference to it is dangling afterwards;
        /// with heap_debug its memory, MethodTable pointer included, reads 0xDE.
        /// Kept out of line so the object is seen to escape (.NET 10 may put objects that do
        /// not escape on the stack, and those were never the heap's).
        /// </summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static HeapResult Free(object? obj)
        {
            if (obj is null) return HeapResult.Null;
            return Free(Internal.Runtime.CompilerServices.ObjectAddress.Of(obj));
        }

        /// <summary>True when address lies in memory the heap holds now.</summary>
        public static bool Owns(void* address) => s_heap.IsReady && s_heap.Owns(address);

        /// <summary>The size of the live block at address (0 if none).</summary>
        public static nuint BlockSizeOf(void* address) => s_heap.IsReady ? s_heap.BlockSizeOf(address) : 0;

        // Read out of line: the JIT assumes allocation helpers write no user memory, so a
        // figure read inline right after a `new` could be a stale copy (docs/kernel-csharp.md).
        public static HeapStatistics Statistics
        {
            [MethodImpl(MethodImplOptions.NoInlining)]
            get
            {
                if (!s_heap.IsReady) Initialize();
                return s_heap.Statistics;
            }
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static SizeClassStatistics ClassStatistics(int sizeClass)
        {
            if (!s_heap.IsReady) Initialize();
            return s_heap.ClassStatistics(sizeClass);
        }

        public static bool Poisoning => s_heap.IsReady && s_heap.Poisoning;

        /// <summary>Pages still free in the region the heap takes pages from.</summary>
        public static int FreeSourcePages
        {
            [MethodImpl(MethodImplOptions.NoInlining)]
            get => s_pages.FreePageCount;
        }

        public static int SourcePages => s_pages.PageCount;

        /// <summary>
        /// While true, heap errors are counted (Statistics) instead of ending the kernel.
        /// For self-tests that provoke them; returns the previous setting.
        /// </summary>
        public static bool RecordErrors(bool record)
        {
            bool previous = s_recordErrors;
            s_recordErrors = record;
            s_errorsHandled = s_heap.ErrorCount;
            return previous;
        }

        /// <summary>Applies the command line: `heap_debug` turns poisoning on.</summary>
        public static void Configure(Boot.CommandLine commandLine)
        {
            if (!s_heap.IsReady) Initialize();
            if (commandLine.Has("heap_debug")) EnablePoisoning();
        }

        /// <summary>Poisons freed blocks from now on, and every block already free.</summary>
        public static void EnablePoisoning()
        {
            if (!s_heap.IsReady) Initialize();
            s_heap.EnablePoisoning();
        }

        /// <summary>One line at boot: `heap: 212 KiB in use (peak 220 KiB) in 1830 blocks, ...`.</summary>
        public static void PrintSummary()
        {
            HeapStatistics s = Statistics;
            if (Log.Begin(LogLevel.Info))
            {
                Console.Write("heap: ");
                Console.WriteSize(s.BytesInUse);
                Console.Write(" in use (peak ");
                Console.WriteSize(s.PeakBytesInUse);
                Console.Write(") in ");
                Console.WriteDecimal(s.BlocksInUse);
                Console.Write(" blocks, ");
                Console.WriteDecimal(s.Allocations);
                Console.Write(" allocations, ");
                Console.WriteDecimal(s.Frees);
                Console.Write(" frees, ");
                Console.WriteDecimal(s.PagesHeld);
                Console.Write(" of ");
                Console.WriteDecimal((ulong)s_pages.PageCount);
                Console.Write(" boot-region pages, poisoning ");
                Console.WriteLine(s_heap.Poisoning ? "on" : "off");
            }
            // Per-class figures at debug level: `heap class 48: 120 in use, 130 allocations, 10 frees, 2 slabs`.
            for (int c = 0; c < HeapSizeClasses.Count; c++)
            {
                SizeClassStatistics k = ClassStatistics(c);
                if (k.Allocations == 0) continue;
                if (!Log.Begin(LogLevel.Debug)) break;
                Console.Write("heap class ");
                Console.WriteDecimal((ulong)k.BlockSize);
                Console.Write(": ");
                Console.WriteDecimal(k.BlocksInUse);
                Console.Write(" in use, ");
                Console.WriteDecimal(k.Allocations);
                Console.Write(" allocations, ");
                Console.WriteDecimal(k.Frees);
                Console.Write(" frees, ");
                Console.WriteDecimal(k.Slabs);
                Console.WriteLine(" slabs");
            }
        }

        private static void Initialize()
        {
            s_pages = new RegionPageSource(KernelLayout.BootHeapStart(), KernelLayout.BootHeapEnd());
            if (!s_pages.IsReady) Panic.Halt("kernel heap: the boot heap region holds no pages");
            s_heap = new SlabHeap<KernelPageSource>(new KernelPageSource(s_pages), poisoning: false);
            if (!s_heap.IsReady) Panic.Halt("kernel heap exhausted while setting up");
        }

        private static void Exhausted(nuint size)
        {
            Console.Write("\nkernel heap: cannot allocate ");
            Console.WriteDecimal((ulong)size);
            Console.Write(" bytes; ");
            Console.WriteSize(s_heap.Statistics.BytesInUse);
            Console.Write(" in use, ");
            Console.WriteDecimal((ulong)s_pages.FreePageCount);
            Console.WriteLine(" pages left in the region");
            Panic.Halt("kernel heap exhausted");
        }

        // No allocation on this path until s_errorsHandled has caught up: building a message
        // with `+` would call back into the heap and find the same error again.
        private static void OnError()
        {
            s_errorsHandled = s_heap.ErrorCount;
            if (s_recordErrors) return;
            HeapStatistics s = s_heap.Statistics;
            string what = s.LastError == HeapError.DoubleFree ? "kernel heap: double free"
                : s.LastError == HeapError.InvalidFree ? "kernel heap: free of a pointer it never gave out"
                : "kernel heap: use after free (a freed block was written)";
            Console.Write("\n");
            Console.Write(what);
            Console.Write(" at ");
            Console.WriteHex(s.LastErrorAddress);
            Console.WriteLine();
            Panic.Halt(what);
        }
    }
}
