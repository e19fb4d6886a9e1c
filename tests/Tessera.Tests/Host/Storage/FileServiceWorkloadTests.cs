using Xunit;
using Xunit.Abstractions;

namespace Tessera.Tests.Host.Storage;

/// <summary>
/// The storage component's file service (kernel/Storage/FileService.cs, compiled for the host)
/// against the host's Linux: the same workload runs on an ext2 image made by mke2fs, through
/// the file protocol, and on a scratch folder through glibc. Every call must answer the same
/// (results, errno values, bytes read, stat fields), the image must then hold exactly the
/// folder's tree (unpacked by debugfs) and pass e2fsck -fn.
/// </summary>
public sealed class FileServiceWorkloadTests(ITestOutputHelper output)
{
    private async Task RunAndCompare(List<FileOp> ops, long size = 32L << 20, int blockSize = 1024)
    {
        using var volume = await ServedVolume.CreateAsync(size, blockSize);
        var log = new List<string>();
        string difference;
        using (var host = new HostFiles(volume.HostRoot))
        {
            var tessera = new TesseraFiles(volume.Client, LinuxFiles.Umask());
            difference = FileWorkload.Compare(ops, host, tessera, log);
            tessera.CloseAll();
        }
        if (difference.Length > 0) foreach (var line in log.TakeLast(40)) output.WriteLine(line);
        Assert.True(difference.Length == 0, difference);
        await volume.UnmountAndCheckAsync();
        await TreeComparison.AssertImageMatchesAsync(volume.Scratch.Image, volume.HostRoot, Path.Combine(volume.Scratch.Folder, "unpacked"));
    }

    [Fact]
    public Task TheScriptedWorkloadAnswersAsLinuxDoes() => RunAndCompare(FileWorkload.Scripted());

    [Fact]
    public Task TheScriptedWorkloadOn4KiBBlocks() => RunAndCompare(FileWorkload.Scripted(), 64L << 20, 4096);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public Task RandomWorkloadsAnswerAsLinuxDoes(int seed) => RunAndCompare(FileWorkload.Random(seed, 600));
}
