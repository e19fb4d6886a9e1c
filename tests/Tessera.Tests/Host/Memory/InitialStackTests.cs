using System.Buffers.Binary;
using System.Text;
using FsCheck.Xunit;
using Tessera.Memory;
using Xunit;
using static Tessera.Memory.Errno;

namespace Tessera.Tests.Host.Memory;

/// <summary>
/// The initial stack, read back the way a C runtime reads it (argc at rsp, argv, envp,
/// auxv), for any arguments; and compared byte for byte with the stack a real Linux process
/// gets (see LinuxComparisonTests).
/// </summary>
public sealed class InitialStackTests
{
    private const ulong Top = 0x7ffffffff000;
    private const ulong Limit = 8 * 1024 * 1024;
    private static readonly byte[] Random16 = Enumerable.Range(0xa0, 16).Select(i => (byte)i).ToArray();

    /// <summary>What a program finds on its stack, parsed from the bytes below the top.</summary>
    public sealed record Parsed(ulong Rsp, string[] Argv, string[] Envp, List<(ulong Type, ulong Value)> Auxv, ulong ArgvPointersEnd);

    public static Parsed Parse(byte[] top, ulong stackTop, ulong rsp)
    {
        ulong bottom = stackTop - (ulong)top.Length;
        ulong Word(ulong a) => BinaryPrimitives.ReadUInt64LittleEndian(top.AsSpan((int)(a - bottom), 8));
        string Str(ulong a)
        {
            int at = (int)(a - bottom), end = Array.IndexOf(top, (byte)0, at);
            return Encoding.UTF8.GetString(top, at, end - at);
        }
        ulong p = rsp;
        ulong argc = Word(p); p += 8;
        var argv = new List<string>();
        for (ulong i = 0; i < argc; i++, p += 8) argv.Add(Str(Word(p)));
        Assert.Equal(0ul, Word(p)); p += 8;
        var envp = new List<string>();
        for (; Word(p) != 0; p += 8) envp.Add(Str(Word(p)));
        p += 8;
        var auxv = new List<(ulong, ulong)>();
        for (; ; p += 16)
        {
            auxv.Add((Word(p), Word(p + 8)));
            if (Word(p) == 0) break;
        }
        return new Parsed(rsp, argv.ToArray(), envp.ToArray(), auxv, p + 16);
    }

    private static long Build(string[] argv, string[] envp, string execfn, byte[] buffer, out InitialStackLayout layout,
        ulong[]? leading = null, ulong[]? trailing = null)
    {
        var input = new InitialStackInput
        {
            Arguments = HostPrograms.Pack(argv), Environment = HostPrograms.Pack(envp), ExecFn = Encoding.UTF8.GetBytes(execfn),
            Random = Random16, LeadingAuxv = leading, TrailingAuxv = trailing,
            ProgramHeaders = 0x400040, ProgramHeaderCount = 7, Entry = 0x40105a, Uid = 1000, Euid = 1001, Gid = 100, Egid = 101,
            HwCap = 0x178bfbff, HwCap2 = 2,
        };
        return InitialStack.Build(input, Top, Limit, buffer, out layout);
    }

