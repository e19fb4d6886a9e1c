// Self-tests of the memory component's pure logic running inside the memory kernel: the
// same VmaSet, ElfImage, InitialStack and ProgramLoader the host tests check in depth
// (tests/Tessera.Tests/Host/Memory), here to prove they compile to and run on bare metal
// with the kernel's own runtime (no BCL, bump heap). A small executable is built in memory.
using System;
using Tessera.Core;

namespace Tessera.Memory
{
    public static class AddressSpaceSelfTests
    {
        public static void RunAll()
        {
            SelfTest.Run(new VmaSetSelfTest());
            SelfTest.Run(new ElfImageSelfTest());
            SelfTest.Run(new InitialStackSelfTest());
        }

        internal const ulong P = AddressSpaceLayout.PageSize;

        /// <summary>
        /// A static executable of 0x1300 bytes: a read-execute segment at 0x400000 (file
        /// 0..0x200, the headers and the entry), and a read-write one at 0x401210 (file
        /// 0x1210..0x1230) with 0x3000 bytes of memory, so a bss.
        /// </summary>
        internal static byte[] TinyExecutable()
        {
            var f = new byte[0x1300];
            f[0] = 0x7f; f[1] = (byte)'E'; f[2] = (byte)'L'; f[3] = (byte)'F';
            f[4] = 2; f[5] = 1; f[6] = 1;
            Put16(f, 16, ElfImage.TypeExecutable);
            Put16(f, 18, ElfImage.MachineX8664);
            Put32(f, 20, 1);
            Put64(f, 24, 0x400100);          // e_entry
            Put64(f, 32, 64);                // e_phoff
            Put16(f, 52, 64);
            Put16(f, 54, ElfImage.ProgramHeaderSize);
            Put16(f, 56, 3);
            Phdr(f, 0, ElfImage.PtLoad, ElfSegment.FlagRead | ElfSegment.FlagExecute, 0, 0x400000, 0x200, 0x200);
            Phdr(f, 1, ElfImage.PtLoad, ElfSegment.FlagRead | ElfSegment.FlagWrite, 0x1210, 0x401210, 0x20, 0x3000);
            Phdr(f, 2, ElfImage.PtGnuStack, ElfSegment.FlagRead | ElfSegment.FlagWrite, 0, 0, 0, 0);
            for (int i = 0x1210; i < 0x1230; i++) f[i] = 0xdd;
            return f;
        }

        private static void Phdr(byte[] f, int n, uint type, uint flags, ulong offset, ulong vaddr, ulong filesz, ulong memsz)
        {
            int at = 64 + n * ElfImage.ProgramHeaderSize;
            Put32(f, at, type);
            Put32(f, at + 4, flags);
            Put64(f, at + 8, offset);
            Put64(f, at + 16, vaddr);
            Put64(f, at + 32, filesz);
            Put64(f, at + 40, memsz);
            Put64(f, at + 48, P);
        }

        private static void Put16(byte[] f, int at, ushort v) { f[at] = (byte)v; f[at + 1] = (byte)(v >> 8); }
        private static void Put32(byte[] f, int at, uint v) { for (int i = 0; i < 4; i++) f[at + i] = (byte)(v >> (8 * i)); }
        private static void Put64(byte[] f, int at, ulong v) { for (int i = 0; i < 8; i++) f[at + i] = (byte)(v >> (8 * i)); }

        internal static ulong Word(Span<byte> b, ulong bottom, ulong address)
        {
            ulong v = 0;
            int at = (int)(address - bottom);
            for (int i = 7; i >= 0; i--) v = (v << 8) | b[at + i];
            return v;
        }

        /// <summary>Packs ASCII strings NUL-terminated back to back.</summary>
        internal static byte[] Pack(string a, string b)
        {
            var bytes = new byte[a.Length + 1 + b.Length + 1];
            for (int i = 0; i < a.Length; i++) bytes[i] = (byte)a[i];
            for (int i = 0; i < b.Length; i++) bytes[a.Length + 1 + i] = (byte)b[i];
            return bytes;
        }
    }

