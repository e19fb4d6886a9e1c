using Tessera.Storage.Ext2;
using Xunit;

namespace Tessera.Tests.Host.Ext2;

/// <summary>
/// A scratch folder holding one ext2 image (made by mke2fs in the test) and, optionally, the
/// source folder it was populated from. Deleted on dispose.
/// </summary>
public sealed class Ext2Scratch : IDisposable
{
    public readonly string Folder;
    public string Image => Path.Combine(Folder, "disk.img");
    public string Source => Path.Combine(Folder, "source");
    private readonly List<ImageFileDevice> _devices = [];

    public Ext2Scratch()
    {
        Folder = Path.Combine(Path.GetTempPath(), "tessera-ext2-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Source);
    }

    public Task MakeAsync(long sizeBytes, int blockSize, bool populate = false, string? features = null, int? inodes = null, int? inodeSize = null, string type = "ext2", string[]? extra = null) =>
        E2fsprogs.MakeAsync(Image, sizeBytes, blockSize, populate ? Source : null, features, inodes, inodeSize, type, extra);

    public ImageFileDevice Device()
    {
        var device = new ImageFileDevice(Image);
        _devices.Add(device);
        return device;
    }

    /// <summary>Mounts the image (asserting success) on a fresh device.</summary>
    public Ext2FileSystem Mount(bool readOnly = false) => Mount(Device(), readOnly);

    public static Ext2FileSystem Mount(Tessera.Storage.BlockDevice device, bool readOnly = false)
    {
        int r = Ext2FileSystem.Mount(device, new TestClock(), readOnly, out Ext2FileSystem? fs, out string reason);
        Assert.True(r == 0, $"mount failed ({r}): {reason}");
        return fs!;
    }

    /// <summary>Unmounts and asserts e2fsck -fn finds the image clean.</summary>
    public async Task UnmountAndCheckAsync(Ext2FileSystem fs)
    {
        Assert.Equal(0, fs.Unmount());
        Assert.Equal(0, fs.CorruptionsFound);
        await AssertCleanAsync();
    }

    public async Task AssertCleanAsync()
    {
        var check = await E2fsprogs.CheckAsync(Image);
        Assert.True(check.ExitCode == 0, $"e2fsck -fn exit {check.ExitCode}:\n{check.Output}");
    }

    public void Dispose()
    {
        foreach (var d in _devices) d.Dispose();
        try { Directory.Delete(Folder, true); } catch (IOException) { }
    }
}
