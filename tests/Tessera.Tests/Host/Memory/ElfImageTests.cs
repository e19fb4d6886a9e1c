using System.Buffers.Binary;
using FsCheck.Xunit;
using Tessera.Memory;
using Xunit;

namespace Tessera.Tests.Host.Memory;

/// <summary>
/// ElfImage on real static executables built here (musl-gcc -static, gcc -static-pie,
/// gcc -static), checked against `readelf -lW`, and on malformed variants of them.
/// </summary>
public sealed class ElfImageTests
{
    private const ulong P = 4096;

    public static TheoryData<string> Builds() => new() { "musl-static", "glibc-static-pie", "glibc-static", "musl-static-execstack" };

    private static string BuildNamed(string which) => which switch
    {
        "musl-static" => HostPrograms.MuslStatic("hello-musl", HostPrograms.Hello),
        "glibc-static-pie" => HostPrograms.GlibcStaticPie("hello-spie", HostPrograms.Hello),
        "glibc-static" => HostPrograms.GlibcStatic("hello-glibc", HostPrograms.Hello),
        "musl-static-execstack" => HostPrograms.Build("hello-execstack", HostPrograms.Hello, "musl-gcc", "-static", "-z", "execstack"),
        _ => throw new ArgumentException(which),
    };

    private static ElfImage Parsed(byte[] file)
    {
        var image = new ElfImage();
        ElfError e = image.Parse(file);
        Assert.True(e == ElfError.None, ElfErrors.Describe(e));
        return image;
    }

    [Theory]
    [MemberData(nameof(Builds))]
    public void SegmentsMatchReadelf(string which)
    {
        string path = BuildNamed(which);
        byte[] file = File.ReadAllBytes(path);
        var image = Parsed(file);
        var rows = HostPrograms.ReadElfSegments(path);

        var loads = rows.Where(r => r.Type == "LOAD" && r.MemSize > 0).ToList();
        Assert.Equal(loads.Count, image.LoadCount);
        for (int i = 0; i < loads.Count; i++)
        {
            var (_, offset, vaddr, filesz, memsz, flags, align) = loads[i];
            ElfSegment s = image.Load(i);
            Assert.Equal(offset, s.FileOffset);
            Assert.Equal(vaddr, s.VirtualAddress);
            Assert.Equal(filesz, s.FileSize);
            Assert.Equal(memsz, s.MemorySize);
            Assert.Equal(align, s.Align);
            Assert.Equal(flags.Contains('R'), (s.Protection & Prot.Read) != 0);
            Assert.Equal(flags.Contains('W'), (s.Protection & Prot.Write) != 0);
            Assert.Equal(flags.Contains('E'), (s.Protection & Prot.Exec) != 0);
        }
        Assert.Equal(rows.Count, image.ProgramHeaderCount);

        var tls = rows.SingleOrDefault(r => r.Type == "TLS");
        Assert.Equal(tls.Type != null, image.HasTls);
        if (image.HasTls)
        {
            Assert.Equal(tls.VirtAddr, image.Tls.VirtualAddress);
            Assert.Equal(tls.FileSize, image.Tls.FileSize);
            Assert.Equal(tls.MemSize, image.Tls.MemorySize);
            Assert.Equal(tls.Align, image.Tls.Align);
        }
        var stack = rows.Single(r => r.Type == "GNU_STACK");
        Assert.Equal(stack.Flags.Contains('E'), image.ExecutableStack);
        Assert.Equal(which == "musl-static-execstack", image.ExecutableStack);

        var (code, header) = HostPrograms.Run("readelf", ["-hW", path]);
        Assert.Equal(0, code);
        string entry = header.Split('\n').Single(l => l.Contains("Entry point address:")).Split(':')[1].Trim();
        Assert.Equal(Convert.ToUInt64(entry, 16), image.Entry);
        Assert.Equal(which == "glibc-static-pie", image.IsPositionIndependent);

        // The headers sit in the first PT_LOAD at file offset 0, so AT_PHDR is its address + e_phoff.
        Assert.Equal(loads[0].VirtAddr + image.ProgramHeaderOffset, image.ProgramHeaderAddress);
    }