    internal sealed class VmaSetSelfTest : SelfTestCase
    {
        public override string Name => "memory.vma-set";

        public override string? Run()
        {
            const ulong P = AddressSpaceSelfTests.P;
            const int Anon = MapFlags.Private | MapFlags.Anonymous;
            const int RW = Prot.Read | Prot.Write;
            var s = new VmaSet(AddressSpaceLayout.LinuxX8664);
            if (s.Mmap(0, P, RW, Anon, 0, 0) != 0x7ffff7ffe000) return "mmap(NULL) not just below mmap_base";
            if (s.Mmap(0x400000, 4 * P, RW, Anon | MapFlags.Fixed, 0, 0) != 0x400000) return "MAP_FIXED";
            if (s.Mmap(0x401000, P, RW, Anon | MapFlags.FixedNoReplace, 0, 0) != -Errno.EEXIST) return "MAP_FIXED_NOREPLACE over a mapping";
            if (s.Mprotect(0x401000, 2 * P, Prot.Read) != 0 || s.Count != 4) return "mprotect split";
            if (s.Mprotect(0x401000, 2 * P, RW) != 0 || s.Count != 2) return "mprotect merge";
            if (s.Munmap(0x401000, P) != 0 || s.Count != 3) return "munmap split";
            if (s.Mremap(0x402000, 2 * P, 8 * P, MremapFlags.MayMove, 0, out MremapResult r) != 0x402000 || r.Moved) return "mremap grow in place";
            if (s.Mremap(0x400000, P, 3 * P, 0, 0, out _) != -Errno.ENOMEM) return "mremap grow without room";
            s.InitBrk(0x500000);
            if (s.Brk(0x501800) != 0x501800 || s.IndexOf(0x501000) < 0) return "brk grow";
            if (s.Brk(0x500000) != 0x500000 || s.IndexOf(0x500000) >= 0) return "brk shrink";
            if (s.CheckFault(0x402008, FaultAccess.Write, out _) != FaultVerdict.Allowed) return "fault in RW area";
            if (s.CheckFault(0x401008, FaultAccess.Read, out _) != FaultVerdict.Unmapped) return "fault in a hole";
            if (s.Mprotect(0x400000, P, Prot.Read) != 0 || s.CheckFault(0x400000, FaultAccess.Write, out _) != FaultVerdict.Forbidden) return "write to read-only";

            // Many areas: the array grows and lookups stay right.
            var many = new VmaSet(AddressSpaceLayout.LinuxX8664);
            for (int i = 0; i < 1000; i++)
                if (many.Mmap(0, P, (i & 1) == 0 ? Prot.Read : RW, Anon, 0, 0) < 0) return "mmap of many areas";
            if (many.Count != 1000) return "areas merged that should not";
            for (int i = 0; i < 1000; i += 37)
                if (many.IndexOf(many[i].Start + 100) != i) return "lookup among many areas";
            return null;
        }
    }

    internal sealed class ElfImageSelfTest : SelfTestCase
    {
        public override string Name => "memory.elf-image";

