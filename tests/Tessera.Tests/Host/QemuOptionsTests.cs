using Tessera.Tools;
using Tessera.Tools.Qemu;
using Xunit;

namespace Tessera.Tests.Host;

/// <summary>The QEMU command lines the benchmarks add to (overrides for the floor and the Linux guest).</summary>
public sealed class QemuOptionsTests
{
    [Fact]
    public void LinuxGuestGetsKernelInitrdAndAppendInOrder()
    {
        var args = new QemuOptions { Kind = "linux", ElfOverride = "/k/vmlinux", Initrd = "/k/initramfs.cpio", Append = "console=ttyS0 quiet" }.ToArguments();
        int kernel = args.IndexOf("-kernel");
        Assert.Equal(["-kernel", "/k/vmlinux", "-initrd", "/k/initramfs.cpio", "-append", "console=ttyS0 quiet"], args[kernel..(kernel + 6)]);
        Assert.DoesNotContain("-cdrom", args);
    }

    [Fact]
    public void IsoOverrideReplacesTheTesseraIso()
    {
        var args = new QemuOptions { Kind = "floor", Iso = true, IsoOverride = "/x/floor.iso", Initrd = "/ignored" }.ToArguments();
        Assert.Equal("/x/floor.iso", args[args.IndexOf("-cdrom") + 1]);
        Assert.DoesNotContain("-initrd", args);   // an initrd only goes with -kernel
        Assert.DoesNotContain("-kernel", args);
    }

    [Fact]
    public void WithoutOverridesTheImagesAreTheBuiltOnes()
    {
        var kernel = new QemuOptions { Kind = "memory" }.ToArguments();
        Assert.Equal(Repo.Elf("memory"), kernel[kernel.IndexOf("-kernel") + 1]);
        Assert.DoesNotContain("-initrd", kernel);
        var iso = new QemuOptions { Kind = "memory", Iso = true }.ToArguments();
        Assert.Equal(Repo.Iso("memory"), iso[iso.IndexOf("-cdrom") + 1]);
    }
}
