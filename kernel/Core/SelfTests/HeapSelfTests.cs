// Self-tests of the kernel heap (kernel/Core/Memory): the global heap that `new` uses, and
// a private SlabHeap with poisoning on to provoke what must never happen for real.
// Figures are read through KernelHeap's out-of-line getters (see docs/kernel-csharp.md on
// statics read right after a `new`), and block addresses are kept in stackalloc buffers so
// the bookkeeping of a test does not itself allocate.
using System.Runtime.CompilerServices;
using Tessera.Core.Memory;

namespace Tessera.Core
{
    internal sealed class HeapReuseSelfTest : SelfTestCase
    {
        public override string Name => "heap.reuse";

        private const int PerSize = 32;

        public override unsafe string? Run()
        {
            int* sizes = stackalloc int[] { 1, 16, 24, 100, 128, 129, 300, 700, 1500, 2048 };
            const int sizeCount = 10, total = sizeCount * PerSize;
            byte** blocks = stackalloc byte*[total];
            HeapStatistics start = KernelHeap.Statistics;

            ulong expectedBytes = 0;
            for (int i = 0; i < total; i++)
            {
                int size = sizes[i / PerSize];
                byte* p = (byte*)KernelHeap.AllocateZeroed((nuint)size);
                blocks[i] = p;
                if (((ulong)p & 15) != 0) return "block not 16-byte aligned";
                nuint blockSize = KernelHeap.BlockSizeOf(p);
                if (blockSize < (nuint)size) return "block smaller than asked";
                for (int b = 0; b < size; b++) if (p[b] != 0) return "block not zeroed";
                for (int b = 0; b < (int)blockSize; b++) p[b] = (byte)i;
                expectedBytes += blockSize;
            }
            for (int i = 0; i < total; i++)
            {
                nuint n = KernelHeap.BlockSizeOf(blocks[i]);
                for (int b = 0; b < (int)n; b++) if (blocks[i][b] != (byte)i) return "blocks overlap or contents lost";
            }
            HeapStatistics full = KernelHeap.Statistics;
            if (full.BytesInUse - start.BytesInUse != expectedBytes) return "bytes in use disagree with the blocks";
            if (full.BlocksInUse - start.BlocksInUse != total) return "blocks in use disagree";

            // Free newest first, so the slabs are reused in the order they were first filled.
            for (int i = total - 1; i >= 0; i--)
                if (KernelHeap.Free(blocks[i]) != HeapResult.Freed) return "free refused a block it gave out";
            HeapStatistics empty = KernelHeap.Statistics;
            if (empty.BytesInUse != start.BytesInUse || empty.BlocksInUse != start.BlocksInUse) return "bytes in use not back after free";
            if (empty.Frees - start.Frees != total) return "free count wrong";

            // The same again fits in the memory just freed: no more slab pages than the heap
            // held before (slabs emptied by the frees may have gone back to the region and
            // come again, so not every address need repeat), and blocks do repeat.
            int reused = 0;
            byte** again = stackalloc byte*[total];
            for (int i = 0; i < total; i++)
            {
                again[i] = (byte*)KernelHeap.AllocateZeroed((nuint)sizes[i / PerSize]);
                for (int j = 0; j < total; j++) if (blocks[j] == again[i]) { reused++; break; }
            }
            HeapStatistics second = KernelHeap.Statistics;
            if (second.PagesHeld - second.MetadataPages > full.PagesHeld - full.MetadataPages) return "reallocation took new pages";
            if (reused == 0) return "reallocation reused no freed block";
            for (int i = 0; i < total; i++) KernelHeap.Free(again[i]);
            if (KernelHeap.Statistics.BytesInUse != start.BytesInUse) return "bytes in use not back after the second round";
            return null;
        }
    }

    internal sealed class HeapLargeBlockSelfTest : SelfTestCase
    {
        public override string Name => "heap.large-blocks";

