using System.Text;
using FsCheck.Xunit;
using Tessera.Memory;
using Xunit;

namespace Tessera.Tests.Host.Memory;

/// <summary>
/// Random sequences of mmap, munmap, mprotect, mremap, brk and page misses on a 256-page
/// address space, run on VmaSet and on the page-by-page PageModel side by side. After every
/// call both must have returned the same thing and hold the same pages; the areas must be
/// sorted, page-aligned, non-overlapping and merged (no two adjacent areas that could be one),
/// i.e. exactly the canonical areas of the model's pages.
/// </summary>
public sealed class VmaSetModelTests
{
    private const ulong P = AddressSpaceLayout.PageSize;
    private static readonly AddressSpaceLayout L = VmaSetTests.Small;
    private static readonly ulong Pages = L.TaskSize / P;

    [Property(MaxTest = 120)]
    public void VmaSetAgreesWithThePageModel(int seed)
    {
        var random = new Random(seed);
        var set = new VmaSet(L, 4); // small start: exercises growth of the array too
        var model = new PageModel(L);
        var stack = new Vma { Start = L.StackTop - 4 * P, End = L.StackTop, Kind = VmaKind.Stack, Protection = Prot.Read | Prot.Write };
        Assert.Equal(0, set.MapArea(stack));
        model.MapArea(stack);
        set.InitBrk(0x20000);
        model.InitBrk(0x20000);
        var log = new StringBuilder();

        for (int step = 0; step < 250; step++)
        {
            string op;
            long got, want;
            switch (random.Next(100))
            {
                case < 30:
                {
                    ulong a = Address(random, set), len = Length(random);
                    int prot = ProtArg(random), flags = MmapFlags(random);
                    ulong file = (ulong)random.Next(1, 3);
                    ulong off = random.Next(10) == 0 ? (ulong)random.Next(1, 4096) : (ulong)random.Next(0, 11) * P;
                    op = $"mmap({a:x}, {len:x}, {prot:x}, {flags:x}, {file}, {off:x})";
                    got = set.Mmap(a, len, prot, flags, file, off);
                    want = model.Mmap(a, len, prot, flags, file, off);
                    break;
                }
                case < 45:
                {
                    ulong a = Address(random, set), len = Length(random);
                    op = $"munmap({a:x}, {len:x})";
                    got = set.Munmap(a, len);
                    want = model.Munmap(a, len);
                    break;
                }
                case < 60:
                {
                    ulong a = Address(random, set), len = Length(random);
                    int prot = ProtArg(random);
                    op = $"mprotect({a:x}, {len:x}, {prot:x})";
                    got = set.Mprotect(a, len, prot);
                    want = model.Mprotect(a, len, prot);
                    break;
                }
                case < 72:
                {
                    ulong a = Address(random, set), oldLen = Length(random), newLen = Length(random), to = Address(random, set);
                    int flags = random.Next(8) | (random.Next(30) == 0 ? 8 : 0);
                    if (random.Next(4) == 0) newLen = oldLen;
                    op = $"mremap({a:x}, {oldLen:x}, {newLen:x}, {flags}, {to:x})";
                    got = set.Mremap(a, oldLen, newLen, flags, to, out _);
                    want = model.Mremap(a, oldLen, newLen, flags, to);
                    break;
                }
                case < 85:
                {
                    ulong b = random.Next(10) == 0 ? 0 : (ulong)(0x20000 + random.Next(-2, 40) * (long)P + random.Next(0, 2) * random.Next(1, 4096));
                    op = $"brk({b:x})";
                    got = (long)set.Brk(b);
                    want = (long)model.DoBrk(b);
                    break;
                }
                default:
                {
                    ulong a = (ulong)random.Next(0, (int)(Pages + 4)) * P + (ulong)random.Next(0, 4096);
                    var access = (FaultAccess)random.Next(3);
                    op = $"fault({a:x}, {access})";
                    got = (long)set.CheckFault(a, access, out _);
                    want = (long)model.CheckFault(a, access);
                    break;
                }
            }
            log.Append(op).Append(" = ").Append(got.ToString("x")).Append('\n');
            if (got != want) Assert.Fail($"seed {seed}: {op} returned {got:x}, model {want:x}\n{log}");
            CheckSameAreas(set, model, seed, log);
        }
    }

    private static void CheckSameAreas(VmaSet set, PageModel model, int seed, StringBuilder log)
    {
        var expected = model.Areas();
        var actual = new List<Vma>();
        for (int i = 0; i < set.Count; i++)
        {
            Vma v = set[i];
            Assert.True(v.Start < v.End && v.Start % P == 0 && v.End % P == 0, $"seed {seed}: bad area {v.Start:x}-{v.End:x}");
            if (i > 0)
            {
                Assert.True(set[i - 1].End <= v.Start, $"seed {seed}: areas overlap or are out of order\n{log}");
                Assert.False(set[i - 1].CanMergeWith(v), $"seed {seed}: unmerged neighbours at {v.Start:x}\n{log}");
            }
            if (v.Kind != VmaKind.File) { v.FileId = 0; v.FileOffset = 0; v.FileEnd = 0; }
            actual.Add(v);
        }
        if (!expected.SequenceEqual(actual))
            Assert.Fail($"seed {seed}: areas differ\nset:   {Show(actual)}\nmodel: {Show(expected)}\n{log}");
        Assert.Equal(model.Brk, set.CurrentBrk);
    }

    private static string Show(List<Vma> areas) =>
        string.Join(" ", areas.Select(a => $"[{a.Start:x}-{a.End:x} {a.Protection} {a.Kind}{(a.Kind == VmaKind.File ? $" f{a.FileId}@{a.FileOffset:x}" : "")}{(a.IsShared ? " s" : "")}]"));

    private static ulong Address(Random r, VmaSet set)
    {
        int pick = r.Next(100);
        if (pick < 10) return 0;
        if (pick < 20 && set.Count > 0) return set[r.Next(set.Count)].Start;
        if (pick < 27) return (ulong)r.Next(0, (int)Pages) * P + (ulong)r.Next(1, 4096);
        return (ulong)r.Next(0, (int)Pages + 8) * P;
    }

    private static ulong Length(Random r)
    {
        int pick = r.Next(100);
        if (pick < 4) return 0;
        if (pick < 8) return ulong.MaxValue - (ulong)r.Next(0, 10000);
        if (pick < 18) return (ulong)r.Next(1, 50000);
        return (ulong)r.Next(1, 13) * P;
    }

    private static int ProtArg(Random r)
    {
        int prot = r.Next(8);
        int pick = r.Next(40);
        if (pick == 0) prot |= 0x10;
        else if (pick == 1) prot |= Prot.GrowsDown;
        else if (pick == 2) prot |= Prot.Sem;
        return prot;
    }

    private static int MmapFlags(Random r)
    {
        int[] types = [MapFlags.Private, MapFlags.Private, MapFlags.Private, MapFlags.Private, MapFlags.Shared, MapFlags.SharedValidate, 0];
        int flags = types[r.Next(types.Length)];
        if (r.Next(10) < 7) flags |= MapFlags.Anonymous;
        if (r.Next(10) < 3) flags |= MapFlags.Fixed;
        if (r.Next(10) == 0) flags |= MapFlags.FixedNoReplace;
        if (r.Next(20) == 0) flags |= MapFlags.GrowsDown;
        if (r.Next(50) == 0) flags |= MapFlags.Below2G;
        if (r.Next(30) == 0) flags |= 0x200000;
        return flags;
    }
}
