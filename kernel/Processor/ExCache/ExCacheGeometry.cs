// The ExCache's shape: 4 KiB lines, `ways` lines per set, sets = lines / ways, a power of
// two (DESIGN §1, after LegoOS's pcache: managers/processor/pcache/init.c).
//
// Set index. LegoOS takes the set from the low bits of the user virtual page number, as a
// hardware cache takes it from the low address bits above the line offset. What that does:
//   - A contiguous region of at most `sets` pages lands in distinct sets, and a contiguous
//     region of at most the cache's size puts at most `ways` pages in any set: a working set
//     that is one contiguous region no larger than the cache never has a conflict miss, even
//     direct-mapped. A sequential scan walks the sets round-robin, so every set ages at the
//     same rate and a scan larger than the cache evicts evenly (under LRU and FIFO a cyclic
//     scan of more than the cache misses on every page - the textbook LRU pathology - which
//     random replacement softens).
//   - Regions an exact multiple of (sets x 4 KiB) apart alias: page p of one and page p of
//     the other share a set. Heap (low addresses, after the bss) and stack (just under
//     0x7fff_ffff_f000) are far apart but, being at unrelated offsets, only collide where
//     their low bits happen to agree; with 64 ways that takes 64 hot pages in one set, with
//     `excache_ways=1` a single heap page can thrash against a stack page.
//   - Two processes of the same binary have the same layout, so without more they would put
//     their heaps, stacks and text in exactly the same sets. We therefore add a per-address-
//     space colour (a Fibonacci hash of the address-space id, Knuth TAOCP vol. 3 §6.4) to the
//     page number before taking the low bits. Adding a constant is a rotation of the sets, so
//     everything said above about one address space still holds exactly; address space 0 has
//     colour 0, which is LegoOS's mapping.
// Pure logic: compiled into the processor image and the host tests.
namespace Tessera.Processor.Cache
{
    public enum GeometryError
    {
        None,
        /// <summary>excache_ways=0.</summary>
        WaysZero,
        /// <summary>excache=0.</summary>
        SizeZero,
        /// <summary>The size is not a whole number of 4 KiB lines.</summary>
        SizeNotLineMultiple,
        /// <summary>More lines than the metadata arrays can index (MaxLines).</summary>
        TooLarge,
        /// <summary>The lines do not divide into sets of `ways` (including fewer lines than ways).</summary>
        SizeNotMultipleOfWays,
        /// <summary>lines / ways is not a power of two.</summary>
        SetsNotPowerOfTwo,
    }

