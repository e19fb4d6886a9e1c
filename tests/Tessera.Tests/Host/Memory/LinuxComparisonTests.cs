using System.Globalization;
using System.Text;
using Tessera.Memory;
using Xunit;

namespace Tessera.Tests.Host.Memory;

/// <summary>
/// ProgramLoader against the real thing: a small program, run on this Linux host under
/// `setarch -R` (no address randomisation), prints its memory map (/proc/self/maps, read
/// before anything can change it), its auxiliary vector and every byte of its stack from
/// rsp to the top. The same executable loaded by ProgramLoader with the same arguments,
/// environment and random bytes must give the same areas and a byte-identical stack.
/// </summary>
public sealed class LinuxComparisonTests
{
    private const string Dumper = """
        #include <stdio.h>
        #include <string.h>
        #include <fcntl.h>
        #include <unistd.h>
        static char maps[65536];
        int main(int argc, char **argv, char **envp) {
            /* The map first: printing may allocate (glibc), which would change it. */
            int fd = open("/proc/self/maps", O_RDONLY), n = 0, r;
            while (fd >= 0 && (r = read(fd, maps + n, sizeof maps - 1 - n)) > 0) n += r;
            close(fd);
            unsigned long *sp = (unsigned long *)argv - 1;
            char **e = envp;
            while (*e) e++;
            unsigned long *aux = (unsigned long *)(e + 1);
            const char *execfn = 0;
            for (unsigned long *a = aux; a[0]; a += 2) if (a[0] == 31) execfn = (const char *)a[1];
            unsigned long top = (unsigned long)execfn + strlen(execfn) + 1 + 8;
            printf("rsp %lx\ntop %lx\nstack ", (unsigned long)sp, top);
            for (unsigned char *p = (unsigned char *)sp; p < (unsigned char *)top; p++) printf("%02x", *p);
            printf("\n");
            for (unsigned long *a = aux; ; a += 2) { printf("aux %lu %lx\n", a[0], a[1]); if (!a[0]) break; }
            for (int i = 0; envp[i]; i++) printf("env %s\n", envp[i]);
            fputs(maps, stdout);
            return 0;
        }
        """;

    private sealed record HostRun(ulong Rsp, ulong Top, byte[] Stack, List<(ulong Type, ulong Value)> Auxv, List<string> Env, List<string> Maps);

