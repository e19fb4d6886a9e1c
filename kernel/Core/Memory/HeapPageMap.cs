// The kernel heap's page map: from the address of any page the heap holds to the
// descriptor of the span it belongs to. Free(pointer) needs no size because of it, and it
// is how the heap knows a pointer it never gave out.
//
// A radix tree over the 36-bit page number of a 48-bit canonical address: four levels of
// 512 eight-byte entries, one 4 KiB page each — the same split as x86-64 4-level paging
// (Intel SDM Vol. 3A §4.5), which makes it easy to read and means a sparse heap (the
// host's scattered mmap addresses, or the kernel's direct map) costs a few pages. Nodes
// come from the page source and are never given back. Leaf entries hold a HeapSpan*, 0
// for a page the heap never held, or Released for a page of a span since given back (so
// freeing into it again reads as a double free, not as a stranger's pointer).
namespace Tessera.Core.Memory
{
    internal unsafe struct HeapPageMap
    {
        public const ulong Released = 1;
        private const int EntriesPerNode = 512;

        private ulong* _root;

        public bool IsReady => _root != null;

        public void Initialize(ulong* zeroedRoot) { _root = zeroedRoot; }

        /// <summary>
        /// Bits 63..47 all equal (Intel SDM Vol. 1 §3.3.7.1); anything else cannot be a
        /// pointer the heap gave out, and must not alias a canonical one after masking.
        /// </summary>
        public static bool IsCanonical(ulong address)
        {
            long top = (long)address >> 47;
            return top == 0 || top == -1;
        }

        public ulong Lookup(ulong address)
        {
            ulong page = (address >> HeapSizeClasses.PageShift) & ((1UL << 36) - 1);
            ulong* node = _root;
            for (int level = 3; level > 0; level--)
            {
                ulong next = node[(page >> (9 * level)) & (EntriesPerNode - 1)];
                if (next == 0) return 0;
                node = (ulong*)next;
            }
            return node[page & (EntriesPerNode - 1)];
        }

        /// <summary>
        /// Sets the leaf entry of address's page, making the inner nodes on the way from the
        /// page source. False when a node could not be had (the entry is then unchanged).
        /// </summary>
        public bool Set<TPages>(ulong address, ulong value, ref TPages pages, ref ulong metadataPages)
            where TPages : struct, IPageSource
        {
            ulong page = (address >> HeapSizeClasses.PageShift) & ((1UL << 36) - 1);
            ulong* node = _root;
            for (int level = 3; level > 0; level--)
            {
                ulong* slot = &node[(page >> (9 * level)) & (EntriesPerNode - 1)];
                if (*slot == 0)
                {
                    if (value == 0) return true;   // clearing a page never mapped: nothing to do
                    byte* fresh = pages.AllocatePages(1);
                    if (fresh == null) return false;
                    for (int i = 0; i < EntriesPerNode; i++) ((ulong*)fresh)[i] = 0;
                    metadataPages++;
                    *slot = (ulong)fresh;
                }
                node = (ulong*)*slot;
            }
            node[page & (EntriesPerNode - 1)] = value;
            return true;
        }
    }
}
