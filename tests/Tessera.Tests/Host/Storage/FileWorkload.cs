using Tessera.Core.Rpc;

namespace Tessera.Tests.Host.Storage;

/// <summary>One step of a workload: applied to an implementation, it answers with a text to compare.</summary>
public sealed record FileOp(string Text, Func<IFilesUnderTest, string> Apply)
{
    public override string ToString() => Text;
}

/// <summary>
/// Sequences of file operations run on two implementations side by side (FileWorkload.Compare):
/// a scripted one that walks through every call and its common errors, and random ones from a
/// seed over a small name space, so names collide, directories fill and empty, files are
/// renamed over and unlinked while open.
/// </summary>
public static class FileWorkload
{
    public const uint O_RDONLY = FileProtocol.O_RDONLY, O_WRONLY = FileProtocol.O_WRONLY, O_RDWR = FileProtocol.O_RDWR,
        O_CREAT = FileProtocol.O_CREAT, O_EXCL = FileProtocol.O_EXCL, O_TRUNC = FileProtocol.O_TRUNC,
        O_APPEND = FileProtocol.O_APPEND, O_DIRECTORY = FileProtocol.O_DIRECTORY, O_NOFOLLOW = FileProtocol.O_NOFOLLOW;

    /// <summary>Deterministic bytes: the same (seed, length) gives the same data on both sides.</summary>
    public static byte[] Data(int seed, int length)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private static string R(int r) => r.ToString();

    public static FileOp Mkdir(string p, uint mode = 0x1ED) => new($"mkdir {p} {Convert.ToString(mode, 8)}", f => R(f.Mkdir(p, mode)));
    public static FileOp Rmdir(string p) => new($"rmdir {p}", f => R(f.Rmdir(p)));
    public static FileOp Unlink(string p) => new($"unlink {p}", f => R(f.Unlink(p)));
    public static FileOp Open(int slot, string p, uint flags, uint mode = 0x1A4) => new($"open[{slot}] {p} flags={flags:x}", f => R(f.Open(slot, p, flags, mode)));
    public static FileOp Close(int slot) => new($"close[{slot}]", f => R(f.Close(slot)));
    public static FileOp Write(int slot, long offset, int length, int seed) => new($"pwrite[{slot}] @{offset} {length}", f => R(f.Write(slot, offset, Data(seed, length))));
    public static FileOp Read(int slot, long offset, int count) => new($"pread[{slot}] @{offset} {count}", f => f.Read(slot, offset, count));
    public static FileOp Truncate(string p, long length) => new($"truncate {p} {length}", f => R(f.Truncate(p, length)));
    public static FileOp Ftruncate(int slot, long length) => new($"ftruncate[{slot}] {length}", f => R(f.Ftruncate(slot, length)));
    public static FileOp Rename(string a, string b, uint flags = 0) => new($"rename {a} {b} {flags}", f => R(f.Rename(a, b, flags)));
    public static FileOp Symlink(string target, string p) => new($"symlink {target} {p}", f => R(f.Symlink(target, p)));
    public static FileOp Link(string a, string b) => new($"link {a} {b}", f => R(f.Link(a, b)));
    public static FileOp Readlink(string p) => new($"readlink {p}", f => f.Readlink(p));
    public static FileOp Stat(string p, bool follow = true) => new($"{(follow ? "stat" : "lstat")} {p}", f => f.Stat(p, follow));
    public static FileOp Fstat(int slot) => new($"fstat[{slot}]", f => f.Fstat(slot));
    public static FileOp Access(string p, uint mode) => new($"access {p} {mode}", f => R(f.Access(p, mode)));
    public static FileOp Fsync(int slot) => new($"fsync[{slot}]", f => R(f.Fsync(slot)));
    public static FileOp List(string p) => new($"list {p}", f => f.List(p));