    private static HostRun RunOnHost(string program, string[] args, Dictionary<string, string> env)
    {
        var (code, output) = HostPrograms.Run("setarch", ["-R", program, .. args], env, clearEnvironment: true);
        Assert.True(code == 0, $"setarch -R {program} failed ({code}): {output}");
        ulong rsp = 0, top = 0;
        byte[] stack = [];
        var auxv = new List<(ulong, ulong)>();
        var envs = new List<string>();
        var maps = new List<string>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("rsp ")) rsp = ulong.Parse(line[4..], NumberStyles.HexNumber);
            else if (line.StartsWith("top ")) top = ulong.Parse(line[4..], NumberStyles.HexNumber);
            else if (line.StartsWith("stack ")) stack = Convert.FromHexString(line[6..]);
            else if (line.StartsWith("aux ")) { var p = line.Split(' '); auxv.Add((ulong.Parse(p[1]), ulong.Parse(p[2], NumberStyles.HexNumber))); }
            else if (line.StartsWith("env ")) envs.Add(line[4..]);
            else maps.Add(line);
        }
        return new HostRun(rsp, top, stack, auxv, envs, maps);
    }

    private static (ProgramStart Start, VmaSet Space, byte[] Stack) LoadLikeTheHost(string program, string[] args, HostRun host)
    {
        byte[] file = File.ReadAllBytes(program);
        var image = new ElfImage();
        Assert.Equal(ElfError.None, image.Parse(file));
        ulong Aux(ulong type) => host.Auxv.Single(a => a.Type == type).Value;
        // The architecture's entries before AT_HWCAP and the ones after AT_PLATFORM, as the host has them.
        int hwcap = host.Auxv.FindIndex(a => a.Type == Auxv.HwCap), platform = host.Auxv.FindIndex(a => a.Type == Auxv.Platform);
        ulong[] leading = host.Auxv.Take(hwcap).SelectMany(a => new[] { a.Type, a.Value }).ToArray();
        ulong[] trailing = host.Auxv.Skip(platform + 1).TakeWhile(a => a.Type != 0).SelectMany(a => new[] { a.Type, a.Value }).ToArray();
        ulong random = Aux(Auxv.Random);
        var input = new InitialStackInput
        {
            Arguments = HostPrograms.Pack([program, .. args]),
            Environment = HostPrograms.Pack(host.Env.ToArray()),
            ExecFn = Encoding.UTF8.GetBytes(program),
            Random = host.Stack.AsSpan((int)(random - host.Rsp), 16).ToArray(),
            LeadingAuxv = leading,
            TrailingAuxv = trailing,
            Uid = Aux(Auxv.Uid), Euid = Aux(Auxv.Euid), Gid = Aux(Auxv.Gid), Egid = Aux(Auxv.Egid),
            HwCap = Aux(Auxv.HwCap), HwCap2 = Aux(Auxv.HwCap2), Secure = Aux(Auxv.Secure),
        };
        var space = new VmaSet(AddressSpaceLayout.LinuxX8664);
        var stack = new byte[(int)AddressSpaceLayout.PageAlign(InitialStack.RequiredBytes(input, AddressSpaceLayout.LinuxX8664.StackLimit))];
        Assert.Equal(0, ProgramLoader.Load(space, image, 7, input, stack, out ProgramStart start));
        return (start, space, stack);
    }

    private static readonly Dictionary<string, string> Environment_ = new() { ["HOME"] = "/home/tessera", ["LANG"] = "C", ["X"] = "a b  c" };

    [Fact]
    public void MuslStaticStackIsByteForByteWhatLinuxBuilds()
    {
        string program = HostPrograms.MuslStatic("dump-musl", Dumper);
        string[] args = ["x", "two words", ""];
        var host = RunOnHost(program, args, Environment_);
        Assert.Equal(AddressSpaceLayout.LinuxX8664.StackTop, host.Top); // setarch -R: no randomisation

        // The auxv between the architecture's entries is exactly ours, in our order.
        ulong[] middle = host.Auxv.SkipWhile(a => a.Type != Auxv.HwCap).TakeWhile(a => a.Type != Auxv.Platform).Select(a => a.Type).Append(Auxv.Platform).ToArray();
        Assert.Equal([Auxv.HwCap, Auxv.PageSize, Auxv.ClockTick, Auxv.Phdr, Auxv.Phent, Auxv.Phnum, Auxv.Base, Auxv.Flags, Auxv.Entry,
            Auxv.Uid, Auxv.Euid, Auxv.Gid, Auxv.Egid, Auxv.Secure, Auxv.Random, Auxv.HwCap2, Auxv.ExecFn, Auxv.Platform], middle);

        var (start, _, stack) = LoadLikeTheHost(program, args, host);
        Assert.Equal(host.Rsp, start.StackPointer);
        byte[] ours = stack.AsSpan(stack.Length - (int)(host.Top - start.StackPointer)).ToArray();
        Assert.Equal(Convert.ToHexString(host.Stack), Convert.ToHexString(ours));
    }

    /// <summary>/proc/self/maps lines, without the kernel's own [vvar], [vdso], [vsyscall] pages.</summary>
    private static List<string> HostAreas(HostRun host) => host.Maps
        .Where(l => !l.Contains("[vvar") && !l.Contains("[vdso]") && !l.Contains("[vsyscall]"))
        .Select(l =>
        {
            var p = l.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            string what = p.Length > 5 ? (p[5].StartsWith('[') ? p[5] : "file") : "anon";
            return $"{p[0]} {p[1][..3]} {(what == "file" ? p[2] : "0")} {what}";
        })
        .ToList();

    private static List<string> OurAreas(VmaSet space, ProgramStart start)
    {
        var list = new List<string>();
        for (int i = 0; i < space.Count; i++)
        {
            Vma v = space[i];
            string perms = ((v.Protection & Prot.Read) != 0 ? "r" : "-") + ((v.Protection & Prot.Write) != 0 ? "w" : "-") + ((v.Protection & Prot.Exec) != 0 ? "x" : "-");
            string what = v.Kind switch { VmaKind.File => "file", VmaKind.Stack => "[stack]", VmaKind.Heap => "[heap]", _ => "anon" };
            list.Add($"{v.Start:x8}-{v.End:x8} {perms} {(v.Kind == VmaKind.File ? v.FileOffset.ToString("x8") : "0")} {what}");
        }
        return list;
    }

    [Fact]
    public void MuslStaticAreasAreTheMapLinuxShows()
    {
        string program = HostPrograms.MuslStatic("dump-musl", Dumper);
        string[] args = ["maps"];
        var host = RunOnHost(program, args, Environment_);
        var (start, space, _) = LoadLikeTheHost(program, args, host);
        Assert.Equal(HostAreas(host), OurAreas(space, start));
    }

    [Fact]
    public void StaticPieLoadsWhereLinuxLoadsItAndItsHeapStartsWhereLinuxPutsIt()
    {
        // glibc changes its map before main (brk for TLS, mprotect of RELRO), so compare where
        // things are rather than the whole map: the load bias and the start of [heap].
        string program = HostPrograms.GlibcStaticPie("dump-spie", Dumper);
        string[] args = ["pie"];
        var host = RunOnHost(program, args, Environment_);
        var (start, space, _) = LoadLikeTheHost(program, args, host);
        Assert.Equal(host.Auxv.Single(a => a.Type == Auxv.Entry).Value, start.Entry);
        Assert.Equal(host.Auxv.Single(a => a.Type == Auxv.Phdr).Value, start.ProgramHeaderAddress);
        string heap = host.Maps.Single(l => l.EndsWith("[heap]"));
        Assert.Equal(ulong.Parse(heap[..heap.IndexOf('-')], NumberStyles.HexNumber), start.BrkStart);
        // The file-backed areas start where the host's do, with the same offsets.
        var hostFiles = HostAreas(host).Where(l => l.EndsWith(" file")).Select(l => l.Split(' ')).Select(p => (p[0].Split('-')[0], p[2])).ToList();
        var ourFiles = OurAreas(space, start).Where(l => l.EndsWith(" file")).Select(l => l.Split(' ')).Select(p => (p[0].Split('-')[0], p[2])).ToList();
        Assert.Subset(hostFiles.ToHashSet(), ourFiles.ToHashSet());
        Assert.Equal(host.Maps.Single(l => l.EndsWith("[stack]"))[..25], OurAreas(space, start).Single(l => l.EndsWith("[stack]"))[..25]);
    }
}
