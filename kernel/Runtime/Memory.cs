// Block copy and fill: the targets of cpblk/initblk and of struct copies.
using System.Runtime.CompilerServices;

namespace System
{
    internal static unsafe class SpanHelpers
    {
        // memmove semantics: overlapping ranges copy correctly in either direction.
        internal static void Memmove(ref byte destination, ref byte source, nuint len)
        {
            byte* dst = (byte*)Unsafe.AsPointer(ref destination);
            byte* src = (byte*)Unsafe.AsPointer(ref source);
            if (dst == src || len == 0) return;
            if (dst < src || dst >= src + len)
            {
                nuint i = 0;
                for (; i + 8 <= len; i += 8) *(ulong*)(dst + i) = *(ulong*)(src + i);
                for (; i < len; i++) dst[i] = src[i];
            }
            else
            {
                for (nuint i = len; i > 0; i--) dst[i - 1] = src[i - 1];
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