    /// <summary>Every call once or more, with the errors programs meet most.</summary>
    public static List<FileOp> Scripted() =>
    [
        Mkdir("/docs"), Mkdir("/docs"), Mkdir("/docs/notes/deeper"), Mkdir("/docs/notes"), Mkdir("/docs/notes/deeper", 0x1C0),
        Open(0, "/docs/readme.txt", O_WRONLY | O_CREAT | O_EXCL), Write(0, 0, 1000, 1), Write(0, 1000, 20_000, 2), Fsync(0), Fstat(0), Close(0),
        Open(1, "/docs/readme.txt", O_WRONLY | O_CREAT | O_EXCL), Open(1, "/docs/readme.txt", O_RDONLY), Read(1, 0, 21_000), Read(1, 500, 9000),
        Read(1, 30_000, 10), Write(1, 0, 10, 3), Ftruncate(1, 5), Close(1), Close(1),
        Open(2, "/docs/readme.txt", O_RDWR | O_APPEND), Write(2, 0, 333, 4), Read(2, 20_900, 1000), Fstat(2),
        Open(3, "/docs/readme.txt", O_RDWR | O_TRUNC), Fstat(2), Write(3, 100, 50, 5), Read(2, 0, 200), Close(3), Close(2),
        Open(4, "/docs", O_RDONLY | O_DIRECTORY), Fstat(4), Read(4, 0, 10), Write(4, 0, 1, 1), Close(4),
        Open(4, "/docs", O_RDWR), Open(4, "/docs/readme.txt", O_RDONLY | O_DIRECTORY), Open(4, "/nothing/here", O_RDONLY),
        Open(4, "/docs/readme.txt/x", O_RDONLY), Open(4, "/docs/new/", O_WRONLY | O_CREAT),
        Stat("/docs"), Stat("/docs/readme.txt"), Stat("/docs/none"), Stat("/"), Stat("/docs/readme.txt/"),
        Truncate("/docs/readme.txt", 100_000), Stat("/docs/readme.txt"), Truncate("/docs", 0), Truncate("/docs/none", 0),
        Symlink("readme.txt", "/docs/link"), Symlink("x", "/docs/link"), Readlink("/docs/link"), Readlink("/docs/readme.txt"),
        Stat("/docs/link"), Stat("/docs/link", false), Open(5, "/docs/link", O_RDONLY), Read(5, 99_990, 100), Close(5),
        Open(5, "/docs/link", O_RDONLY | O_NOFOLLOW), Symlink("/nowhere/at/all", "/dangling"), Stat("/dangling"), Stat("/dangling", false),
        Symlink(new string('s', 200), "/long-link"), Readlink("/long-link"), Stat("/long-link", false),
        Link("/docs/readme.txt", "/hard"), Stat("/hard"), Stat("/docs/readme.txt"), Link("/docs", "/dirlink"), Link("/none", "/x"),
        Link("/docs/readme.txt", "/hard"),
        Access("/docs/readme.txt", 4 | 2), Access("/docs/readme.txt", 1), Access("/docs", 1), Access("/missing", 0),
        List("/"), List("/docs"), List("/docs/readme.txt"), List("/missing"),
        Rename("/docs/readme.txt", "/docs/notes/moved.txt"), Rename("/docs/readme.txt", "/x"), Rename("/hard", "/docs/notes/moved.txt"),
        Stat("/docs/notes/moved.txt"), Rename("/docs/notes", "/notes"), Rename("/notes", "/notes/deeper/inside"),
        Rename("/notes/deeper", "/docs"), Rename("/docs", "/notes/deeper"), Mkdir("/empty"), Rename("/empty", "/notes/deeper"),
        Rename("/notes/moved.txt", "/notes/deeper"), Rename("/notes/deeper", "/notes/moved.txt"),
        Open(0, "/a", O_WRONLY | O_CREAT), Write(0, 0, 10, 6), Close(0), Open(0, "/b", O_WRONLY | O_CREAT), Close(0),
        Rename("/a", "/b", 1), Rename("/a", "/b"), Stat("/a"), Stat("/b"),
        Unlink("/docs"), Unlink("/b/"), Unlink("/b"), Unlink("/b"), Rmdir("/notes"), Rmdir("/notes/deeper/."), Rmdir("/notes/moved.txt"),
        Open(6, "/notes/moved.txt", O_RDWR), Unlink("/notes/moved.txt"), Stat("/notes/moved.txt"), Fstat(6), Read(6, 0, 50),
        Write(6, 50, 4000, 7), Read(6, 0, 5000), Close(6),
        Rmdir("/notes/deeper"), Rmdir("/notes"), List("/"),
        Open(7, "/big", O_RDWR | O_CREAT | O_TRUNC), Write(7, 0, 300_000, 8), Write(7, 5_000_000, 1234, 9), Read(7, 299_000, 2000),
        Read(7, 4_999_999, 5000), Fstat(7), Ftruncate(7, 70_001), Read(7, 69_000, 5000), Write(7, 0, 0, 1), Close(7),
        List("/"), Stat("/big"),
        // A file unlinked while open lives on until its last close.
        Open(0, "/orphan", O_RDWR | O_CREAT | O_EXCL), Open(1, "/orphan", O_RDONLY), Write(0, 0, 50_000, 10), Unlink("/orphan"),
        Stat("/orphan"), Fstat(0), Read(1, 0, 50_000), Write(0, 50_000, 3000, 11), Close(0), Fstat(1), Read(1, 40_000, 20_000), Close(1),
        Open(0, "/orphan", O_RDONLY), List("/"),
    ];