    [Theory]
    [MemberData(nameof(Builds))]
    public void EveryPageComesFromWhereLinuxWouldMapIt(string which)
    {
        byte[] file = File.ReadAllBytes(BuildNamed(which));
        var image = Parsed(file);
        var page = new byte[P];
        var expected = new byte[P];
        for (int i = 0; i < image.LoadCount; i++)
        {
            ElfSegment s = image.Load(i);
            for (ulong a = s.VirtualAddress & ~(P - 1); a < s.VirtualAddress + s.MemorySize; a += P)
            {
                Assert.True(image.PageSource(a + 123, out ulong off, out uint bytes, out byte prot));
                Array.Clear(page);
                Array.Copy(file, (long)off, page, 0, bytes);

                // Restated from fs/binfmt_elf.c: file bytes from p_offset - (p_vaddr % page)
                // onwards, zero after p_filesz when there is a bss, zero past end of file.
                ulong fileEndVa = s.VirtualAddress + s.FileSize;
                for (ulong k = 0; k < P; k++)
                {
                    ulong va = a + k;
                    ulong fo = s.FileOffset - s.VirtualAddress + va; // congruent mapping
                    bool filePage = s.FileSize > 0 && a < ((fileEndVa + P - 1) & ~(P - 1));
                    bool zero = !filePage || (s.MemorySize > s.FileSize && va >= fileEndVa) || fo >= (ulong)file.Length;
                    expected[k] = zero ? (byte)0 : file[fo];
                }
                Assert.True(expected.AsSpan().SequenceEqual(page), $"{which}: page {a:x} of segment {i}");
                bool filePart = s.FileSize > 0 && a < ((fileEndVa + P - 1) & ~(P - 1));
                Assert.Equal(filePart ? s.Protection : s.BssProtection, prot);
            }
        }
        Assert.False(image.PageSource(image.LowestAddress - P, out _, out _, out _));
    }

    [Theory]
    [MemberData(nameof(Builds))]
    public void AreasCoverTheSegmentsAndAgreeWithPageSources(string which)
    {
        var image = Parsed(File.ReadAllBytes(BuildNamed(which)));
        var areas = new Vma[image.MaxAreaCount];
        const ulong bias = 0x7f0000000000;
        int n = image.BuildAreas(bias, 42, areas);
        for (int i = 1; i < n; i++) Assert.True(areas[i - 1].End <= areas[i].Start);
        var set = new VmaSet(AddressSpaceLayout.LinuxX8664);
        for (int i = 0; i < n; i++) Assert.Equal(0, set.MapArea(areas[i]));
        for (int i = 0; i < image.LoadCount; i++)
        {
            ElfSegment s = image.Load(i);
            for (ulong a = s.PageStart; a < s.MemoryEnd; a += P)
            {
                Assert.True(image.PageSource(a, out ulong off, out uint bytes, out byte prot));
                Assert.Equal(FaultVerdict.Allowed, set.CheckFault(a + bias, FaultAccess.Read, out Vma v));
                Assert.Equal(prot, v.Protection);
                bool file = v.FileSource(a + bias, out ulong vOff, out uint vBytes);
                Assert.Equal(v.Kind == VmaKind.File, file);
                if (file) { Assert.Equal(off, vOff); Assert.Equal(bytes, vBytes); Assert.Equal(42ul, v.FileId); }
                else Assert.Equal(0u, bytes);
            }
        }
    }

    [Fact]
    public void DynamicallyLinkedExecutablesAreRefused()
    {
        // musl-gcc's -static-pie still asks for an interpreter; a default gcc build too.
        string withInterp = HostPrograms.Build("hello-musl-pie", HostPrograms.Hello, "musl-gcc", "-static-pie");
        string dynamic = HostPrograms.Build("hello-dynamic", HostPrograms.Hello, "gcc");
        Assert.Equal(ElfError.DynamicallyLinked, new ElfImage().Parse(File.ReadAllBytes(withInterp)));
        Assert.Equal(ElfError.DynamicallyLinked, new ElfImage().Parse(File.ReadAllBytes(dynamic)));
    }

    // ---- malformed files -------------------------------------------------------------------

    private static byte[] Musl() => File.ReadAllBytes(HostPrograms.MuslStatic("hello-musl", HostPrograms.Hello));