    [Fact]
    public void ReadsBackAsACRuntimeSeesIt()
    {
        var buffer = new byte[16384];
        long rsp = Build(["/bin/prog", "-x", "two words"], ["HOME=/root", "LANG=C"], "/bin/prog", buffer, out var layout);
        Assert.True(rsp > 0);
        Assert.Equal(0, rsp % 16);
        var parsed = Parse(buffer, Top, (ulong)rsp);
        Assert.Equal(["/bin/prog", "-x", "two words"], parsed.Argv);
        Assert.Equal(["HOME=/root", "LANG=C"], parsed.Envp);

        ulong[] order = [Auxv.HwCap, Auxv.PageSize, Auxv.ClockTick, Auxv.Phdr, Auxv.Phent, Auxv.Phnum, Auxv.Base, Auxv.Flags,
            Auxv.Entry, Auxv.Uid, Auxv.Euid, Auxv.Gid, Auxv.Egid, Auxv.Secure, Auxv.Random, Auxv.HwCap2, Auxv.ExecFn, Auxv.Platform, Auxv.Null];
        Assert.Equal(order, parsed.Auxv.Select(a => a.Type).ToArray());
        var aux = parsed.Auxv.ToDictionary(a => a.Type, a => a.Value);
        Assert.Equal(4096ul, aux[Auxv.PageSize]);
        Assert.Equal(100ul, aux[Auxv.ClockTick]);
        Assert.Equal(56ul, aux[Auxv.Phent]);
        Assert.Equal(7ul, aux[Auxv.Phnum]);
        Assert.Equal(0x400040ul, aux[Auxv.Phdr]);
        Assert.Equal(0x40105aul, aux[Auxv.Entry]);
        Assert.Equal(0ul, aux[Auxv.Base]);
        Assert.Equal((1000ul, 1001ul, 100ul, 101ul), (aux[Auxv.Uid], aux[Auxv.Euid], aux[Auxv.Gid], aux[Auxv.Egid]));
        Assert.Equal(0x178bfbfful, aux[Auxv.HwCap]);
        Assert.Equal(0ul, aux[Auxv.Null]);

        ulong bottom = Top - (ulong)buffer.Length;
        byte[] At(ulong a, int n) => buffer.AsSpan((int)(a - bottom), n).ToArray();
        Assert.Equal(Random16, At(aux[Auxv.Random], 16));
        Assert.Equal("x86_64\0"u8.ToArray(), At(aux[Auxv.Platform], 7));
        Assert.Equal("/bin/prog\0"u8.ToArray(), At(aux[Auxv.ExecFn], 10));
        Assert.Equal(layout.ExecFnAddress, aux[Auxv.ExecFn]);

        // Strings: argv then envp then the file name, back to back, 8 zero bytes at the very top.
        Assert.Equal(Encoding.UTF8.GetBytes("/bin/prog\0-x\0two words\0HOME=/root\0LANG=C\0/bin/prog\0\0\0\0\0\0\0\0\0"),
            At(layout.ArgStart, (int)(Top - layout.ArgStart)));
        Assert.Equal(layout.EnvStart, layout.ArgEnd);
        // Platform string just below the 16-aligned start of the strings, random bytes just below it.
        Assert.Equal((layout.ArgStart & ~15ul) - 7, aux[Auxv.Platform]);
        Assert.Equal(aux[Auxv.Platform] - 16, aux[Auxv.Random]);
        // The auxv ends right where the padding up to the random bytes begins (< 16 bytes).
        Assert.True(aux[Auxv.Random] - parsed.ArgvPointersEnd < 16);
        Assert.Equal(layout.AuxvAddress, parsed.ArgvPointersEnd - (ulong)parsed.Auxv.Count * 16);
        Assert.Equal((ulong)rsp, layout.StackPointer);
        Assert.Equal(Top - (ulong)rsp, InitialStack.RequiredBytes(new InitialStackInput
        {
            Arguments = HostPrograms.Pack("/bin/prog", "-x", "two words"), Environment = HostPrograms.Pack("HOME=/root", "LANG=C"),
            ExecFn = "/bin/prog"u8.ToArray(), Random = Random16,
        }, Limit));
    }

    [Fact]
    public void TheWholeBufferIsWrittenWithZerosBelowTheStack()
    {
        var buffer = Enumerable.Repeat((byte)0xcc, 8192).ToArray();
        long rsp = Build(["a"], ["B=c"], "a", buffer, out _);
        ulong bottom = Top - (ulong)buffer.Length;
        Assert.All(buffer[..(int)((ulong)rsp - bottom)], b => Assert.Equal(0, b));
        Assert.DoesNotContain((byte)0xcc, buffer);
    }

    [Fact]
    public void ExtraAuxvEntriesGoFirstAndLastAsOnLinux()
    {
        var buffer = new byte[8192];
        long rsp = Build(["a"], [], "a", buffer, out _, leading: [Auxv.SysinfoEhdr, 0x7ffff7ffd000, Auxv.MinSigStackSize, 0xd30], trailing: [Auxv.RseqFeatureSize, 0x1c, Auxv.RseqAlign, 0x20]);
        var types = Parse(buffer, Top, (ulong)rsp).Auxv.Select(a => a.Type).ToArray();
        Assert.Equal([Auxv.SysinfoEhdr, Auxv.MinSigStackSize, Auxv.HwCap], types[..3]);
        Assert.Equal([Auxv.Platform, Auxv.RseqFeatureSize, Auxv.RseqAlign, Auxv.Null], types[^4..]);
    }

