using System.Buffers.Binary;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Tessera.Core.Boot;
using Xunit;
using MB1 = Tessera.Tests.Host.Multiboot1InfoBuilder;
using MB2 = Tessera.Tests.Host.Multiboot2InfoBuilder;

namespace Tessera.Tests.Host;

/// <summary>
/// Properties of BootInfoParser over generated input: whatever the loader hands over, parsing
/// never throws and leaves a well-formed BootInfo; normalizing the memory map never turns a
/// non-usable byte usable, never invents a byte or a type, and (while the region array has
/// room) never loses one.
/// </summary>
public sealed class BootInfoParserProperties
{
    // ---------------- generators ----------------

    private static Gen<uint> AnyUInt =>
        Gen.Choose(0, 0xFFFF).SelectMany(hi => Gen.Choose(0, 0xFFFF), (hi, lo) => ((uint)hi << 16) | (uint)lo);

    private static Gen<ulong> AnyULong => AnyUInt.SelectMany(_ => AnyUInt, (hi, lo) => ((ulong)hi << 32) | lo);

    private static Gen<byte[]> Bytes(int max) =>
        Gen.Choose(0, max).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), n));

    /// <summary>Memory-map coordinates: mostly on a small grid (so entries overlap often), sometimes anywhere, sometimes at the top.</summary>
    private static Gen<(ulong Base, ulong Length, uint Type)> MapEntry =>
        from b in Gen.Frequency(
            (8, Gen.Choose(0, 40).Select(k => (ulong)k * 0x1000)),
            (1, Gen.Choose(0, 0x40000).Select(k => (ulong)k)),
            (1, Gen.Choose(0, 0x10000).Select(k => ulong.MaxValue - (ulong)k)),
            (1, AnyULong))
        from l in Gen.Frequency(
            (8, Gen.Choose(0, 16).Select(k => (ulong)k * 0x1000)),
            (1, Gen.Choose(0, 0x20000).Select(k => (ulong)k)),
            (1, AnyULong))
        from t in Gen.Frequency((6, Gen.Constant(1u)), (4, Gen.Elements(2u, 3u, 4u, 5u)), (1, Gen.Elements(0u, 6u, 0xFFFFFFFFu)))
        select (b, l, t);

    private static Gen<(ulong Base, ulong Length, uint Type)[]> MapEntries(int max) =>
        Gen.Choose(0, max).SelectMany(n => Gen.ArrayOf(MapEntry, n));

    /// <summary>A multiboot2 tag: well-formed or not, with a size field that may lie.</summary>
    private static Gen<Action<MB2>> Mb2Tag =>
        Gen.OneOf(
            Gen.Elements("", "selftest", "node=2 role=memory excache=16M").Select(s => (Action<MB2>)(b => b.CommandLine(s))),
            Gen.Elements("GRUB 2.12", "").Select(s => (Action<MB2>)(b => b.LoaderName(s))),
            AnyUInt.SelectMany(_ => AnyUInt, (s, e) => (Action<MB2>)(b => b.Module(s, e, "m"))),
            AnyUInt.SelectMany(_ => AnyUInt, (l, u) => (Action<MB2>)(b => b.BasicMemory(l, u))),
            MapEntries(12).SelectMany(_ => Gen.Elements(24u, 32u, 40u), (e, size) => (Action<MB2>)(b => b.MemoryMap(size, 0, e))),
            // A memory-map tag with any entry size over any bytes.
            Gen.Elements(0u, 8u, 19u, 20u, 21u, 24u, 0xFFFFFFFFu).SelectMany(_ => Bytes(96),
                (size, body) => (Action<MB2>)(b => b.Tag(MB2.TagMemoryMap, new LittleEndianWriter().U32(size).U32(0).Bytes(body).ToArray()))),
            // Any known or unknown type, any body, and a size field that may be wrong.
            Gen.Elements(0u, 1u, 2u, 3u, 4u, 6u, 8u, 21u, 0xFFFFFFFFu).SelectMany(_ => Bytes(40), (type, body) => (type, body))
                .SelectMany(_ => Gen.Frequency((3, Gen.Constant<uint?>(null)), (1, Gen.Choose(0, 64).Select(k => (uint?)k)), (1, AnyUInt.Select(k => (uint?)k))),
                    (tb, size) => (Action<MB2>)(b => b.Tag(tb.type, tb.body, size))),
            Bytes(12).Select(raw => (Action<MB2>)(b => b.RawBytes(raw))));

    private static Gen<(byte[] Bytes, uint? TotalSize)> Mb2Info =>
        from tags in Gen.Choose(0, 12).SelectMany(n => Gen.ArrayOf(Mb2Tag, n))
        from end in Gen.Frequency((4, Gen.Constant(true)), (1, Gen.Constant(false)))
        from total in Gen.Frequency((4, Gen.Constant<uint?>(null)), (1, Gen.Choose(0, 1024).Select(k => (uint?)k)),
                                    (1, AnyUInt.Select(k => (uint?)k)))
        select (Build(tags, end, total), total);

    private static byte[] Build(Action<MB2>[] tags, bool end, uint? total)
    {
        var builder = new MB2();
        foreach (var tag in tags) tag(builder);
        if (end) builder.End();
        return builder.Build(total);
    }

    /// <summary>A multiboot1 layout: each part present or not, well-formed or not, flags that may disagree.</summary>
    private static Gen<SyntheticPhysicalMemory> Mb1Layout =>
        from memory in AnyUInt.SelectMany(_ => AnyUInt, (l, u) => (l, u))
        from commandLine in Gen.OneOf(
            Gen.Constant<Action<MB1>>(_ => { }),
            Gen.Elements("selftest", "").Select(s => (Action<MB1>)(b => b.CommandLine(s))),
            Bytes(5000).Select(raw => (Action<MB1>)(b => b.CommandLineBytes(raw.Length == 0 ? [1] : raw))),
            AnyUInt.Select(p => (Action<MB1>)(b => b.CommandLinePointer(p))))
        from loader in Gen.OneOf(
            Gen.Constant<Action<MB1>>(_ => { }),
            Gen.Constant<Action<MB1>>(b => b.LoaderName("GRUB")),
            AnyUInt.Select(p => (Action<MB1>)(b => b.LoaderNamePointer(p))))
        from modules in Gen.Choose(0, 20).SelectMany(n => Gen.ArrayOf(AnyUInt.SelectMany(_ => AnyUInt, (s, e) => (s, e)), n))
        from moduleCount in Gen.Frequency((3, Gen.Constant<uint?>(null)), (1, Gen.Choose(0, 40).Select(k => (uint?)k)), (1, AnyUInt.Select(k => (uint?)k)))
        from map in MapEntries(30)
        from sizes in Gen.ArrayOf(Gen.Frequency((6, Gen.Constant(20u)), (2, Gen.Elements(24u, 28u, 33u)), (1, Gen.Elements(0u, 4u, 19u, 0xFFFFFFFFu))), 30)
        from trailing in Bytes(8)
        from mapLength in Gen.Frequency((4, Gen.Constant<uint?>(null)), (1, Gen.Choose(0, 800).Select(k => (uint?)k)), (1, AnyUInt.Select(k => (uint?)k)))
        from flags in Gen.Frequency((3, Gen.Constant<uint?>(null)), (1, AnyUInt.Select(k => (uint?)k)))
        select BuildMb1(memory, commandLine, loader, modules, moduleCount, map, sizes, trailing, mapLength, flags);

    private static SyntheticPhysicalMemory BuildMb1((uint, uint) memory, Action<MB1> commandLine, Action<MB1> loader,
        (uint, uint)[] modules, uint? moduleCount, (ulong, ulong, uint)[] map, uint[] sizes, byte[] trailing, uint? mapLength, uint? flags)
    {
        var builder = new MB1().BasicMemory(memory.Item1, memory.Item2);
        commandLine(builder);
        loader(builder);
        for (int i = 0; i < modules.Length; i++) builder.Module(modules[i].Item1, modules[i].Item2, "m" + i);
        if (moduleCount is uint c) builder.ModuleCount(c);
        for (int i = 0; i < map.Length; i++) builder.MemoryMapEntry(map[i].Item1, map[i].Item2, map[i].Item3, sizes[i] > 64 && sizes[i] != 0xFFFFFFFF ? 20 : sizes[i]);
        if (trailing.Length > 0) builder.MemoryMapBytes(trailing);
        if (mapLength is uint m) builder.MemoryMapLength(m);
        if (flags is uint f) builder.Flags(f);
        // The info address may also overlap nothing the builder mapped: the parts live at fixed addresses.
        return builder.Build();
    }

    // ---------------- (1) parsing never throws and leaves a well-formed result ----------------

    [Property(MaxTest = 300)]
    public Property AnyBytesAsMultiboot2InformationParse() =>
        Prop.ForAll(Bytes(300).ToArbitrary(), blob =>
        {
            var info = BootInfoParser.Parse(BootInfoParser.Multiboot2Magic, MB2.InfoAddress,
                new SyntheticPhysicalMemory().Map(MB2.InfoAddress, blob));
            BootInfoAssert.WellFormed(info);
        });

    [Property(MaxTest = 300)]
    public Property AnyBytesWithAPlausibleTotalSizeParse() =>
        // total_size set to the blob's length, so parsing reaches the tags.
        Prop.ForAll(Bytes(300).Where(b => b.Length >= 8).ToArbitrary(), blob =>
        {
            BinaryPrimitives.WriteUInt32LittleEndian(blob, (uint)blob.Length);
            var info = BootInfoParser.Parse(BootInfoParser.Multiboot2Magic, MB2.InfoAddress,
                new SyntheticPhysicalMemory().Map(MB2.InfoAddress, blob));
            BootInfoAssert.WellFormed(info);
        });

    [Property(MaxTest = 500)]
    public Property GeneratedMultiboot2InformationParses() =>
        Prop.ForAll(Mb2Info.ToArbitrary(), generated =>
        {
            var info = BootInfoParser.Parse(BootInfoParser.Multiboot2Magic, MB2.InfoAddress,
                new SyntheticPhysicalMemory().Map(MB2.InfoAddress, generated.Bytes));
            BootInfoAssert.WellFormed(info);
            if (generated.TotalSize is null && generated.Bytes.Length <= BootInfoParser.MaxInfoBytes)
                Assert.False(info.HasProblem(BootProblemKind.UnreadableInfo), BootInfoAssert.DescribeProblems(info));
        });

    [Property(MaxTest = 300)]
    public Property AnyBytesAsMultiboot1InformationParse() =>
        Prop.ForAll(Bytes(160).ToArbitrary(), blob =>
        {
            var info = BootInfoParser.Parse(BootInfoParser.Multiboot1Magic, MB1.InfoAddress,
                new SyntheticPhysicalMemory().Map(MB1.InfoAddress, blob));
            BootInfoAssert.WellFormed(info);
            if (blob.Length < 72) Assert.True(info.HasProblem(BootProblemKind.UnreadableInfo));
        });

    [Property(MaxTest = 300)]
    public Property GeneratedMultiboot1LayoutsParse() =>
        Prop.ForAll(Mb1Layout.ToArbitrary(), memory =>
        {
            var info = BootInfoParser.Parse(BootInfoParser.Multiboot1Magic, MB1.InfoAddress, memory);
            BootInfoAssert.WellFormed(info);
        });

    // ---------------- (2) normalization keeps reserved bytes and invents nothing ----------------

    [Property(MaxTest = 1000)]
    public Property NormalizationPreservesReservedAndInventsNothing() =>
        Prop.ForAll(MapEntries(60).ToArbitrary(), entries =>
        {
            var info = BootInfoParser.Parse(BootInfoParser.Multiboot2Magic, MB2.InfoAddress, new MB2().MemoryMap(entries).End().Memory());
            BootInfoAssert.WellFormed(info);
            CheckAgainstInput(entries, info, complete: true);
        });

    [Property(MaxTest = 300)]
    public Property NormalizationWithMoreEntriesThanFitStillKeepsReserved() =>
        // Past MaxRegions entries (and past the room for split tails) memory may be lost,
        // but a reserved byte is still never reported usable and nothing is invented.
        Prop.ForAll(Gen.Choose(100, 200).SelectMany(n => Gen.ArrayOf(MapEntry, n)).ToArbitrary(), entries =>
        {
            var info = BootInfoParser.Parse(BootInfoParser.Multiboot2Magic, MB2.InfoAddress, new MB2().MemoryMap(entries).End().Memory());
            BootInfoAssert.WellFormed(info);
            CheckAgainstInput(entries, info, complete: false);
        });

    /// <summary>
    /// Compares the parsed regions with the entries at every boundary point of either: between
    /// two consecutive boundaries the coverage of every region is constant, so checking the
    /// points checks every byte. complete: the map is small enough (at most MaxRegions / 2
    /// entries, so every split tail has room) that no byte may be lost either.
    /// </summary>
    private static void CheckAgainstInput((ulong Base, ulong Length, uint Type)[] entries, BootInfo info, bool complete)
    {
        var inputs = new List<(ulong Base, ulong End, MemoryRegionType Type)>();
        // The parser reads only the first MaxRegions non-empty entries.
        foreach (var (b, l, t) in entries)
        {
            if (l == 0 || inputs.Count == BootInfo.MaxRegions) continue;
            ulong end = b + l < b ? ulong.MaxValue : b + l;   // clipped at the top (the parser's rule)
            if (end == b) continue;
            inputs.Add((b, end, t >= 1 && t <= 5 ? (MemoryRegionType)t : MemoryRegionType.Reserved));
        }
        if (complete)
        {
            Assert.InRange(inputs.Count, 0, BootInfo.MaxRegions / 2);
            Assert.False(info.HasProblem(BootProblemKind.TooManyRegions), "a small map ran out of room: " + BootInfoAssert.DescribeProblems(info));
        }

        var points = new SortedSet<ulong>();
        foreach (var r in inputs) { points.Add(r.Base); points.Add(r.End); }
        for (int i = 0; i < info.RegionCount; i++) { points.Add(info.Regions[i].Base); points.Add(info.Regions[i].End); }

        foreach (ulong x in points)
        {
            bool inUsable = false, inOther = false;
            var inTypes = new HashSet<MemoryRegionType>();
            foreach (var r in inputs)
                if (r.Base <= x && x < r.End)
                {
                    inTypes.Add(r.Type);
                    if (r.Type == MemoryRegionType.Usable) inUsable = true; else inOther = true;
                }
            MemoryRegion? output = null;
            for (int i = 0; i < info.RegionCount; i++)
                if (info.Regions[i].Base <= x && x < info.Regions[i].End) output = info.Regions[i];

            if (output is MemoryRegion o)
            {
                Assert.True(inTypes.Contains(o.Type), $"0x{x:x} reported {o.Type} but no entry of that type covers it");
                Assert.False(o.IsUsable && inOther, $"0x{x:x} is covered by a non-usable entry but reported usable");
            }
            if (complete)
            {
                if (inOther) Assert.True(output is MemoryRegion r && !r.IsUsable, $"non-usable byte 0x{x:x} lost");
                if (inUsable) Assert.True(output.HasValue, $"usable byte 0x{x:x} lost");
            }
        }
    }
}
