using Tessera.Core.Boot;
using Xunit;
using static Tessera.Tests.Host.BootInfoAssert;
using Kind = Tessera.Core.Boot.BootProblemKind;
using MB1 = Tessera.Tests.Host.Multiboot1InfoBuilder;
using MB2 = Tessera.Tests.Host.Multiboot2InfoBuilder;

namespace Tessera.Tests.Host;

/// <summary>
/// BootInfoParser on synthesized multiboot1 (Multiboot 0.6.96 §3.3) and multiboot2
/// (Multiboot2 2.0 §3.6) information: well-formed input parses completely and reports nothing;
/// every kind of malformed input parses without an exception and is reported, with the
/// address of the bad part, while the good parts are still used.
/// </summary>
public sealed class BootInfoParserTests
{
    private const uint Usable = 1, Reserved = 2, AcpiReclaimable = 3, AcpiNvs = 4;

    private static BootInfo Parse1(MB1 builder) =>
        BootInfoParser.Parse(BootInfoParser.Multiboot1Magic, MB1.InfoAddress, builder.Build());

    private static BootInfo Parse2(SyntheticPhysicalMemory memory) =>
        BootInfoParser.Parse(BootInfoParser.Multiboot2Magic, MB2.InfoAddress, memory);

    private static BootInfo Parse2(MB2 builder) => Parse2(builder.Memory());

    private static BootInfo Parse2Map(params (ulong Base, ulong Length, uint Type)[] entries) =>
        Parse2(new MB2().MemoryMap(entries).End());

    // A typical PC map as QEMU's SeaBIOS reports it for -m 128M.
    private static readonly (ulong, ulong, uint)[] PcMap =
    [
        (0x0, 0x9FC00, Usable),
        (0x9FC00, 0x400, Reserved),
        (0xF0000, 0x10000, Reserved),
        (0x100000, 0x7EE0000, Usable),
        (0x7FE0000, 0x20000, Reserved),
        (0xFFFC0000, 0x40000, Reserved),
    ];

    private static readonly (ulong, ulong, MemoryRegionType)[] PcMapParsed =
    [
        (0x0, 0x9FC00, MemoryRegionType.Usable),
        (0x9FC00, 0xA0000, MemoryRegionType.Reserved),
        (0xF0000, 0x100000, MemoryRegionType.Reserved),
        (0x100000, 0x7FE0000, MemoryRegionType.Usable),
        (0x7FE0000, 0x8000000, MemoryRegionType.Reserved),
        (0xFFFC0000, 0x100000000, MemoryRegionType.Reserved),
    ];

    // ---------------- protocol selection ----------------

    [Fact]
    public void UnknownMagicYieldsNothingAndSaysWhy()
    {
        var memory = new MB2().CommandLine("selftest").MemoryMap(PcMap).End().Memory();
        var info = BootInfoParser.Parse(0x12345678, MB2.InfoAddress, memory);
        Assert.Equal(BootProtocol.Unknown, info.Protocol);
        Assert.Equal(0, info.RegionCount);
        Assert.Empty(info.CommandLine);
        Assert.Equal(1, info.ProblemCount);
        Problem(info, Kind.UnknownMagic, 0x12345678);
    }

    [Theory]
    [InlineData(BootInfoParser.Multiboot1Magic)]
    [InlineData(BootInfoParser.Multiboot2Magic)]
    public void UnreadableInfoAddressIsReported(uint magic)
    {
        var memory = new SyntheticPhysicalMemory().Map(0x1000, new byte[64]);
        var info = BootInfoParser.Parse(magic, 0x7FFF0000, memory);
        Assert.Equal(magic == BootInfoParser.Multiboot1Magic ? BootProtocol.Multiboot1 : BootProtocol.Multiboot2, info.Protocol);
        Assert.Equal(0, info.RegionCount);
        Assert.Equal(1, info.ProblemCount);
        Problem(info, Kind.UnreadableInfo, 0x7FFF0000);
    }

    // ---------------- multiboot1: well-formed ----------------

    [Fact]
    public void Multiboot1WellFormedParsesEveryPart()
    {
        var builder = new MB1()
            .BasicMemory(639, 129920)
            .CommandLine("selftest node=2 role=memory")
            .LoaderName("GRUB 2.12")
            .Module(0x200000, 0x201000, "initrd")
            .Module(0x300000, 0x300800, "rig.cfg");
        foreach (var (b, l, t) in PcMap) builder.MemoryMapEntry(b, l, t);
        var info = Parse1(builder);

        NoProblems(info);
        Assert.Equal(BootProtocol.Multiboot1, info.Protocol);
        Assert.True(info.HasBasicMemory);
        Assert.Equal(639u, info.MemoryLowerKiB);
        Assert.Equal(129920u, info.MemoryUpperKiB);
        Assert.Equal("selftest node=2 role=memory", Ascii(info.CommandLine));
        Assert.Equal("GRUB 2.12", Ascii(info.BootloaderName));
        Assert.Equal(2, info.ModuleCount);
        Assert.Equal(0x200000UL, info.Modules[0].Start);
        Assert.Equal(0x201000UL, info.Modules[0].End);
        Assert.Equal("initrd", Ascii(info.Modules[0].Name));
        Assert.Equal("rig.cfg", Ascii(info.Modules[1].Name));
        Assert.Equal(PcMapParsed, Regions(info));
        Assert.Equal(0x9FC00UL + 0x7EE0000, info.UsableBytes);
        Assert.Equal(0x8000000UL - 0x20000, info.UsableTop);
        WellFormed(info);
    }

