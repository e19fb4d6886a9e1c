// Block copy and fill: the targets of cpblk/initblk and of struct copies.
using System.Runtime.CompilerServices;

namespace System
{
    internal static unsafe class SpanHelpers
    {
        // memmove semantics: overlapping ranges copy correctly in either direction.
        // Eight bytes a move, four moves a round: under TCG every guest load and store is a
        // software TLB lookup and every loop round a few more instructions, so fewer, wider
        // moves are what makes a copy fast (a 4 KiB page went from ~34 us byte by byte to a
        // few us; docs/bench-rpc.md). Within a round all four loads come before the stores,
        // and rounds walk away from the overlap (forward when dst < src, backward otherwise),
        // so no source byte is overwritten before it is read. x86 allows unaligned qword
        // accesses (Intel SDM Vol. 1 §4.1.1).
        internal static void Memmove(ref byte destination, ref byte source, nuint len)
        {
            byte* dst = (byte*)Unsafe.AsPointer(ref destination);
            byte* src = (byte*)Unsafe.AsPointer(ref source);
            if (dst == src || len == 0) return;
            if (dst < src || dst >= src + len)
            {
                nuint i = 0;
                for (; i + 32 <= len; i += 32)
                {
                    ulong a = *(ulong*)(src + i), b = *(ulong*)(src + i + 8), c = *(ulong*)(src + i + 16), d = *(ulong*)(src + i + 24);
                    *(ulong*)(dst + i) = a; *(ulong*)(dst + i + 8) = b; *(ulong*)(dst + i + 16) = c; *(ulong*)(dst + i + 24) = d;
                }
                for (; i + 8 <= len; i += 8) *(ulong*)(dst + i) = *(ulong*)(src + i);
                for (; i < len; i++) dst[i] = src[i];
            }
            else
            {
                nuint i = len;
                for (; i >= 32; i -= 32)
                {
                    ulong a = *(ulong*)(src + i - 8), b = *(ulong*)(src + i - 16), c = *(ulong*)(src + i - 24), d = *(ulong*)(src + i - 32);
                    *(ulong*)(dst + i - 8) = a; *(ulong*)(dst + i - 16) = b; *(ulong*)(dst + i - 24) = c; *(ulong*)(dst + i - 32) = d;
                }
                for (; i >= 8; i -= 8) *(ulong*)(dst + i - 8) = *(ulong*)(src + i - 8);
                for (; i > 0; i--) dst[i - 1] = src[i - 1];
            }
        }

        internal static void Fill(ref byte destination, nuint len, byte value)
        {
            byte* dst = (byte*)Unsafe.AsPointer(ref destination);
            for (nuint i = 0; i < len; i++) dst[i] = value;
        }

        internal static void ClearWithoutReferences(ref byte destination, nuint len)
        {
            byte* dst = (byte*)Unsafe.AsPointer(ref destination);
            nuint i = 0;
            for (; i + 8 <= len; i += 8) *(ulong*)(dst + i) = 0;
            for (; i < len; i++) dst[i] = 0;
        }
    }

    internal static class Buffer
    {
        // Without a GC, copying references needs no barrier: a plain memmove.
        internal static void BulkMoveWithWriteBarrier(ref byte destination, ref byte source, nuint byteCount) =>
            SpanHelpers.Memmove(ref destination, ref source, byteCount);
    }
}