    private static int Phdr(byte[] f, int n) => (int)BinaryPrimitives.ReadUInt64LittleEndian(f.AsSpan(32)) + n * 56;
    private static int LoadIndex(byte[] f, int k)
    {
        int count = BinaryPrimitives.ReadUInt16LittleEndian(f.AsSpan(56));
        for (int n = 0, seen = 0; n < count; n++)
            if (BinaryPrimitives.ReadUInt32LittleEndian(f.AsSpan(Phdr(f, n))) == 1 && seen++ == k) return n;
        throw new InvalidOperationException("no such PT_LOAD");
    }
    private static int TypeIndex(byte[] f, uint type)
    {
        int count = BinaryPrimitives.ReadUInt16LittleEndian(f.AsSpan(56));
        for (int n = 0; n < count; n++) if (BinaryPrimitives.ReadUInt32LittleEndian(f.AsSpan(Phdr(f, n))) == type) return n;
        throw new InvalidOperationException("no such header");
    }
    private static ulong Get(byte[] f, int at) => BinaryPrimitives.ReadUInt64LittleEndian(f.AsSpan(at));
    private static void Set64(byte[] f, int at, ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(f.AsSpan(at), v);
    private static void Set32(byte[] f, int at, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(at), v);
    private static void Set16(byte[] f, int at, ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(at), v);

    public static TheoryData<string, ElfError, string> Corruptions() => new()
    {
        { "empty", ElfError.Truncated, "truncated" },
        { "header cut at 63 bytes", ElfError.Truncated, "truncated" },
        { "program headers cut", ElfError.ProgramHeadersOutsideFile, "beyond the end" },
        { "file cut in half", ElfError.SegmentBeyondFile, "beyond the end" },
        { "magic", ElfError.BadMagic, "magic" },
        { "32-bit class", ElfError.NotElf64, "ELF64" },
        { "big-endian", ElfError.NotLittleEndian, "little-endian" },
        { "ident version", ElfError.BadVersion, "version" },
        { "e_version", ElfError.BadVersion, "version" },
        { "relocatable", ElfError.NotExecutable, "not an executable" },
        { "core", ElfError.NotExecutable, "not an executable" },
        { "i386", ElfError.WrongMachine, "x86-64" },
        { "aarch64", ElfError.WrongMachine, "x86-64" },
        { "phentsize 32", ElfError.BadProgramHeaderSize, "56" },
        { "phnum 0", ElfError.BadProgramHeaderCount, "count" },
        { "phnum PN_XNUM", ElfError.BadProgramHeaderCount, "count" },
        { "phoff huge", ElfError.ProgramHeadersOutsideFile, "beyond the end" },
        { "filesz > memsz", ElfError.FileSizeExceedsMemorySize, "larger than" },
        { "offset beyond file", ElfError.SegmentBeyondFile, "beyond the end" },
        { "offset + filesz overflows", ElfError.SegmentBeyondFile, "beyond the end" },
        { "offset not congruent", ElfError.SegmentMisaligned, "modulo the page size" },
        { "alignment 3", ElfError.BadAlignment, "power of two" },
        { "segments out of order", ElfError.SegmentsOutOfOrder, "sorted" },
        { "segments overlap", ElfError.SegmentsOverlap, "overlap" },
        { "memsz absurd", ElfError.SegmentOutsideUserSpace, "user address space" },
        { "vaddr + memsz wraps", ElfError.SegmentOutsideUserSpace, "user address space" },
        { "below mmap_min_addr", ElfError.SegmentBelowMinimumAddress, "mmap_min_addr" },
        { "entry 0", ElfError.EntryOutsideCode, "entry point" },
        { "entry in data", ElfError.EntryOutsideCode, "entry point" },
        { "no PT_LOAD", ElfError.NoLoadSegments, "PT_LOAD" },
        { "PT_INTERP", ElfError.DynamicallyLinked, "dynamically linked" },
        { "two PT_TLS", ElfError.BadTls, "PT_TLS" },
        { "PT_TLS filesz > memsz", ElfError.BadTls, "PT_TLS" },
    };

    private static byte[] Corrupt(string what)
    {
        byte[] f = Musl();
        int l0 = Phdr(f, LoadIndex(f, 0)), l1 = Phdr(f, LoadIndex(f, 1)), l3 = Phdr(f, LoadIndex(f, 3));
        switch (what)
        {
            case "empty": return [];
            case "header cut at 63 bytes": return f[..63];
            case "program headers cut": return f[..(Phdr(f, 3) + 10)];
            case "file cut in half": return f[..(f.Length / 2)];
            case "magic": f[1] = (byte)'X'; break;
            case "32-bit class": f[4] = 1; break;
            case "big-endian": f[5] = 2; break;
            case "ident version": f[6] = 0; break;
            case "e_version": Set32(f, 20, 2); break;
            case "relocatable": Set16(f, 16, 1); break;
            case "core": Set16(f, 16, 4); break;
            case "i386": Set16(f, 18, 3); break;
            case "aarch64": Set16(f, 18, 183); break;
            case "phentsize 32": Set16(f, 54, 32); break;
            case "phnum 0": Set16(f, 56, 0); break;
            case "phnum PN_XNUM": Set16(f, 56, 0xffff); break;
            case "phoff huge": Set64(f, 32, 0xfffffffffffffff0); break;
            case "filesz > memsz": Set64(f, l1 + 32, Get(f, l1 + 40) + 1); break;
            case "offset beyond file": Set64(f, l1 + 8, (ulong)f.Length + P); break;
            case "offset + filesz overflows": Set64(f, l1 + 8, ulong.MaxValue - 10); break;
            case "offset not congruent": Set64(f, l1 + 8, Get(f, l1 + 8) + 8); break;
            case "alignment 3": Set64(f, l1 + 48, 3); break;
            case "segments out of order": Set64(f, l1 + 16, Get(f, l0 + 16) - 2 * P); break;
            case "segments overlap": Set64(f, l0 + 40, Get(f, l1 + 16) - Get(f, l0 + 16) + 1); break;
            case "memsz absurd": Set64(f, l3 + 40, 1ul << 62); break;
            case "vaddr + memsz wraps": Set64(f, l3 + 40, ulong.MaxValue - 0x1000); break;
            case "below mmap_min_addr": Set64(f, l0 + 16, 0x1000); break;
            case "entry 0": Set64(f, 24, 0); break;
            case "entry in data": Set64(f, 24, Get(f, l3 + 16)); break;
            case "no PT_LOAD":
                for (int k = 0; k < 4; k++) Set32(f, Phdr(f, LoadIndex(f, 0)), 0);
                break;
            case "PT_INTERP": Set32(f, Phdr(f, TypeIndex(f, 0x6474e551)), 3); break;
            case "two PT_TLS": Set32(f, Phdr(f, TypeIndex(f, 0x6474e552)), 7); break;
            case "PT_TLS filesz > memsz":
                int tls = Phdr(f, TypeIndex(f, 7));
                Set64(f, tls + 32, Get(f, tls + 40) + 8);
                break;
            default: throw new ArgumentException(what);
        }
        return f;
    }

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void MalformedFilesAreRejectedWithAReason(string what, ElfError expected, string reasonContains)
    {
        ElfError got = new ElfImage().Parse(Corrupt(what));
        Assert.Equal(expected, got);
        Assert.Contains(reasonContains, ElfErrors.Describe(got));
    }

    [Fact]
    public void EveryErrorHasItsOwnDescription()
    {
        var all = Enum.GetValues<ElfError>().Select(ElfErrors.Describe).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.DoesNotContain("unknown ELF error", all);
    }

    /// <summary>
    /// Random corruption (byte flips in the headers, truncation) never makes Parse throw, and
    /// whatever it accepts yields sane areas: ordered, page-aligned, inside user space.
    /// </summary>
    [Property(MaxTest = 400)]
    public void CorruptedFilesNeverCrashTheParser(int seed)
    {
        var random = new Random(seed);
        byte[] f = random.Next(2) == 0 ? Musl() : File.ReadAllBytes(BuildNamed("glibc-static-pie"));
        int headerBytes = 64 + 56 * BinaryPrimitives.ReadUInt16LittleEndian(f.AsSpan(56));
        for (int k = random.Next(1, 6); k > 0; k--)
        {
            int at = random.Next(headerBytes);
            f[at] = random.Next(3) == 0 ? (byte)0xff : (byte)random.Next(256);
        }
        if (random.Next(4) == 0) f = f[..random.Next(f.Length)];
        var image = new ElfImage();
        if (image.Parse(f) != ElfError.None) return;
        var areas = new Vma[image.MaxAreaCount];
        int n = image.BuildAreas(image.IsPositionIndependent ? 0x7f0000000000ul : 0, 1, areas);
        for (int i = 0; i < n; i++)
        {
            Assert.True(areas[i].Start < areas[i].End && areas[i].Start % P == 0 && areas[i].End % P == 0);
            if (i > 0) Assert.True(areas[i - 1].End <= areas[i].Start);
            Assert.True(image.PageSource(areas[i].Start - (image.IsPositionIndependent ? 0x7f0000000000ul : 0), out ulong off, out uint bytes, out _));
            Assert.True(bytes == 0 || off + bytes <= (ulong)f.Length);
        }
    }
}