    [Fact]
    public void Multiboot1FlagsDecideWhichFieldsAreRead()
    {
        // Everything is laid out, but only the command-line bit is set: the other fields
        // may hold garbage (§3.3 "if bit N is set") and must not be used.
        var builder = new MB1().BasicMemory(639, 1000).LoaderName("x").Module(1, 2, "m")
            .MemoryMapEntry(0, 0x1000, Usable).CommandLine("only this")
            .Flags(MB1.FlagCommandLine);
        var info = Parse1(builder);
        NoProblems(info);
        Assert.False(info.HasBasicMemory);
        Assert.Equal(0u, info.MemoryUpperKiB);
        Assert.Equal("only this", Ascii(info.CommandLine));
        Assert.Empty(info.BootloaderName);
        Assert.Equal(0, info.ModuleCount);
        Assert.Equal(0, info.RegionCount);
    }

    [Fact]
    public void Multiboot1NoFlagsMeansNoInformation()
    {
        var info = Parse1(new MB1().Flags(0));
        NoProblems(info);
        Assert.Equal(BootProtocol.Multiboot1, info.Protocol);
        Assert.False(info.HasBasicMemory);
        Assert.Equal(0, info.RegionCount);
        Assert.Empty(info.CommandLine);
    }

    [Fact]
    public void Multiboot1MemoryMapHonoursTheSizeFieldOfEachEntry()
    {
        // §3.3: "size" counts the bytes after itself and may exceed 20; the next entry
        // starts at entry + size + 4. Mix 20 (GRUB), 24 and an odd 29.
        var info = Parse1(new MB1()
            .MemoryMapEntry(0x0, 0x9F000, Usable, sizeField: 20)
            .MemoryMapEntry(0x100000, 0x100000, Usable, sizeField: 24)
            .MemoryMapEntry(0xE0000, 0x20000, Reserved, sizeField: 29)
            .MemoryMapEntry(0x200000, 0x1000, AcpiNvs, sizeField: 20));
        NoProblems(info);
        Assert.Equal(
            [(0x0UL, 0x9F000UL, MemoryRegionType.Usable), (0xE0000UL, 0x100000UL, MemoryRegionType.Reserved),
             (0x100000UL, 0x200000UL, MemoryRegionType.Usable), (0x200000UL, 0x201000UL, MemoryRegionType.AcpiNvs)],
            Regions(info));
    }

    [Fact]
    public void Multiboot1EmptyCommandLineAndNullPointerAreEmpty()
    {
        var empty = Parse1(new MB1().CommandLine(""));
        NoProblems(empty);
        Assert.Empty(empty.CommandLine);
        // A zero pointer: no string (GRUB leaves it 0 when there is none).
        var zero = Parse1(new MB1().CommandLinePointer(0));
        NoProblems(zero);
        Assert.Empty(zero.CommandLine);
    }

    // ---------------- multiboot1: malformed ----------------

    [Fact]
    public void Multiboot1CommandLineWithoutNulStopsAtTheStringLimit()
    {
        var text = new byte[BootInfoParser.MaxStringBytes + 500];
        Array.Fill(text, (byte)'a');
        var info = Parse1(new MB1().CommandLineBytes(text));
        Assert.Equal(BootInfoParser.MaxStringBytes, info.CommandLine.Length);
        Assert.All(info.CommandLine, b => Assert.Equal((byte)'a', b));
        OnlyProblemKinds(info, Kind.UnterminatedString);
        Problem(info, Kind.UnterminatedString, MB1.CommandLineAddress);
    }

    [Fact]
    public void Multiboot1CommandLineAtExactlyTheLimitIsCut()
    {
        // 4096 characters then the NUL: the NUL lies beyond the bound, so the string is cut.
        var text = new byte[BootInfoParser.MaxStringBytes + 1];
        Array.Fill(text, (byte)'b');
        text[^1] = 0;
        var info = Parse1(new MB1().CommandLineBytes(text));
        Assert.Equal(BootInfoParser.MaxStringBytes, info.CommandLine.Length);
        Problem(info, Kind.UnterminatedString, MB1.CommandLineAddress);

        // 4095 characters then the NUL fit exactly.
        var fits = new byte[BootInfoParser.MaxStringBytes];
        Array.Fill(fits, (byte)'c');
        fits[^1] = 0;
        var ok = Parse1(new MB1().CommandLineBytes(fits));
        NoProblems(ok);
        Assert.Equal(BootInfoParser.MaxStringBytes - 1, ok.CommandLine.Length);
    }

    [Fact]
    public void Multiboot1CommandLineRunningIntoUnmappedMemoryIsCutThere()
    {
        var info = Parse1(new MB1().CommandLineBytes("selftest node=2"u8.ToArray()));
        Assert.Equal("selftest node=2", Ascii(info.CommandLine));
        OnlyProblemKinds(info, Kind.UnterminatedString);
        Problem(info, Kind.UnterminatedString, MB1.CommandLineAddress);
    }

    [Fact]
    public void Multiboot1CommandLinePointerIntoUnmappedMemoryIsEmptyAndReported()
    {
        var info = Parse1(new MB1().CommandLinePointer(0x7000000).LoaderNamePointer(0x7100000));
        Assert.Empty(info.CommandLine);
        Assert.Empty(info.BootloaderName);
        Problem(info, Kind.UnterminatedString, 0x7000000);
        Problem(info, Kind.UnterminatedString, 0x7100000);
    }

    [Fact]
    public void Multiboot1MemoryMapEntrySizeBelowTwentyStopsTheMap()
    {
        var info = Parse1(new MB1()
            .MemoryMapEntry(0x0, 0x9F000, Usable)
            .MemoryMapEntry(0x100000, 0x100000, Usable, sizeField: 12)
            .MemoryMapEntry(0x300000, 0x100000, Usable));
        Assert.Equal([(0x0UL, 0x9F000UL, MemoryRegionType.Usable)], Regions(info));
        OnlyProblemKinds(info, Kind.BadMemoryMapEntrySize);
        Problem(info, Kind.BadMemoryMapEntrySize, MB1.MemoryMapAt(24));
    }

