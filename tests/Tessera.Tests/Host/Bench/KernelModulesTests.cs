using System.Buffers.Binary;
using System.Text;
using Tessera.Tools.Bench;
using Xunit;

namespace Tessera.Tests.Host.Bench;

/// <summary>Finding what a Linux module needs from its .modinfo section, and the load order of a set.</summary>
public sealed class KernelModulesTests
{
    /// <summary>
    /// A minimal ELF64 relocatable with three sections (null, .modinfo, .shstrtab), laid out the
    /// way a .ko is: header, section data, section header table at e_shoff.
    /// </summary>
    public static byte[] Module(params string[] modinfo)
    {
        var info = new MemoryStream();
        foreach (var entry in modinfo) { info.Write(Encoding.UTF8.GetBytes(entry)); info.WriteByte(0); }
        info.Write(new byte[3]);   // alignment padding between entries is NUL bytes
        byte[] infoBytes = info.ToArray();
        byte[] names = Encoding.ASCII.GetBytes("\0.modinfo\0.shstrtab\0");
        int infoOffset = 0x40, namesOffset = infoOffset + infoBytes.Length, shoff = (namesOffset + names.Length + 7) & ~7;
        var elf = new byte[shoff + 3 * 0x40];
        elf[0] = 0x7F; elf[1] = (byte)'E'; elf[2] = (byte)'L'; elf[3] = (byte)'F';
        elf[4] = 2; elf[5] = 1; elf[6] = 1;                      // ELFCLASS64, little-endian, version 1
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(0x10), 1);         // ET_REL
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(0x12), 62);        // EM_X86_64
        BinaryPrimitives.WriteUInt64LittleEndian(elf.AsSpan(0x28), (ulong)shoff);
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(0x3A), 0x40);
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(0x3C), 3);
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(0x3E), 2);
        infoBytes.CopyTo(elf, infoOffset);
        names.CopyTo(elf, namesOffset);
        void Section(int index, uint name, uint type, int offset, int size)
        {
            var h = elf.AsSpan(shoff + index * 0x40);
            BinaryPrimitives.WriteUInt32LittleEndian(h, name);
            BinaryPrimitives.WriteUInt32LittleEndian(h[4..], type);
            BinaryPrimitives.WriteUInt64LittleEndian(h[0x18..], (ulong)offset);
            BinaryPrimitives.WriteUInt64LittleEndian(h[0x20..], (ulong)size);
        }
        Section(1, 1, 1 /* PROGBITS */, infoOffset, infoBytes.Length);
        Section(2, 10, 3 /* STRTAB */, namesOffset, names.Length);
        return elf;
    }

    [Fact]
    public void ModinfoAndDependsAreRead()
    {
        byte[] ko = Module("license=GPL", "depends=virtio_ring,virtio,net-failover", "name=virtio_net", "vermagic=6.1.0-56-amd64 SMP mod_unload modversions ");
        var info = KernelModules.ReadModinfo(ko);
        Assert.Equal("GPL", info.Single(kv => kv.Key == "license").Value);
        Assert.Equal("6.1.0-56-amd64 SMP mod_unload modversions ", info.Single(kv => kv.Key == "vermagic").Value);
        Assert.Equal(["virtio_ring", "virtio", "net_failover"], KernelModules.Depends(ko));   // '-' read as '_'
        Assert.Empty(KernelModules.Depends(Module("depends=", "name=failover")));
        Assert.Empty(KernelModules.Depends(Module("name=no_depends_line")));
    }

    [Fact]
    public void NotAModuleIsAFormatError()
    {
        Assert.Throws<FormatException>(() => KernelModules.ReadModinfo("not an ELF file at all, just text, long enough to pass the size check"u8));
        byte[] ko = Module("name=x");
        ko[4] = 1;   // ELFCLASS32
        Assert.Throws<FormatException>(() => KernelModules.ReadModinfo(ko));
        byte[] truncated = Module("name=x")[..0x50];
        Assert.Throws<FormatException>(() => KernelModules.ReadModinfo(truncated));
    }

    // Debian 6.1's virtio-net modules and what their depends= say.
    private static readonly Dictionary<string, string[]> Debian = new()
    {
        ["virtio_net"] = ["virtio_ring", "virtio", "net_failover"],
        ["net_failover"] = ["failover"],
        ["failover"] = [],
        ["virtio"] = ["virtio_ring"],
        ["virtio_ring"] = [],
        ["virtio_pci"] = ["virtio_ring", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio"],
        ["virtio_pci_modern_dev"] = [],
        ["virtio_pci_legacy_dev"] = [],
    };

    [Fact]
    public void EveryModuleLoadsAfterWhatItNeeds()
    {
        var order = KernelModules.LoadOrder(["virtio_pci", "virtio-net"], n => Debian.TryGetValue(n, out var d) ? d : null);
        Assert.Equal(["virtio_ring", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio", "virtio_pci", "failover", "net_failover", "virtio_net"], order);
        for (int i = 0; i < order.Count; i++)
            foreach (var dependency in Debian[order[i]])
                Assert.True(order.ToList().IndexOf(dependency) < i, $"{dependency} must load before {order[i]}");
    }

    [Fact]
    public void AMissingDependencyOrACycleIsReported()
    {
        var missing = Assert.Throws<InvalidOperationException>(() =>
            KernelModules.LoadOrder(["virtio_net"], n => n == "virtio_net" ? ["net_failover"] : null));
        Assert.Contains("net_failover (needed by virtio_net) not found", missing.Message);
        var cycle = Assert.Throws<InvalidOperationException>(() =>
            KernelModules.LoadOrder(["a"], n => n == "a" ? ["b"] : ["a"]));
        Assert.Contains("a -> b -> a", cycle.Message);
    }
}
