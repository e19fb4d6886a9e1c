using Tessera.Tests.Host.Ext2;
using Xunit;

namespace Tessera.Tests.Host.Storage;

/// <summary>
/// What a disk image holds compared with a host folder, byte for byte: the image is unpacked
/// with debugfs `rdump` (e2fsprogs reading the image, not our code), then both trees are
/// walked: the same names, the same types, the same bytes in every file, the same symlink
/// targets. mke2fs's lost+found at the image's root is not compared.
/// </summary>
public static class TreeComparison
{
    public static async Task<string> UnpackAsync(string image, string destination)
    {
        if (Directory.Exists(destination)) Directory.Delete(destination, true);
        Directory.CreateDirectory(destination);
        var r = await E2fsprogs.DebugfsAsync(image, $"rdump / \"{destination}\"");
        Assert.True(r.ExitCode == 0, $"debugfs rdump failed: {r.Output}");
        return destination;
    }

    /// <summary>Every difference between the two trees, one per line ("" when they are the same).</summary>
    public static string Differences(string expected, string actual)
    {
        var lines = new List<string>();
        Compare(expected, actual, "/", lines, top: true);
        return string.Join('\n', lines);
    }

    public static async Task AssertImageMatchesAsync(string image, string hostFolder, string scratch)
    {
        string unpacked = await UnpackAsync(image, scratch);
        string differences = Differences(hostFolder, unpacked);
        Assert.True(differences.Length == 0, "the image differs from the host's folder:\n" + differences);
    }

    private static void Compare(string expected, string actual, string relative, List<string> lines, bool top)
    {
        var want = Entries(expected, top);
        var got = Entries(actual, top);
        foreach (var name in want.Keys.Except(got.Keys)) lines.Add($"{relative}{name}: missing in the image");
        foreach (var name in got.Keys.Except(want.Keys)) lines.Add($"{relative}{name}: in the image only");
        foreach (var name in want.Keys.Intersect(got.Keys).Order(StringComparer.Ordinal))
        {
            FileSystemInfo a = want[name], b = got[name];
            string path = relative + name;
            string ka = Kind(a), kb = Kind(b);
            if (ka != kb) { lines.Add($"{path}: {ka} on the host, {kb} in the image"); continue; }
            switch (ka)
            {
                case "symlink":
                    if (a.LinkTarget != b.LinkTarget) lines.Add($"{path}: points to {a.LinkTarget} on the host, {b.LinkTarget} in the image");
                    break;
                case "directory":
                    Compare(a.FullName, b.FullName, path + "/", lines, top: false);
                    break;
                default:
                    byte[] x = File.ReadAllBytes(a.FullName), y = File.ReadAllBytes(b.FullName);
                    if (!x.AsSpan().SequenceEqual(y))
                    {
                        int at = 0;
                        while (at < Math.Min(x.Length, y.Length) && x[at] == y[at]) at++;
                        lines.Add($"{path}: {x.Length} bytes on the host, {y.Length} in the image, first difference at byte {at}");
                    }
                    break;
            }
        }
    }

    private static string Kind(FileSystemInfo i) => i.LinkTarget != null ? "symlink" : i is DirectoryInfo ? "directory" : "file";

    private static Dictionary<string, FileSystemInfo> Entries(string folder, bool top) =>
        new DirectoryInfo(folder).EnumerateFileSystemInfos()
            .Where(i => !(top && i.Name == "lost+found"))
            .ToDictionary(i => i.Name, i => i, StringComparer.Ordinal);
}