    [Fact]
    public void Multiboot1MemoryMapEntrySizeZeroDoesNotLoopForever()
    {
        var info = Parse1(new MB1().MemoryMapEntry(0x0, 0x1000, Usable).MemoryMapBytes(new byte[48]));
        Assert.Equal(1, info.RegionCount);
        Problem(info, Kind.BadMemoryMapEntrySize, MB1.MemoryMapAt(24));
    }

    [Fact]
    public void Multiboot1MemoryMapEntryRunningPastMmapLengthIsTruncated()
    {
        // The second entry claims 100 bytes after its size field, but mmap_length ends sooner.
        var info = Parse1(new MB1()
            .MemoryMapEntry(0x0, 0x9F000, Usable)
            .MemoryMapEntry(0x100000, 0x100000, Usable, sizeField: 100)
            .MemoryMapLength(24 + 24));
        Assert.Equal([(0x0UL, 0x9F000UL, MemoryRegionType.Usable)], Regions(info));
        OnlyProblemKinds(info, Kind.TruncatedMemoryMap);
        Problem(info, Kind.TruncatedMemoryMap, MB1.MemoryMapAt(24));
    }

    [Fact]
    public void Multiboot1MemoryMapEndingInsideASizeFieldIsTruncated()
    {
        var info = Parse1(new MB1().MemoryMapEntry(0x0, 0x9F000, Usable).MemoryMapBytes([20, 0]));
        Assert.Equal(1, info.RegionCount);
        OnlyProblemKinds(info, Kind.TruncatedMemoryMap);
        Problem(info, Kind.TruncatedMemoryMap, MB1.MemoryMapAt(24));
    }

    [Fact]
    public void Multiboot1UnreadableMemoryMapIsReported()
    {
        // mmap_length says 48 bytes but only one entry is mapped.
        var info = Parse1(new MB1().MemoryMapEntry(0x0, 0x1000, Usable).MemoryMapLength(48));
        Assert.Equal(0, info.RegionCount);
        OnlyProblemKinds(info, Kind.UnreadableInfo);
        Problem(info, Kind.UnreadableInfo, MB1.MemoryMapAddress);
    }

    [Fact]
    public void Multiboot1HugeMmapLengthIsClippedAndReported()
    {
        var info = Parse1(new MB1().MemoryMapEntry(0x0, 0x1000, Usable).MemoryMapLength(0xFFFFFFF0));
        Problem(info, Kind.TruncatedInfo, MB1.MemoryMapAddress);
        Problem(info, Kind.UnreadableInfo, MB1.MemoryMapAddress);
        WellFormed(info);
    }

    [Fact]
    public void Multiboot1ZeroLengthEntryIsDroppedAndReported()
    {
        var info = Parse1(new MB1()
            .MemoryMapEntry(0x0, 0x9F000, Usable)
            .MemoryMapEntry(0x9F000, 0, Reserved)
            .MemoryMapEntry(0x100000, 0x100000, Usable));
        Assert.Equal(2, info.RegionCount);
        OnlyProblemKinds(info, Kind.ZeroLengthRegion);
        Problem(info, Kind.ZeroLengthRegion, MB1.MemoryMapAt(24));
    }

    [Fact]
    public void Multiboot1ModuleEndingBeforeItStartsIsDropped()
    {
        var info = Parse1(new MB1()
            .Module(0x200000, 0x201000, "good")
            .Module(0x300000, 0x2FF000, "backwards")
            .Module(0x400000, 0x400000, "empty-but-fine"));
        Assert.Equal(2, info.ModuleCount);
        Assert.Equal("good", Ascii(info.Modules[0].Name));
        Assert.Equal("empty-but-fine", Ascii(info.Modules[1].Name));
        OnlyProblemKinds(info, Kind.BadModuleRange);
        Problem(info, Kind.BadModuleRange, MB1.ModuleEntryAt(1));
    }

    [Fact]
    public void Multiboot1TooManyModulesKeepsTheFirstOnes()
    {
        var builder = new MB1();
        for (int i = 0; i < BootInfo.MaxModules + 3; i++) builder.Module((uint)(i * 0x1000), (uint)(i * 0x1000 + 0x800), "m" + i);
        var info = Parse1(builder);
        Assert.Equal(BootInfo.MaxModules, info.ModuleCount);
        Assert.Equal("m15", Ascii(info.Modules[BootInfo.MaxModules - 1].Name));
        OnlyProblemKinds(info, Kind.TooManyModules);
        Problem(info, Kind.TooManyModules, MB1.ModuleEntryAt(BootInfo.MaxModules));
    }

    [Fact]
    public void Multiboot1ModuleCountBeyondTheMappedArrayIsReported()
    {
        var info = Parse1(new MB1().Module(0x200000, 0x201000, "a").Module(0x300000, 0x301000, "b").ModuleCount(5));
        Assert.Equal(2, info.ModuleCount);
        OnlyProblemKinds(info, Kind.UnreadableInfo);
        Problem(info, Kind.UnreadableInfo, MB1.ModuleEntryAt(2));
    }

