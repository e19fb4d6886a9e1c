using CliWrap;
using Tessera.Tools.Build;

namespace Tessera.Tools.Bench;

/// <summary>
/// Gets the uncompressed kernel (vmlinux) out of a Linux bzImage. A bzImage is a small
/// real-mode setup and decompressor followed by the compressed kernel ELF; Debian compresses
/// with XZ, so the payload is one XZ stream somewhere inside the file. The uncompressed
/// vmlinux carries a Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY), so QEMU's -kernel boots it
/// directly in 32-bit mode without the decompressor or the real-mode setup (DESIGN §7).
/// </summary>
public static class BzImage
{
    /// <summary>Start of every XZ stream: the header magic (XZ file format 1.0.4 §2.1.1.1).</summary>
    public static ReadOnlySpan<byte> XzMagic => [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00];

    /// <summary>ELF identification bytes (System V ABI, e_ident[EI_MAG0..3]).</summary>
    public static ReadOnlySpan<byte> ElfMagic => [0x7F, 0x45, 0x4C, 0x46];

    /// <summary>Every offset at which the XZ magic appears, in order. Candidates only: the same six
    /// bytes can also occur by chance inside code or compressed data.</summary>
    public static List<int> FindXzStreamOffsets(ReadOnlySpan<byte> image)
    {
        var offsets = new List<int>();
        int from = 0;
        while (from <= image.Length - XzMagic.Length)
        {
            int at = image[from..].IndexOf(XzMagic);
            if (at < 0) break;
            offsets.Add(from + at);
            from += at + 1;
        }
        return offsets;
    }

    /// <summary>
    /// Decompresses the first XZ stream in <paramref name="bzImagePath"/> whose content is an ELF
    /// file and writes it to <paramref name="vmlinuxPath"/>. `xz --single-stream` stops at the end
    /// of the stream and ignores what follows it (the rest of the bzImage).
    /// </summary>
    public static async Task ExtractVmlinuxAsync(string bzImagePath, string vmlinuxPath)
    {
        byte[] image = await File.ReadAllBytesAsync(bzImagePath);
        string xz = HostTools.Require("xz");
        string partial = vmlinuxPath + ".partial";
        foreach (int offset in FindXzStreamOffsets(image))
        {
            await using (var output = File.Create(partial))
            {
                var result = await Cli.Wrap(xz).WithArguments(["--decompress", "--stdout", "--single-stream", "--quiet"])
                    .WithStandardInputPipe(PipeSource.FromStream(new MemoryStream(image, offset, image.Length - offset, writable: false)))
                    .WithStandardOutputPipe(PipeTarget.ToStream(output))
                    .WithValidation(CommandResultValidation.None)
                    .ExecuteAsync();
                if (result.ExitCode != 0) continue;
            }
            if (StartsWithElfMagic(partial))
            {
                File.Move(partial, vmlinuxPath, overwrite: true);
                return;
            }
        }
        if (File.Exists(partial)) File.Delete(partial);
        throw new BuildException($"{bzImagePath}: no XZ stream holding an ELF kernel was found");
    }

    private static bool StartsWithElfMagic(string path)
    {
        Span<byte> head = stackalloc byte[4];
        using var f = File.OpenRead(path);
        return f.Read(head) == 4 && head.SequenceEqual(ElfMagic);
    }
}