        public override string? Run()
        {
            const ulong P = AddressSpaceSelfTests.P;
            byte[] file = AddressSpaceSelfTests.TinyExecutable();
            var image = new ElfImage();
            ElfError e = image.Parse(file);
            if (e != ElfError.None) return ElfErrors.Describe(e);
            if (image.LoadCount != 2 || image.Entry != 0x400100 || image.ProgramHeaderAddress != 0x400040 || image.ExecutableStack)
                return "header fields";
            Span<Vma> areas = stackalloc Vma[4];
            if (image.BuildAreas(0, 1, areas) != 3) return "file, file and bss areas expected";
            if (areas[1].Start != 0x401000 || areas[1].End != 0x402000 || areas[1].FileOffset != 0x1000 || areas[2].End != 0x405000)
                return "area bounds";
            if (!image.PageSource(0x401234, out ulong off, out uint bytes, out byte prot) || off != 0x1000 || bytes != 0x230 || prot != (Prot.Read | Prot.Write))
                return "page source of the data page";
            if (!image.PageSource(0x403000, out _, out bytes, out _) || bytes != 0) return "bss page not zero";

            file[0] = 0;
            if (image.Parse(file) != ElfError.BadMagic) return "bad magic accepted";
            if (image.Parse(new ReadOnlySpan<byte>(file, 0, 40)) != ElfError.Truncated) return "truncated file accepted";
            file = AddressSpaceSelfTests.TinyExecutable();
            file[64 + 32] = 0x10; file[64 + 33] = 0x10; // filesz of the first PT_LOAD beyond its memsz
            if (image.Parse(file) != ElfError.FileSizeExceedsMemorySize) return "filesz > memsz accepted";
            return null;
        }
    }

    internal sealed class InitialStackSelfTest : SelfTestCase
    {
        public override string Name => "memory.initial-stack";

        public override string? Run()
        {
            var image = new ElfImage();
            if (image.Parse(AddressSpaceSelfTests.TinyExecutable()) != ElfError.None) return "tiny executable refused";
            var random = new byte[16];
            for (int i = 0; i < 16; i++) random[i] = (byte)(0x40 + i);
            var input = new InitialStackInput
            {
                Arguments = AddressSpaceSelfTests.Pack("prog", "arg"),
                Environment = AddressSpaceSelfTests.Pack("A=1", "B=2"),
                ExecFn = new ReadOnlySpan<byte>(AddressSpaceSelfTests.Pack("prog", ""), 0, 4),
                Random = random,
            };
            var stack = new byte[8192];
            var space = new VmaSet(AddressSpaceLayout.LinuxX8664);
            int r = ProgramLoader.Load(space, image, 5, input, stack, out ProgramStart start);
            if (r != 0) return "load failed";
            if (start.Entry != 0x400100 || start.BrkStart != 0x405000 || start.StackTop != 0x7ffffffff000) return "entry, brk or stack top";
            if ((start.StackPointer & 15) != 0) return "rsp not 16-byte aligned";
            ulong bottom = start.StackTop - (ulong)stack.Length;
            if (AddressSpaceSelfTests.Word(stack, bottom, start.StackPointer) != 2) return "argc";
            ulong argv0 = AddressSpaceSelfTests.Word(stack, bottom, start.StackPointer + 8);
            if (argv0 != start.Stack.ArgStart || stack[(int)(argv0 - bottom)] != (byte)'p') return "argv[0]";
            if (AddressSpaceSelfTests.Word(stack, bottom, start.StackPointer + 24) != 0) return "argv not NULL-terminated";
            // auxv: find AT_PAGESZ and AT_RANDOM.
            ulong a = start.Stack.AuxvAddress;
            bool page = false, rnd = false;
            for (int i = 0; i < 32; i++, a += 16)
            {
                ulong type = AddressSpaceSelfTests.Word(stack, bottom, a), value = AddressSpaceSelfTests.Word(stack, bottom, a + 8);
                if (type == Auxv.Null) break;
                if (type == Auxv.PageSize && value == 4096) page = true;
                if (type == Auxv.Random && value == start.Stack.RandomAddress && stack[(int)(value - bottom) + 15] == 0x4f) rnd = true;
            }
            if (!page || !rnd) return "auxv AT_PAGESZ or AT_RANDOM";
            if (space.CheckFault(start.StackPointer, FaultAccess.Write, out Vma stackArea) != FaultVerdict.Allowed || stackArea.Kind != VmaKind.Stack)
                return "stack area";
            if (space.CheckFault(0x400100, FaultAccess.Execute, out _) != FaultVerdict.Allowed) return "entry not executable";
            return null;
        }
    }
}