    private static readonly string[] Components = ["a", "b", "c", "dir", "x"];

    private static string RandomPath(Random random)
    {
        int depth = random.Next(1, 4);
        return "/" + string.Join('/', Enumerable.Range(0, depth).Select(_ => Components[random.Next(Components.Length)]));
    }

    /// <summary>A random workload of count steps from seed, over a few names three levels deep.</summary>
    public static List<FileOp> Random(int seed, int count)
    {
        var random = new Random(seed);
        var ops = new List<FileOp>();
        uint[] accesses = [O_RDONLY, O_WRONLY, O_RDWR];
        for (int i = 0; i < count; i++)
        {
            string p = RandomPath(random), q = RandomPath(random);
            int slot = random.Next(IFilesUnderTest.Slots);
            int choice = random.Next(100);
            FileOp op = choice switch
            {
                < 10 => Mkdir(p, random.Next(2) == 0 ? 0x1ED : 0x1C0u),
                < 14 => Rmdir(p),
                < 20 => Unlink(p),
                < 34 => Open(slot, p, accesses[random.Next(3)] | (random.Next(3) > 0 ? O_CREAT : 0) | (random.Next(4) == 0 ? O_EXCL : 0)
                    | (random.Next(4) == 0 ? O_TRUNC : 0) | (random.Next(5) == 0 ? O_APPEND : 0) | (random.Next(10) == 0 ? O_DIRECTORY : 0),
                    random.Next(2) == 0 ? 0x1A4 : 0x180u),
                < 40 => Close(slot),
                < 54 => Write(slot, random.Next(4) == 0 ? random.Next(200_000) : random.Next(20_000), random.Next(4) == 0 ? random.Next(30_000) : random.Next(3000), random.Next()),
                < 62 => Read(slot, random.Next(40_000), random.Next(20_000)),
                < 65 => Truncate(p, random.Next(50_000)),
                < 68 => Ftruncate(slot, random.Next(50_000)),
                < 76 => Rename(p, q, random.Next(5) == 0 ? 1u : 0),
                < 79 => Symlink(Components[random.Next(Components.Length)], p),
                < 82 => Link(p, q),
                < 84 => Readlink(p),
                < 90 => Stat(p, random.Next(2) == 0),
                < 93 => Fstat(slot),
                < 95 => Access(p, (uint)random.Next(8)),
                < 96 => Fsync(slot),
                _ => List(random.Next(3) == 0 ? "/" : p),
            };
            ops.Add(op);
        }
        return ops;
    }

    /// <summary>Runs ops on both; returns the first difference ("" when none), and a log of every step.</summary>
    public static string Compare(IEnumerable<FileOp> ops, IFilesUnderTest expected, IFilesUnderTest actual, List<string>? log = null)
    {
        int step = 0;
        foreach (var op in ops)
        {
            string want = op.Apply(expected);
            string got = op.Apply(actual);
            log?.Add($"{step}: {op} -> {got}");
            if (want != got) return $"step {step}: {op}: {expected.Name} says {want}, {actual.Name} says {got}";
            step++;
        }
        return "";
    }
}