    [Fact]
    public void Multiboot1HugeModuleCountOfBadEntriesIsBounded()
    {
        // mods_count near 2^32 over readable memory full of bad entries: the parser must look
        // at a bounded number of entries, not walk the whole count.
        const int mapped = 4096;
        var entries = new LittleEndianWriter();
        for (int i = 0; i < mapped; i++) entries.U32(0x2000).U32(0x1000).U32(0).U32(0);
        var memory = new MB1().ModuleCount(0xFFFFFFFF).Build();
        memory.Map(MB1.ModuleArrayAddress, entries.ToArray());
        var info = BootInfoParser.Parse(BootInfoParser.Multiboot1Magic, MB1.InfoAddress, memory);
        Assert.Equal(0, info.ModuleCount);
        Problem(info, Kind.BadModuleRange, MB1.ModuleEntryAt(0));
        Problem(info, Kind.TooManyModules, MB1.ModuleEntryAt(BootInfo.MaxModules));
        Assert.True(memory.ReadCalls < 100, $"parser made {memory.ReadCalls} reads for a bad module array");
    }

    [Fact]
    public void Multiboot1TooManyRegionsKeepsTheFirstOnes()
    {
        var builder = new MB1();
        for (int i = 0; i < BootInfo.MaxRegions + 5; i++) builder.MemoryMapEntry((ulong)i * 0x1000, 0x1000, Usable);
        var info = Parse1(builder);
        Assert.Equal(BootInfo.MaxRegions, info.RegionCount);
        Assert.Equal((ulong)BootInfo.MaxRegions * 0x1000, info.Regions[BootInfo.MaxRegions - 1].End);
        OnlyProblemKinds(info, Kind.TooManyRegions);
        Problem(info, Kind.TooManyRegions, MB1.MemoryMapAt(24 * BootInfo.MaxRegions));
    }

    // ---------------- multiboot2: well-formed ----------------

    [Fact]
    public void Multiboot2WellFormedParsesEveryTag()
    {
        var builder = new MB2()
            .CommandLine("selftest excache=16M")      // 8 + 21 bytes: padded to 32
            .LoaderName("GRUB 2.12")                   // 8 + 10: padded to 24
            .Module(0x200000, 0x201000, "initrd")     // 8 + 8 + 7: padded to 24
            .Module(0x300000, 0x300800, "rig.cfg")
            .BasicMemory(639, 129920)
            .Tag(8, new byte[22])                      // framebuffer info: not ours, skipped
            .MemoryMap(PcMap)
            .Tag(21, new byte[4])                      // image load base: skipped
            .End();
        var info = Parse2(builder);

        NoProblems(info);
        Assert.Equal(BootProtocol.Multiboot2, info.Protocol);
        Assert.Equal("selftest excache=16M", Ascii(info.CommandLine));
        Assert.Equal("GRUB 2.12", Ascii(info.BootloaderName));
        Assert.True(info.HasBasicMemory);
        Assert.Equal(639u, info.MemoryLowerKiB);
        Assert.Equal(129920u, info.MemoryUpperKiB);
        Assert.Equal(2, info.ModuleCount);
        Assert.Equal((0x200000UL, 0x201000UL, "initrd"), (info.Modules[0].Start, info.Modules[0].End, Ascii(info.Modules[0].Name)));
        Assert.Equal((0x300000UL, 0x300800UL, "rig.cfg"), (info.Modules[1].Start, info.Modules[1].End, Ascii(info.Modules[1].Name)));
        Assert.Equal(PcMapParsed, Regions(info));
        WellFormed(info);
    }

    [Fact]
    public void Multiboot2TagsAreFoundAtEightByteAlignedOffsets()
    {
        // Tag sizes 9 .. 15 force every amount of padding; a parser that did not align would
        // read the padding as the next tag's header.
        var builder = new MB2();
        for (int n = 1; n <= 7; n++) builder.Tag(0x7000 + (uint)n, new byte[n]);
        builder.CommandLine("after-padding").End();
        var info = Parse2(builder);
        NoProblems(info);
        Assert.Equal("after-padding", Ascii(info.CommandLine));
    }

    [Fact]
    public void Multiboot2MemoryMapHonoursEntrySizeAndIgnoresEntryVersion()
    {
        // §3.6.8: entry_size may grow in later versions; entries are stepped by it.
        var info = Parse2(new MB2().MemoryMap(40, 1, (0x0, 0x9F000, Usable), (0x100000, 0x100000, Usable), (0xE0000, 0x20000, Reserved)).End());
        NoProblems(info);
        Assert.Equal(
            [(0x0UL, 0x9F000UL, MemoryRegionType.Usable), (0xE0000UL, 0x100000UL, MemoryRegionType.Reserved),
             (0x100000UL, 0x200000UL, MemoryRegionType.Usable)],
            Regions(info));
    }

    [Fact]
    public void Multiboot2EntryTypesOutsideTheSpecAreReserved()
    {
        var info = Parse2Map((0x0, 0x1000, 0), (0x1000, 0x1000, 7), (0x2000, 0x1000, 0xFFFFFFFF), (0x3000, 0x1000, AcpiReclaimable), (0x4000, 0x1000, 5));
        NoProblems(info);
        Assert.Equal(
            [MemoryRegionType.Reserved, MemoryRegionType.Reserved, MemoryRegionType.Reserved, MemoryRegionType.AcpiReclaimable, MemoryRegionType.Defective],
            Regions(info).Select(r => r.Type));
    }

    [Fact]
    public void Multiboot2EmptyMemoryMapAndEmptyStringsAreFine()
    {
        var info = Parse2(new MB2().MemoryMap().CommandLine("").LoaderName("").End());
        NoProblems(info);
        Assert.Equal(0, info.RegionCount);
        Assert.Empty(info.CommandLine);
        Assert.Empty(info.BootloaderName);
    }

    [Fact]
    public void Multiboot2TagsAfterTheEndTagAreIgnored()
    {
        var info = Parse2(new MB2().CommandLine("first").End().CommandLine("second"));
        NoProblems(info);
        Assert.Equal("first", Ascii(info.CommandLine));
    }

