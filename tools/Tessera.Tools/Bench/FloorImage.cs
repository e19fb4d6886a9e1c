using CliWrap;
using CliWrap.Buffered;
using Tessera.Tools.Build;

namespace Tessera.Tools.Bench;

/// <summary>
/// Builds the boot benchmark's floor (tools/bench/floor.asm): an image whose first
/// instructions make QEMU exit, as an ELF for -kernel and as an ISO for GRUB. The ISO is made
/// exactly like a Tessera ISO (KernelBuilder): the same boot/grub.cfg, the image at the same
/// path, the same grub-mkrescue, so GRUB does the same work for both and only the kernel differs.
/// Rebuilt on every run: nasm and ld take milliseconds, grub-mkrescue about half a second.
/// </summary>
public sealed record FloorImage(string ElfPath, string IsoPath)
{
    public static string SourcePath => Repo.Path("tools", "bench", "floor.asm");

    public static async Task<FloorImage> BuildAsync()
    {
        string dir = Repo.Path("obj", "bench", "floor");
        if (Directory.Exists(dir)) Directory.Delete(dir, true);
        Directory.CreateDirectory(dir);
        string obj = Path.Combine(dir, "floor.o"), elf = Path.Combine(dir, "floor.elf"), iso = Path.Combine(dir, "floor.iso");

        await RunAsync(HostTools.Require("nasm"), ["-f", "elf32", SourcePath, "-o", obj]);
        // Loaded at 1 MiB like Tessera; -n keeps the file small so both headers sit near its start.
        await RunAsync(HostTools.Require("ld"), ["-m", "elf_i386", "-n", "-nostdlib", "-static", "-Ttext=0x100000", "-e", "_start", "-o", elf, obj]);

        string root = Path.Combine(dir, "isoroot");
        Directory.CreateDirectory(Path.Combine(root, "boot", "grub"));
        File.Copy(Repo.Path("boot", "grub.cfg"), Path.Combine(root, "boot", "grub", "grub.cfg"));
        File.Copy(elf, Path.Combine(root, "boot", "tessera.elf"));   // the path boot/grub.cfg loads
        await RunAsync(HostTools.Require("grub-mkrescue"), ["-o", iso, root]);
        return new FloorImage(elf, iso);
    }

    private static async Task RunAsync(string program, string[] arguments)
    {
        var result = await Cli.Wrap(program).WithArguments(arguments).WithValidation(CommandResultValidation.None).ExecuteBufferedAsync();
        if (result.ExitCode != 0)
            throw new BuildException($"{Path.GetFileName(program)} failed ({result.ExitCode}) building the floor image: {(result.StandardError + result.StandardOutput).Trim()}");
    }
}