    [Fact]
    public void AnEmptyArgvBecomesOneEmptyString()
    {
        var buffer = new byte[8192];
        long rsp = Build([], ["A=1"], "x", buffer, out var layout);
        var parsed = Parse(buffer, Top, (ulong)rsp);
        Assert.Equal([""], parsed.Argv);
        Assert.Equal(["A=1"], parsed.Envp);
        Assert.Equal(1, layout.ArgumentCount);
    }

    [Fact]
    public void BadInputsAreRefused()
    {
        var buffer = new byte[8192];
        var ok = new InitialStackInput { Arguments = "a\0"u8.ToArray(), ExecFn = "a"u8.ToArray(), Random = Random16 };
        Assert.True(InitialStack.Build(ok, Top, Limit, buffer, out _) > 0);

        var unterminated = ok; unterminated.Arguments = "abc"u8.ToArray();
        Assert.Equal(-EINVAL, InitialStack.Build(unterminated, Top, Limit, buffer, out _));
        var shortRandom = ok; shortRandom.Random = new byte[15];
        Assert.Equal(-EINVAL, InitialStack.Build(shortRandom, Top, Limit, buffer, out _));
        var nulInName = ok; nulInName.ExecFn = "a\0b"u8.ToArray();
        Assert.Equal(-EINVAL, InitialStack.Build(nulInName, Top, Limit, buffer, out _));
        var oddAux = ok; oddAux.LeadingAuxv = new ulong[3];
        Assert.Equal(-EINVAL, InitialStack.Build(oddAux, Top, Limit, buffer, out _));
        Assert.Equal(-EINVAL, InitialStack.Build(ok, Top - 8, Limit, buffer, out _));

        var longString = ok; longString.Arguments = Enumerable.Repeat((byte)'x', InitialStack.MaxArgStrlen).Append((byte)0).ToArray();
        Assert.Equal(-E2BIG, InitialStack.Build(longString, Top, Limit, new byte[1 << 20], out _));
        // Many strings, each fine, over a quarter of the stack limit together.
        var many = ok; many.Environment = HostPrograms.Pack(Enumerable.Repeat(new string('e', 1000), 2100).ToArray());
        Assert.Equal(-E2BIG, InitialStack.Build(many, Top, Limit, new byte[4 << 20], out _));
        Assert.True(InitialStack.Build(many, Top, 4 * Limit, new byte[4 << 20], out _) > 0); // a larger stack limit allows it
        // Fits the limits but not the buffer.
        Assert.Equal(-E2BIG, InitialStack.Build(ok, Top, Limit, new byte[64], out _));
    }

    /// <summary>For any arguments and environment: rsp 16-aligned, everything reads back, and RequiredBytes is exact.</summary>
    [Property(MaxTest = 200)]
    public void AnyArgumentsReadBackAndAlign(int seed)
    {
        var random = new Random(seed);
        string Word() => new string(Enumerable.Range(0, random.Next(0, 40)).Select(_ => (char)random.Next(0x20, 0x7f)).ToArray());
        string[] argv = Enumerable.Range(0, random.Next(0, 12)).Select(_ => Word()).ToArray();
        string[] envp = Enumerable.Range(0, random.Next(0, 12)).Select(_ => Word() + "=" + Word()).ToArray();
        string execfn = "/" + Word().Replace("\0", "");
        var buffer = new byte[32768];
        long rsp = Build(argv, envp, execfn, buffer, out var layout);
        Assert.True(rsp > 0);
        Assert.Equal(0, rsp % 16);
        var parsed = Parse(buffer, Top, (ulong)rsp);
        Assert.Equal(argv.Length == 0 ? new[] { "" } : argv, parsed.Argv);
        Assert.Equal(envp, parsed.Envp);
        Assert.True(parsed.Auxv.Single(a => a.Type == Auxv.Random).Value - parsed.ArgvPointersEnd < 16);
        var input = new InitialStackInput
        {
            Arguments = HostPrograms.Pack(argv), Environment = HostPrograms.Pack(envp), ExecFn = Encoding.UTF8.GetBytes(execfn), Random = Random16,
        };
        Assert.Equal(Top - (ulong)rsp, InitialStack.RequiredBytes(input, Limit));
        Assert.Equal((ulong)rsp, layout.StackPointer);
    }
}