    // ---------------- multiboot2: malformed ----------------

    [Theory]
    [InlineData(0u)]
    [InlineData(4u)]
    [InlineData(7u)]
    public void Multiboot2TotalSizeBelowHeaderIsReported(uint totalSize)
    {
        var info = Parse2(new MB2().CommandLine("x").End().Memory(totalSize));
        Assert.Empty(info.CommandLine);
        Assert.Equal(1, info.ProblemCount);
        Problem(info, Kind.TruncatedInfo, MB2.InfoAddress);
    }

    [Fact]
    public void Multiboot2TotalSizeOfJustTheHeaderHasNoEndTag()
    {
        var info = Parse2(new MB2().Memory(8));
        Assert.Equal(1, info.ProblemCount);
        Problem(info, Kind.MissingEndTag, MB2.InfoAddress + 8);
    }

    [Fact]
    public void Multiboot2TotalSizeAboveTheLimitIsClippedAndTheTagsStillUsed()
    {
        // The information is mapped in full, so the first 64 KiB can be read and parsed.
        var builder = new MB2().CommandLine("selftest").MemoryMap(PcMap).End();
        int tagBytes = builder.Build().Length;
        builder.RawBytes(new byte[0x20000 - tagBytes]);
        var info = Parse2(builder.Memory(0x20000));
        Assert.Equal("selftest", Ascii(info.CommandLine));
        Assert.Equal(PcMapParsed, Regions(info));
        OnlyProblemKinds(info, Kind.TruncatedInfo);
        Problem(info, Kind.TruncatedInfo, MB2.InfoAddress);
    }

    [Fact]
    public void Multiboot2TotalSizeAboveTheLimitAndUnmappedIsUnreadable()
    {
        var info = Parse2(new MB2().CommandLine("selftest").End().Memory(0xFFFFFFF8));
        Assert.Empty(info.CommandLine);
        OnlyProblemKinds(info, Kind.TruncatedInfo, Kind.UnreadableInfo);
        Problem(info, Kind.UnreadableInfo, MB2.InfoAddress);
    }

    [Fact]
    public void Multiboot2TotalSizePastMappedMemoryIsUnreadable()
    {
        var info = Parse2(new MB2().CommandLine("selftest").End().Memory(0x1000));
        Assert.Empty(info.CommandLine);
        OnlyProblemKinds(info, Kind.UnreadableInfo);
        Problem(info, Kind.UnreadableInfo, MB2.InfoAddress);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(7u)]
    public void Multiboot2TagSizeBelowEightStopsTheTags(uint size)
    {
        var builder = new MB2().CommandLine("before");
        ulong bad = builder.NextTagAddress;
        builder.Tag(MB2.TagLoaderName, "name\0"u8.ToArray(), sizeField: size).MemoryMap(PcMap).End();
        var info = Parse2(builder);
        Assert.Equal("before", Ascii(info.CommandLine));
        Assert.Empty(info.BootloaderName);
        Assert.Equal(0, info.RegionCount);
        OnlyProblemKinds(info, Kind.TruncatedTag);
        Problem(info, Kind.TruncatedTag, bad);
    }

    [Fact]
    public void Multiboot2TagSizePastTotalSizeIsTruncated()
    {
        var builder = new MB2().BasicMemory(639, 1000);
        ulong bad = builder.NextTagAddress;
        builder.Tag(MB2.TagCommandLine, "selftest\0"u8.ToArray(), sizeField: 0x1000).End();
        var info = Parse2(builder);
        Assert.True(info.HasBasicMemory);
        Assert.Empty(info.CommandLine);
        OnlyProblemKinds(info, Kind.TruncatedTag);
        Problem(info, Kind.TruncatedTag, bad);
    }

    [Fact]
    public void Multiboot2HalfATagHeaderAtTheEndIsTruncated()
    {
        var builder = new MB2().CommandLine("x");
        ulong bad = builder.NextTagAddress;
        var info = Parse2(builder.RawBytes([6, 0, 0, 0]));
        Assert.Equal("x", Ascii(info.CommandLine));
        OnlyProblemKinds(info, Kind.TruncatedTag);
        Problem(info, Kind.TruncatedTag, bad);
    }

    [Fact]
    public void Multiboot2MissingEndTagIsReportedAndTheTagsKept()
    {
        var builder = new MB2().CommandLine("selftest").MemoryMap(PcMap);
        ulong end = builder.NextTagAddress;
        var info = Parse2(builder);
        Assert.Equal("selftest", Ascii(info.CommandLine));
        Assert.Equal(PcMapParsed, Regions(info));
        OnlyProblemKinds(info, Kind.MissingEndTag);
        Problem(info, Kind.MissingEndTag, end);
    }

    [Fact]
    public void Multiboot2LastTagPaddingPastTotalSizeIsAMissingEndTag()
    {
        // total_size cuts the padding after the last tag: no end tag can follow.
        var builder = new MB2().CommandLine("abc");    // 12 bytes of tag, 4 of padding
        var bytes = builder.Build((uint)(8 + 12));
        var info = Parse2(new SyntheticPhysicalMemory().Map(MB2.InfoAddress, bytes));
        Assert.Equal("abc", Ascii(info.CommandLine));
        OnlyProblemKinds(info, Kind.MissingEndTag);
    }

    [Fact]
    public void Multiboot2CommandLineWithoutNulIsCutAtTheTagEnd()
    {
        var builder = new MB2();
        ulong tag = builder.NextTagAddress;
        var info = Parse2(builder.Tag(MB2.TagCommandLine, "selftest node=2"u8.ToArray()).End());
        Assert.Equal("selftest node=2", Ascii(info.CommandLine));
        OnlyProblemKinds(info, Kind.UnterminatedString);
        Problem(info, Kind.UnterminatedString, tag);
    }