        public override unsafe string? Run()
        {
            HeapStatistics before = KernelHeap.Statistics;
            int freeBefore = KernelHeap.FreeSourcePages;

            nuint smallSize = 3 * 4096 + 100, bigSize = 1024 * 1024;
            byte* small = (byte*)KernelHeap.AllocateZeroed(smallSize);
            byte* big = (byte*)KernelHeap.AllocateZeroed(bigSize);
            if (((ulong)small & 4095) != 0 || ((ulong)big & 4095) != 0) return "large block not page-aligned";
            if (KernelHeap.BlockSizeOf(small) != 4 * 4096 || KernelHeap.BlockSizeOf(big) != bigSize) return "large block not whole pages";
            if (small < big ? small + 4 * 4096 > big : big + bigSize > small) return "large blocks overlap";
            for (nuint i = 0; i < smallSize; i++) if (small[i] != 0) return "large block not zeroed";
            for (nuint i = 0; i < bigSize; i += 4096) { big[i] = 0x5A; big[i + 4095] = 0xA5; }
            if (big[bigSize - 1] != 0xA5 || big[0] != 0x5A) return "large block not writable end to end";

            HeapStatistics during = KernelHeap.Statistics;
            if (during.LargeBlocksInUse != before.LargeBlocksInUse + 2) return "large blocks not counted";
            if (during.BytesInUse - before.BytesInUse != 4 * 4096 + bigSize) return "large bytes not counted";
            if (freeBefore - KernelHeap.FreeSourcePages < 4 + 256) return "large blocks took fewer pages than their size";

            if (KernelHeap.Free(big) != HeapResult.Freed || KernelHeap.Free(small) != HeapResult.Freed) return "free of a large block refused";
            HeapStatistics after = KernelHeap.Statistics;
            if (after.LargeBlocksInUse != before.LargeBlocksInUse || after.BytesInUse != before.BytesInUse) return "large blocks still counted after free";
            // Every page went back to the region, save any the heap needed for its own bookkeeping.
            ulong metadata = after.MetadataPages - before.MetadataPages;
            if ((ulong)(freeBefore - KernelHeap.FreeSourcePages) != metadata) return "large block's pages not returned to the page source";
            if (KernelHeap.Owns(big) || KernelHeap.Owns(small)) return "heap still owns freed large blocks";

            // A large managed array, freed as an object.
            byte[] array = MakeLargeArray();
            if (KernelHeap.BlockSizeOf(Internal.Runtime.CompilerServices.ObjectAddress.Of(array)) < 70000) return "large array not a large block";
            if (KernelHeap.Free(array) != HeapResult.Freed) return "free of a large array refused";
            if (KernelHeap.Statistics.LargeBlocksInUse != before.LargeBlocksInUse) return "large array not given back";
            return null;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static byte[] MakeLargeArray() => new byte[70000];
    }

    internal sealed class HeapObjectFreeSelfTest : SelfTestCase
    {
        public override string Name => "heap.free-objects";

        private static Point? s_point;
        private static int[]? s_numbers;

        public override unsafe string? Run()
        {
            HeapStatistics before = KernelHeap.Statistics;
            MakeObjects();
            void* pointAddress = Internal.Runtime.CompilerServices.ObjectAddress.Of(s_point!);
            void* arrayAddress = Internal.Runtime.CompilerServices.ObjectAddress.Of(s_numbers!);
            nuint pointBlock = KernelHeap.BlockSizeOf(pointAddress), arrayBlock = KernelHeap.BlockSizeOf(arrayAddress);
            if (pointBlock == 0 || arrayBlock < 100 * sizeof(int)) return "objects not live heap blocks";
            if (KernelHeap.Statistics.BytesInUse - before.BytesInUse != pointBlock + arrayBlock) return "object bytes not counted";

            if (KernelHeap.Free(s_point) != HeapResult.Freed || KernelHeap.Free(s_numbers) != HeapResult.Freed) return "free of an object refused";
            if (KernelHeap.BlockSizeOf(pointAddress) != 0 || KernelHeap.BlockSizeOf(arrayAddress) != 0) return "freed objects still live";
            HeapStatistics freed = KernelHeap.Statistics;
            if (freed.BytesInUse != before.BytesInUse) return "object bytes not given back";
            if (KernelHeap.Poisoning && *(ulong*)pointAddress != 0xDEDEDEDEDEDEDEDEUL) return "freed object not poisoned under heap_debug";

            // Misuse, recorded instead of ending the kernel for the length of the test.
            bool previous = KernelHeap.RecordErrors(true);
            HeapResult twice = KernelHeap.Free(s_point);
            HeapResult literal = KernelHeap.Free("a string literal lives in the image");
            HeapStatistics misuse = KernelHeap.Statistics;
            KernelHeap.RecordErrors(previous);
            s_point = null;
            s_numbers = null;
            if (twice != HeapResult.DoubleFree) return "double free of an object not reported";
            if (literal != HeapResult.NotHeapMemory) return "free of an image object not reported";
            if (misuse.DoubleFrees != freed.DoubleFrees + 1 || misuse.InvalidFrees != freed.InvalidFrees + 1) return "misuse not counted";
            if (misuse.BytesInUse != freed.BytesInUse || misuse.BlocksInUse != freed.BlocksInUse) return "misuse changed the heap";

            // The next objects of the same sizes come from memory already held.
            MakeObjects();
            HeapStatistics again = KernelHeap.Statistics;
            if (again.PagesHeld > freed.PagesHeld) return "new objects took new pages instead of the freed blocks";
            KernelHeap.Free(s_point);
            KernelHeap.Free(s_numbers);
            s_point = null;
            s_numbers = null;
            return null;
        }

