using Tessera.Storage;
using Tessera.Tools;
using Tessera.Tools.Qemu;
using Xunit;
using Xunit.Abstractions;

namespace Tessera.Tests.Boot;

/// <summary>
/// The storage image's virtio-blk driver on a scratch raw disk: the host patterns a few
/// sectors, boots with `selftest blk-selftest`, and after the run reads the image back and
/// compares every byte with what the kernel's self-tests document writing
/// (kernel/Storage/SelfTests/BlkTestLayout.cs). A read-only disk must come back unchanged;
/// no disk is a warning, not a failure.
/// </summary>
public sealed class VirtioBlkTests(ITestOutputHelper output)
{
    private const int SectorSize = BlkTestLayout.SectorSize;
    private const string Serial = "tessera-scratch";

    [Theory]
    [InlineData(32768, "16 MiB")]
    [InlineData(10243, "5 MiB")] // not a whole number of anything: the middle and last sectors are odd
    public async Task TheKernelWritesExactlyItsDocumentedSectors(int sectors, string size)
    {
        using var disk = ScratchDisk.Create($"blk-rw-{sectors}", sectors);
        var run = await Vm.RunToExitAsync(Options(disk.Path, readOnly: false), $"blk-rw-{sectors}", output);

        BootTests.AssertSelfTestRun("storage", run, BootTests.BlkSelfTests);
        string line = Assert.Single(run.Lines, l => l.Contains("info: blk: "));
        Assert.Matches($@"info: blk: virtio-blk {size} \({sectors} sectors of 512 B\), version-1 flush seg-max=\d+ blk-size=512, \d+ requests of 64 KiB in flight$", line);

        byte[] expected = HostImage((ulong)sectors);
        ApplyKernelWrites(expected, (ulong)sectors);
        AssertImage(expected, File.ReadAllBytes(disk.Path));
        disk.Keep = false;
    }

    [Fact]
    public async Task AReadOnlyDiskRefusesWritesAndStaysUnchanged()
    {
        const int sectors = 16384;
        using var disk = ScratchDisk.Create("blk-ro", sectors);
        var run = await Vm.RunToExitAsync(Options(disk.Path, readOnly: true), "blk-ro", output);

        BootTests.AssertSelfTestRun("storage", run, BootTests.BlkReadOnlySelfTests);
        string line = Assert.Single(run.Lines, l => l.Contains("info: blk: "));
        Assert.Contains("(16384 sectors of 512 B), version-1 flush ro ", line);
        AssertImage(HostImage(sectors), File.ReadAllBytes(disk.Path));
        disk.Keep = false;
    }

    [Fact]
    public async Task WithoutADiskTheStorageImageWarnsAndStillPasses()
    {
        var run = await Vm.RunToExitAsync(new QemuOptions { Kind = "storage", Append = "selftest" }, "blk-none", output);
        BootTests.AssertSelfTestRun("storage", run);
        Assert.Contains(run.Lines, l => l.Contains("warn: blk: no virtio-blk device") && l.EndsWith("running without a disk"));
        Assert.DoesNotContain(run.Lines, l => l.Contains("info: blk: "));
    }

    [Fact]
    public async Task AskingForDiskTestsWithoutADiskFails()
    {
        var run = await Vm.RunToExitAsync(new QemuOptions { Kind = "storage", Append = "selftest blk-selftest" }, "blk-missing", output);
        Assert.Contains("selftest: blk.device ... FAILED (no virtio-blk disk)", run.Lines);
        Assert.Contains($"selftest: {BootTests.CoreSelfTests.Length + BootTests.ComponentSelfTests["storage"].Length} passed, {BootTests.BlkSelfTests.Length} failed", run.Lines);
        Assert.Equal(QemuExit.Fail, run.ExitCode);
    }

    private static QemuOptions Options(string image, bool readOnly) => new()
    {
        Kind = "storage",
        Append = $"selftest blk-selftest blk-expect-id={Serial}",
        ExtraArguments =
        [
            "-drive", $"if=none,id=d0,file={image},format=raw{(readOnly ? ",readonly=on" : "")}",
            "-device", $"virtio-blk-pci,drive=d0,disable-legacy=on,serial={Serial}",
        ],
    };

    /// <summary>The image as the host makes it: zeros, and the host pattern in BlkTestLayout's host sectors.</summary>
    private static byte[] HostImage(ulong sectors)
    {
        var image = new byte[sectors * SectorSize];
        for (int i = 0; i < BlkTestLayout.HostSectorCount; i++)
            Pattern(image, BlkTestLayout.HostSector(sectors, i), 1, BlkPatternOrigin.Host);
        return image;
    }

    /// <summary>What the kernel's writing self-tests put on the disk, as BlkTestLayout documents it.</summary>
    private static void ApplyKernelWrites(byte[] image, ulong sectors)
    {
        for (int i = 0; i < BlkTestLayout.EndSectorCount; i++)
            Pattern(image, BlkTestLayout.EndSector(sectors, i), 1, BlkPatternOrigin.Kernel);
        for (int b = 0; b < BlkTestLayout.InFlightBlocks; b++)
            Pattern(image, BlkTestLayout.InFlightSector(b), BlkTestLayout.InFlightBlockSectors, BlkPatternOrigin.Kernel);
        Pattern(image, BlkTestLayout.LargeStart, BlkTestLayout.LargeSectors, BlkPatternOrigin.Kernel);
    }

    private static void Pattern(byte[] image, ulong first, int count, BlkPatternOrigin origin) =>
        BlkTestLayout.FillRun(image.AsSpan(checked((int)first * SectorSize), count * SectorSize), first, origin);

    private static void AssertImage(byte[] expected, byte[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        var wrong = new List<long>();
        for (long s = 0; s < expected.Length / SectorSize; s++)
            if (!expected.AsSpan((int)(s * SectorSize), SectorSize).SequenceEqual(actual.AsSpan((int)(s * SectorSize), SectorSize)))
                wrong.Add(s);
        Assert.True(wrong.Count == 0, $"{wrong.Count} sectors differ from the documented layout, first {string.Join(", ", wrong.Take(10))}");
    }

    /// <summary>A raw disk image under out/test-logs, kept after a failing test for inspection.</summary>
    private sealed class ScratchDisk : IDisposable
    {
        public required string Path { get; init; }
        public bool Keep { get; set; } = true;

        public static ScratchDisk Create(string name, long sectors)
        {
            string path = Vm.LogPath(name) + ".img";
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, HostImage((ulong)sectors));
            return new ScratchDisk { Path = path };
        }

        public void Dispose()
        {
            if (!Keep) File.Delete(Path);
        }
    }
}