    [Fact]
    public void Multiboot2LoaderAndModuleNamesWithoutNulAreCut()
    {
        var builder = new MB2();
        ulong loader = builder.NextTagAddress;
        builder.Tag(MB2.TagLoaderName, "GRUB"u8.ToArray());
        ulong module = builder.NextTagAddress;
        builder.Tag(MB2.TagModule, new LittleEndianWriter().U32(0x1000).U32(0x2000).Bytes("initrd"u8).ToArray()).End();
        var info = Parse2(builder);
        Assert.Equal("GRUB", Ascii(info.BootloaderName));
        Assert.Equal(1, info.ModuleCount);
        Assert.Equal("initrd", Ascii(info.Modules[0].Name));
        OnlyProblemKinds(info, Kind.UnterminatedString);
        Problem(info, Kind.UnterminatedString, loader);
        Problem(info, Kind.UnterminatedString, module);
    }

    [Fact]
    public void Multiboot2ShortFixedTagsAreTruncated()
    {
        var builder = new MB2();
        ulong memory = builder.NextTagAddress;
        builder.Tag(MB2.TagBasicMemory, new byte[4]);
        ulong module = builder.NextTagAddress;
        builder.Tag(MB2.TagModule, new byte[6]);
        ulong map = builder.NextTagAddress;
        builder.Tag(MB2.TagMemoryMap, new byte[7]);
        var info = Parse2(builder.CommandLine("still-read").End());
        Assert.False(info.HasBasicMemory);
        Assert.Equal(0, info.ModuleCount);
        Assert.Equal(0, info.RegionCount);
        Assert.Equal("still-read", Ascii(info.CommandLine));
        OnlyProblemKinds(info, Kind.TruncatedTag);
        Problem(info, Kind.TruncatedTag, memory);
        Problem(info, Kind.TruncatedTag, module);
        Problem(info, Kind.TruncatedTag, map);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(16u)]
    [InlineData(19u)]
    public void Multiboot2MemoryMapEntrySizeTooSmallIsReported(uint entrySize)
    {
        var builder = new MB2();
        ulong tag = builder.NextTagAddress;
        var body = new LittleEndianWriter().U32(entrySize).U32(0).U64(0).U64(0x1000).U32(Usable).U32(0);
        var info = Parse2(builder.Tag(MB2.TagMemoryMap, body.ToArray()).End());
        Assert.Equal(0, info.RegionCount);
        OnlyProblemKinds(info, Kind.BadMemoryMapEntrySize);
        Problem(info, Kind.BadMemoryMapEntrySize, tag);
    }

    [Fact]
    public void Multiboot2MemoryMapEntrySizeOfTwentyIsEnough()
    {
        // 20 bytes hold base, length and type; the reserved word is not needed.
        var body = new LittleEndianWriter().U32(20).U32(0)
            .U64(0x0).U64(0x1000).U32(Usable)
            .U64(0x1000).U64(0x1000).U32(Reserved);
        var info = Parse2(new MB2().Tag(MB2.TagMemoryMap, body.ToArray()).End());
        NoProblems(info);
        Assert.Equal([(0x0UL, 0x1000UL, MemoryRegionType.Usable), (0x1000UL, 0x2000UL, MemoryRegionType.Reserved)], Regions(info));
    }

    [Fact]
    public void Multiboot2MemoryMapEndingMidEntryKeepsTheWholeEntries()
    {
        var builder = new MB2();
        ulong tag = builder.NextTagAddress;
        var body = new LittleEndianWriter().U32(24).U32(0)
            .U64(0x0).U64(0x9F000).U32(Usable).U32(0)
            .U64(0x100000).U64(0x100000);           // half an entry
        var info = Parse2(builder.Tag(MB2.TagMemoryMap, body.ToArray()).End());
        Assert.Equal([(0x0UL, 0x9F000UL, MemoryRegionType.Usable)], Regions(info));
        OnlyProblemKinds(info, Kind.TruncatedMemoryMap);
        Problem(info, Kind.TruncatedMemoryMap, tag + 16 + 24);
    }

    [Fact]
    public void Multiboot2MemoryMapEntrySizeLargerThanTheTagIsTruncated()
    {
        var builder = new MB2();
        ulong tag = builder.NextTagAddress;
        var body = new LittleEndianWriter().U32(0xFFFFFFF0).U32(0).U64(0x0).U64(0x1000).U32(Usable).U32(0);
        var info = Parse2(builder.Tag(MB2.TagMemoryMap, body.ToArray()).End());
        Assert.Equal(0, info.RegionCount);
        OnlyProblemKinds(info, Kind.TruncatedMemoryMap);
        Problem(info, Kind.TruncatedMemoryMap, tag + 16);
    }

    [Fact]
    public void Multiboot2ZeroLengthEntriesAreDroppedAndReported()
    {
        var builder = new MB2();
        ulong tag = builder.NextTagAddress;
        var info = Parse2(builder.MemoryMap((0x0, 0x9F000, Usable), (0x9F000, 0, Reserved), (0x100000, 0, Usable), (0x100000, 0x1000, Usable)).End());
        Assert.Equal([(0x0UL, 0x9F000UL, MemoryRegionType.Usable), (0x100000UL, 0x101000UL, MemoryRegionType.Usable)], Regions(info));
        OnlyProblemKinds(info, Kind.ZeroLengthRegion);
        Problem(info, Kind.ZeroLengthRegion, tag + 16 + 24);
        Problem(info, Kind.ZeroLengthRegion, tag + 16 + 48);
    }