    public readonly struct ExCacheGeometry
    {
        public const int LineShift = 12;
        public const ulong LineSize = 1UL << LineShift;
        /// <summary>2^24 lines = 64 GiB: more than any processor here reserves, and metadata for it still fits an int index.</summary>
        public const ulong MaxLines = 1UL << 24;

        public readonly ulong SizeBytes;
        public readonly int Lines;
        public readonly int Ways;
        public readonly int Sets;
        public readonly int SetBits;

        private ExCacheGeometry(ulong sizeBytes, int ways)
        {
            SizeBytes = sizeBytes;
            Lines = (int)(sizeBytes >> LineShift);
            Ways = ways;
            Sets = Lines / ways;
            int bits = 0;
            while ((1 << bits) < Sets) bits++;
            SetBits = bits;
        }

        /// <summary>Checks size and ways and gives the geometry they describe.</summary>
        public static GeometryError TryCreate(ulong sizeBytes, ulong ways, out ExCacheGeometry geometry)
        {
            geometry = default;
            GeometryError error = Validate(sizeBytes, ways);
            if (error != GeometryError.None) return error;
            geometry = new ExCacheGeometry(sizeBytes, (int)ways);
            return GeometryError.None;
        }

        public static GeometryError Validate(ulong sizeBytes, ulong ways)
        {
            if (ways == 0) return GeometryError.WaysZero;
            if (sizeBytes == 0) return GeometryError.SizeZero;
            if ((sizeBytes & (LineSize - 1)) != 0) return GeometryError.SizeNotLineMultiple;
            ulong lines = sizeBytes >> LineShift;
            if (lines > MaxLines) return GeometryError.TooLarge;
            if (lines % ways != 0) return GeometryError.SizeNotMultipleOfWays;
            ulong sets = lines / ways;
            if ((sets & (sets - 1)) != 0) return GeometryError.SetsNotPowerOfTwo;
            return GeometryError.None;
        }

        public bool IsValid => Lines > 0;
        public bool FullyAssociative => Sets == 1;
        public bool DirectMapped => Ways == 1;

        /// <summary>The set that caches virtual page vpage (address >> 12) of address space asid.</summary>
        public int SetOf(int asid, ulong vpage) => (int)((vpage + ColourOf(asid)) & (ulong)(Sets - 1));

        /// <summary>The per-address-space rotation of the set index (0 for address space 0).</summary>
        public ulong ColourOf(int asid) =>
            SetBits == 0 ? 0 : ((ulong)(uint)asid * 0x9E3779B97F4A7C15UL) >> (64 - SetBits);

        /// <summary>The valid sizes for these ways nearest to sizeBytes: the largest not above it (0 if none) and the smallest above it.</summary>
        public static void NearestValidSizes(ulong sizeBytes, ulong ways, out ulong below, out ulong above)
        {
            below = 0; above = 0;
            if (ways == 0 || ways > MaxLines) return;
            ulong setBytes = ways * LineSize;
            for (ulong sets = 1; sets * ways <= MaxLines; sets <<= 1)
            {
                ulong size = sets * setBytes;
                if (size <= sizeBytes) below = size;
                else { above = size; break; }
            }
        }

        /// <summary>Writes why size and ways make no cache, naming the command-line words.</summary>
        public static void Describe(GeometryError error, ulong sizeBytes, ulong ways, AsciiText text)
        {
            switch (error)
            {
                case GeometryError.None:
                    text.Append("excache=").AppendSize(sizeBytes).Append(" with excache_ways=").Append(ways).Append(" is valid");
                    return;
                case GeometryError.WaysZero:
                    text.Append("excache_ways=0: a set needs at least one way");
                    return;
                case GeometryError.SizeZero:
                    text.Append("excache=0: the cache needs at least one 4 KiB line per way");
                    return;
                case GeometryError.SizeNotLineMultiple:
                    text.Append("excache=").Append(sizeBytes).Append(" bytes is not a multiple of the 4 KiB line");
                    return;
                case GeometryError.TooLarge:
                    text.Append("excache=").AppendSize(sizeBytes).Append(" is more than the largest supported cache (")
                        .AppendSize(MaxLines * LineSize).Append(')');
                    return;
                case GeometryError.SizeNotMultipleOfWays:
                    text.Append("excache=").AppendSize(sizeBytes).Append(" holds ").Append(sizeBytes >> LineShift)
                        .Append(" lines, not a whole number of sets of excache_ways=").Append(ways)
                        .Append(" (the size must be a multiple of 4 KiB x ").Append(ways).Append(" = ");
                    if (ways <= MaxLines) text.AppendSize(ways * LineSize); else text.Append("more than the largest cache");
                    text.Append(')');
                    break;
                case GeometryError.SetsNotPowerOfTwo:
                    text.Append("excache=").AppendSize(sizeBytes).Append(" with excache_ways=").Append(ways).Append(" gives ")
                        .Append((sizeBytes >> LineShift) / ways).Append(" sets, not a power of two");
                    break;
            }
            NearestValidSizes(sizeBytes, ways, out ulong below, out ulong above);
            if (below != 0 || above != 0)
            {
                text.Append("; nearest valid sizes: ");
                if (below != 0) text.AppendSize(below);
                if (below != 0 && above != 0) text.Append(" and ");
                if (above != 0) text.AppendSize(above);
            }
        }
    }
}
