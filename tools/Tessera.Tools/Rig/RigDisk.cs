using CliWrap;
using CliWrap.Buffered;

namespace Tessera.Tools.Rig;

/// <summary>
/// The storage component's disk in a rig: a raw image holding an ext2 file system made by
/// mke2fs (e2fsprogs), optionally filled from a host folder (`mke2fs -d`), attached to the
/// storage VM as a virtio-blk device. After the run e2fsck -fn judges it. The feature set is
/// given in full rather than taken from the host's /etc/mke2fs.conf, so every host makes the
/// same kind of image (docs/storage-service.md):
///   sparse_super  superblock backups only in groups 0, 1 and powers of 3, 5, 7
///   large_file    files of 2 GiB and more (i_size_high)
///   filetype      directory entries carry the file type (getdents64's d_type)
///   resize_inode  blocks reserved for growing the descriptor table (never touched)
///   dir_index     hashed directories (read and written as linear ones)
///   ext_attr      extended-attribute blocks (kept, released with their inode)
/// 4 KiB blocks, 256-byte inodes, one inode per 16 KiB, label "tessera", root owned by 0:0.
/// </summary>
public static class RigDisk
{
    public const string Features = "none,sparse_super,large_file,filetype,resize_inode,dir_index,ext_attr";
    public const long DefaultBytes = 64L << 20;
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    /// <summary>The mke2fs arguments for an image of bytes, filled from folder when given.</summary>
    public static List<string> MakeArguments(string image, long bytes, string? folder)
    {
        var args = new List<string> { "-q", "-F", "-t", "ext2", "-O", Features, "-b", "4096", "-I", "256", "-i", "16384", "-L", "tessera", "-E", "root_owner=0:0" };
        if (folder != null) { args.Add("-d"); args.Add(Path.GetFullPath(folder)); }
        args.Add(image);
        args.Add($"{bytes / 1024}k");
        return args;
    }

    /// <summary>Bytes for a disk holding folder: at least DefaultBytes, else twice the folder plus 16 MiB.</summary>
    public static long SizeFor(string? folder)
    {
        if (folder == null) return DefaultBytes;
        long content = new DirectoryInfo(folder).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
        long wanted = 2 * content + (16L << 20);
        return Math.Max(DefaultBytes, (wanted + (1 << 20) - 1) & ~((1L << 20) - 1));
    }

    /// <summary>Makes the image (replacing any file there).</summary>
    public static async Task CreateAsync(string image, string? folder, long bytes = 0)
    {
        if (folder != null && !Directory.Exists(folder)) throw new ArgumentException($"--files: no folder {folder}");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(image))!);
        if (File.Exists(image)) File.Delete(image);
        if (bytes == 0) bytes = SizeFor(folder);
        using var cts = new CancellationTokenSource(Timeout);
        var r = await Cli.Wrap(HostTools.Require("mke2fs")).WithArguments(MakeArguments(image, bytes, folder))
            .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(cts.Token).ConfigureAwait(false);
        if (r.ExitCode != 0) throw new InvalidOperationException($"mke2fs failed ({r.ExitCode}): {r.StandardOutput}{r.StandardError}");
    }

    public sealed record CheckResult(int ExitCode, string Output)
    {
        public bool Clean => ExitCode == 0;
    }

    /// <summary>e2fsck -fn: a forced full check that changes nothing. Exit 0 means clean.</summary>
    public static async Task<CheckResult> CheckAsync(string image)
    {
        using var cts = new CancellationTokenSource(Timeout);
        var r = await Cli.Wrap(HostTools.Require("e2fsck")).WithArguments(["-fn", image])
            .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(cts.Token);
        return new CheckResult(r.ExitCode, r.StandardOutput + r.StandardError);
    }
}