    [Fact]
    public void Multiboot2TooManyRegionsKeepsTheFirstOnes()
    {
        var entries = new (ulong, ulong, uint)[BootInfo.MaxRegions + 2];
        for (int i = 0; i < entries.Length; i++) entries[i] = ((ulong)i * 0x2000, 0x1000, i % 2 == 0 ? Usable : Reserved);
        var builder = new MB2();
        ulong tag = builder.NextTagAddress;
        var info = Parse2(builder.MemoryMap(entries).End());
        Assert.Equal(BootInfo.MaxRegions, info.RegionCount);
        OnlyProblemKinds(info, Kind.TooManyRegions);
        Problem(info, Kind.TooManyRegions, tag + 16 + 24UL * BootInfo.MaxRegions);
        Problem(info, Kind.TooManyRegions, tag + 16 + 24UL * (BootInfo.MaxRegions + 1));
        WellFormed(info);
    }

    [Fact]
    public void Multiboot2TooManyModulesKeepsTheFirstOnes()
    {
        var builder = new MB2();
        ulong extra = 0;
        for (int i = 0; i < BootInfo.MaxModules + 1; i++)
        {
            if (i == BootInfo.MaxModules) extra = builder.NextTagAddress;
            builder.Module((uint)i * 0x1000, (uint)i * 0x1000 + 0x100, "m" + i);
        }
        var info = Parse2(builder.End());
        Assert.Equal(BootInfo.MaxModules, info.ModuleCount);
        OnlyProblemKinds(info, Kind.TooManyModules);
        Problem(info, Kind.TooManyModules, extra);
    }

    [Fact]
    public void Multiboot2ModuleEndingBeforeItStartsIsDropped()
    {
        var builder = new MB2().Module(0x1000, 0x2000, "good");
        ulong bad = builder.NextTagAddress;
        var info = Parse2(builder.Module(0x5000, 0x4FFF, "bad").End());
        Assert.Equal(1, info.ModuleCount);
        Assert.Equal("good", Ascii(info.Modules[0].Name));
        OnlyProblemKinds(info, Kind.BadModuleRange);
        Problem(info, Kind.BadModuleRange, bad);
    }

    // ---------------- memory-map normalization ----------------

    [Fact]
    public void UnsortedRegionsComeOutSorted()
    {
        var info = Parse2Map((0x100000, 0x100000, Usable), (0xF0000, 0x10000, Reserved), (0x0, 0x9F000, Usable));
        NoProblems(info);
        Assert.Equal(
            [(0x0UL, 0x9F000UL, MemoryRegionType.Usable), (0xF0000UL, 0x100000UL, MemoryRegionType.Reserved),
             (0x100000UL, 0x200000UL, MemoryRegionType.Usable)],
            Regions(info));
    }

    [Fact]
    public void TouchingRegionsDoNotOverlap()
    {
        var info = Parse2Map((0x0, 0x1000, Usable), (0x1000, 0x1000, Reserved), (0x2000, 0x1000, Usable));
        NoProblems(info);
        Assert.Equal(3, info.RegionCount);
    }

    [Fact]
    public void ReservedHoleSplitsAUsableRegionAndItsTailIsKept()
    {
        var info = Parse2Map((0x0, 0x100000, Usable), (0x80000, 0x10000, Reserved));
        Assert.Equal(
            [(0x0UL, 0x80000UL, MemoryRegionType.Usable), (0x80000UL, 0x90000UL, MemoryRegionType.Reserved),
             (0x90000UL, 0x100000UL, MemoryRegionType.Usable)],
            Regions(info));
        OnlyProblemKinds(info, Kind.OverlappingRegions);
        Problem(info, Kind.OverlappingRegions, 0x80000);
    }

    [Fact]
    public void SeveralReservedHolesInOneUsableRegion()
    {
        var info = Parse2Map((0x0, 0x10000, Usable), (0x2000, 0x1000, Reserved), (0x8000, 0x1000, AcpiNvs), (0x4000, 0x2000, Reserved));
        Assert.Equal(
            [(0x0UL, 0x2000UL, MemoryRegionType.Usable), (0x2000UL, 0x3000UL, MemoryRegionType.Reserved),
             (0x3000UL, 0x4000UL, MemoryRegionType.Usable), (0x4000UL, 0x6000UL, MemoryRegionType.Reserved),
             (0x6000UL, 0x8000UL, MemoryRegionType.Usable), (0x8000UL, 0x9000UL, MemoryRegionType.AcpiNvs),
             (0x9000UL, 0x10000UL, MemoryRegionType.Usable)],
            Regions(info));
        WellFormed(info);
    }

    [Fact]
    public void ReservedWinsOverUsableWhicheverComesFirst()
    {
        // Usable first with the same base: the usable part before the hole vanishes.
        var a = Parse2Map((0x0, 0x4000, Usable), (0x0, 0x1000, Reserved));
        Assert.Equal([(0x0UL, 0x1000UL, MemoryRegionType.Reserved), (0x1000UL, 0x4000UL, MemoryRegionType.Usable)], Regions(a));
        Problem(a, Kind.OverlappingRegions, 0x0);
        // Reserved first: the usable region loses its head.
        var b = Parse2Map((0x0, 0x1000, Reserved), (0x0, 0x4000, Usable));
        Assert.Equal([(0x0UL, 0x1000UL, MemoryRegionType.Reserved), (0x1000UL, 0x4000UL, MemoryRegionType.Usable)], Regions(b));
        // Reserved starting inside usable and running past its end.
        var c = Parse2Map((0x0, 0x4000, Usable), (0x3000, 0x4000, Reserved));
        Assert.Equal([(0x0UL, 0x3000UL, MemoryRegionType.Usable), (0x3000UL, 0x7000UL, MemoryRegionType.Reserved)], Regions(c));
        // Usable starting inside reserved and running past its end.
        var d = Parse2Map((0x0, 0x4000, Reserved), (0x3000, 0x4000, Usable));
        Assert.Equal([(0x0UL, 0x4000UL, MemoryRegionType.Reserved), (0x4000UL, 0x7000UL, MemoryRegionType.Usable)], Regions(d));
    }