        // Kept in statics so the JIT cannot put them on the stack (.NET 10 escape analysis).
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void MakeObjects()
        {
            s_point = new Point(7, 8);
            s_numbers = new int[100];
        }
    }

    internal sealed class HeapPoisoningSelfTest : SelfTestCase
    {
        public override string Name => "heap.poisoning";

        public override unsafe string? Run()
        {
            // A private heap with poisoning on, over 16 pages of the kernel heap.
            const int regionBytes = 16 * 4096;
            byte* region = (byte*)KernelHeap.AllocateZeroed(regionBytes);
            var heap = new SlabHeap<RegionPageSource>(new RegionPageSource(region, region + regionBytes), poisoning: true);
            string? failure = Provoke(heap);
            KernelHeap.Free(region);
            if (failure != null) return failure;

            // The kernel's own heap, when heap_debug turned poisoning on.
            if (KernelHeap.Poisoning)
            {
                bool previous = KernelHeap.RecordErrors(true);
                ulong before = KernelHeap.Statistics.UseAfterFrees;
                byte* keep = (byte*)KernelHeap.AllocateZeroed(40);
                byte* a = (byte*)KernelHeap.AllocateZeroed(40);
                KernelHeap.Free(a);
                bool poisoned = a[0] == SlabHeap<RegionPageSource>.PoisonByte && a[47] == SlabHeap<RegionPageSource>.PoisonByte;
                a[8] = 1;
                // Take blocks of that class until the heap reaches the written one (other free
                // blocks of the class may come first); it must report it and hand out another.
                const int most = 64;
                byte** taken = stackalloc byte*[most];
                int count = 0;
                bool handedOut = false;
                ulong after = before;
                while (count < most && after == before)
                {
                    taken[count] = (byte*)KernelHeap.AllocateZeroed(40);
                    if (taken[count] == a) handedOut = true;
                    count++;
                    after = KernelHeap.Statistics.UseAfterFrees;
                }
                KernelHeap.RecordErrors(previous);
                for (int i = 0; i < count; i++) KernelHeap.Free(taken[i]);
                KernelHeap.Free(keep);
                if (!poisoned) return "the kernel heap did not poison a freed block";
                if (handedOut || after != before + 1) return "the kernel heap missed a write after free";
            }
            return null;
        }

        private static unsafe string? Provoke(SlabHeap<RegionPageSource> heap)
        {
            if (!heap.IsReady) return "private heap could not start";
            byte* keep = heap.Allocate(64);
            byte* a = heap.Allocate(64);
            if (heap.Free(a) != HeapResult.Freed) return "free refused";
            for (int i = 0; i < 64; i++) if (a[i] != SlabHeap<RegionPageSource>.PoisonByte) return "freed block not poisoned";
            a[17] = 0x42;   // a write after free
            byte* b = heap.Allocate(64);
            HeapStatistics s = heap.Statistics;
            if (b == a) return "block written after free handed out again";
            if (s.UseAfterFrees != 1 || s.LastError != HeapError.UseAfterFree || s.LastErrorAddress != (ulong)a) return "write after free not reported";
            if (heap.Free(b) != HeapResult.Freed) return "free refused";
            if (heap.Free(b) != HeapResult.DoubleFree) return "double free not reported";
            long local = 0;
            if (heap.Free(&local) != HeapResult.NotHeapMemory) return "free of a stack address not reported";
            if (heap.Free(keep + 16) != HeapResult.NotBlockStart) return "free inside a block not reported";
            s = heap.Statistics;
            if (s.Errors != 4 || s.BlocksInUse != 1) return "errors miscounted or heap changed";
            return null;
        }
    }
}
