using FsCheck.Xunit;
using Tessera.Tools.Bench;
using Tessera.Tools.Build;
using Xunit;

namespace Tessera.Tests.Host.Bench;

/// <summary>
/// Getting the PVH vmlinux out of a bzImage: finding the XZ magic, and decompressing the one
/// stream that holds an ELF while skipping chance matches and ignoring the bytes after it.
/// Checked on synthetic images built here (the real kernel is only fetched by the benchmark).
/// </summary>
public sealed class BzImageTests
{
    private static readonly byte[] Magic = [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00];

    [Fact]
    public void FindsEveryMagicAndNothingElse()
    {
        var image = new byte[200];
        Magic.CopyTo(image, 0);
        Magic.CopyTo(image, 50);
        // Five of six bytes, then a wrong sixth: not a match.
        Magic.AsSpan(0, 5).CopyTo(image.AsSpan(100));
        image[105] = 0x01;
        Magic.CopyTo(image, image.Length - Magic.Length);   // flush with the end
        Assert.Equal([0, 50, 194], BzImage.FindXzStreamOffsets(image));
    }

    [Fact]
    public void AMagicCutOffByTheEndIsNotFound()
    {
        var image = new byte[10];
        Magic.AsSpan(0, 4).CopyTo(image.AsSpan(6));
        Assert.Empty(BzImage.FindXzStreamOffsets(image));
        Assert.Empty(BzImage.FindXzStreamOffsets([]));
    }

    [Property(MaxTest = 300)]
    public bool AMagicPlantedAnywhereIsFound(byte[] noise, byte position)
    {
        noise ??= [];
        int at = noise.Length == 0 ? 0 : position % (noise.Length + 1);
        byte[] image = [.. noise[..at], .. Magic, .. noise[at..]];
        var found = BzImage.FindXzStreamOffsets(image);
        // Everything reported really is a magic, in increasing order, and the planted one is among them.
        return found.Contains(at) && found.SequenceEqual(found.Order()) && found.All(o => image.AsSpan(o, Magic.Length).SequenceEqual(Magic));
    }

    [Fact]
    public async Task ExtractsTheElfStreamPastADecoyAndDespiteTrailingBytes()
    {
        var random = new Random(11);
        byte[] elf = [0x7F, (byte)'E', (byte)'L', (byte)'F', .. RandomBytes(random, 70_000)];
        byte[] notElf = [.. RandomBytes(random, 3000)];
        notElf[0] = 0;   // a valid XZ stream whose content is not an ELF: must be skipped
        byte[] image =
        [
            .. RandomBytes(random, 1234),       // the real-mode setup and decompressor
            .. Magic, 1, 2, 3,                  // a chance match that is no stream
            .. await Compress(notElf),
            .. await Compress(elf),
            .. RandomBytes(random, 777),        // what follows the payload in a bzImage
        ];

        string dir = Directory.CreateTempSubdirectory("tessera-bzimage-").FullName;
        try
        {
            string bzImage = Path.Combine(dir, "vmlinuz"), vmlinux = Path.Combine(dir, "vmlinux");
            await File.WriteAllBytesAsync(bzImage, image);
            await BzImage.ExtractVmlinuxAsync(bzImage, vmlinux);
            Assert.Equal(elf, await File.ReadAllBytesAsync(vmlinux));
            Assert.False(File.Exists(vmlinux + ".partial"));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task AnImageWithoutAnElfStreamIsAnError()
    {
        string dir = Directory.CreateTempSubdirectory("tessera-bzimage-").FullName;
        try
        {
            string bzImage = Path.Combine(dir, "vmlinuz");
            await File.WriteAllBytesAsync(bzImage, [.. new byte[100], .. await Compress([1, 2, 3, 4, 5])]);
            await Assert.ThrowsAsync<BuildException>(() => BzImage.ExtractVmlinuxAsync(bzImage, Path.Combine(dir, "vmlinux")));
            Assert.False(File.Exists(Path.Combine(dir, "vmlinux")));
        }
        finally { Directory.Delete(dir, true); }
    }

    private static byte[] RandomBytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    private static async Task<byte[]> Compress(byte[] data)
    {
        var xz = await HostProcess.RunAsync("xz", data, "--compress", "--stdout", "--format=xz");
        Assert.True(xz.ExitCode == 0, xz.Stderr);
        return xz.Stdout;
    }
}