    [Fact]
    public void UsableRegionInsideReservedVanishes()
    {
        var info = Parse2Map((0x0, 0x10000, Reserved), (0x2000, 0x1000, Usable));
        Assert.Equal([(0x0UL, 0x10000UL, MemoryRegionType.Reserved)], Regions(info));
        Problem(info, Kind.OverlappingRegions, 0x2000);
    }

    [Fact]
    public void OverlappingNonUsableRegionsKeepTheEarlierOne()
    {
        var info = Parse2Map((0x1000, 0x2000, AcpiNvs), (0x2000, 0x2000, Reserved));
        Assert.Equal([(0x1000UL, 0x3000UL, MemoryRegionType.AcpiNvs), (0x3000UL, 0x4000UL, MemoryRegionType.Reserved)], Regions(info));
        Problem(info, Kind.OverlappingRegions, 0x2000);
    }

    [Fact]
    public void OverlappingUsableRegionsCoverTheirUnionOnce()
    {
        var info = Parse2Map((0x0, 0x3000, Usable), (0x1000, 0x4000, Usable), (0x1000, 0x1000, Usable));
        Assert.Equal(0x5000UL, info.UsableBytes);
        Assert.Equal(0x5000UL, info.UsableTop);
        WellFormed(info);
    }

    [Fact]
    public void DuplicateEntriesCollapse()
    {
        var info = Parse2Map((0x100000, 0x1000, Reserved), (0x100000, 0x1000, Reserved), (0x100000, 0x1000, Reserved));
        Assert.Equal([(0x100000UL, 0x101000UL, MemoryRegionType.Reserved)], Regions(info));
        Problem(info, Kind.OverlappingRegions, 0x100000);
    }

    [Fact]
    public void TrimmedRegionIsMovedPastRegionsItNoLongerPrecedes()
    {
        // The usable region loses its head to the first reserved one and then starts at 100,
        // after the second reserved one (20..30) that the first already covers. Trimming must
        // keep the list sorted; otherwise the usable region is cut at 20 (before its own base)
        // and its length wraps.
        var info = Parse2Map((0, 100, Reserved), (10, 190, Usable), (20, 10, Reserved));
        Assert.Equal([(0UL, 100UL, MemoryRegionType.Reserved), (100UL, 200UL, MemoryRegionType.Usable)], Regions(info));
        Assert.Equal(100UL, info.UsableBytes);
        WellFormed(info);
    }

    [Fact]
    public void ReservedRegionsInsideATrimmedUsableRegionStillCutIt()
    {
        // Reserved 0..100, usable 50..400 (trimmed to 100..400), reserved 60..70 (covered),
        // reserved 150..160 (a hole in the trimmed usable region).
        var info = Parse2Map((0, 100, Reserved), (50, 350, Usable), (60, 10, Reserved), (150, 10, Reserved));
        Assert.Equal(
            [(0UL, 100UL, MemoryRegionType.Reserved), (100UL, 150UL, MemoryRegionType.Usable),
             (150UL, 160UL, MemoryRegionType.Reserved), (160UL, 400UL, MemoryRegionType.Usable)],
            Regions(info));
        WellFormed(info);
    }

    [Fact]
    public void LengthWrappingPastTheTopIsClipped()
    {
        var info = Parse2Map((0xFFFFFFFFFFFF0000, 0x20000, Reserved), (0x0, 0x1000, Usable));
        Assert.Equal([(0x0UL, 0x1000UL, MemoryRegionType.Usable), (0xFFFFFFFFFFFF0000UL, ulong.MaxValue, MemoryRegionType.Reserved)], Regions(info));
        WellFormed(info);
    }

    [Fact]
    public void EntryAtTheLastAddressThatClipsToNothingIsReported()
    {
        var builder = new MB2();
        ulong tag = builder.NextTagAddress;
        var info = Parse2(builder.MemoryMap((ulong.MaxValue, 0x1000, Usable), (0x0, 0x1000, Usable)).End());
        Assert.Equal([(0x0UL, 0x1000UL, MemoryRegionType.Usable)], Regions(info));
        Problem(info, Kind.ZeroLengthRegion, tag + 16);
    }

    [Fact]
    public void SplittingWhenTheRegionArrayIsFullNeverReportsReservedBytesUsable()
    {
        // 127 small regions far away, then a usable region with a reserved hole: splitting
        // needs a 129th slot. The tail may be lost, but the hole must stay reserved, and the
        // loss must be reported.
        var entries = new List<(ulong, ulong, uint)>();
        for (int i = 0; i < BootInfo.MaxRegions - 2; i++) entries.Add((0x100000000UL + (ulong)i * 0x2000, 0x1000, Reserved));
        entries.Add((0x0, 0x100000, Usable));
        entries.Add((0x80000, 0x10000, Reserved));
        var info = Parse2Map(entries.ToArray());
        WellFormed(info);
        for (int i = 0; i < info.RegionCount; i++)
            if (info.Regions[i].IsUsable)
                Assert.True(info.Regions[i].End <= 0x80000 || info.Regions[i].Base >= 0x90000, "the reserved hole is reported usable");
        Assert.True(info.UsableBytes == 0x80000 + 0x70000 || info.HasProblem(Kind.TooManyRegions),
            "the usable tail was lost without a report: " + DescribeProblems(info));
    }
}
