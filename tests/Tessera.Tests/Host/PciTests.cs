using FsCheck.Xunit;
using Tessera.Drivers.Pci;
using Xunit;

namespace Tessera.Tests.Host;

/// <summary>
/// The pure PCI logic (drivers/Pci, compiled here as it is into the kernels): BAR
/// decoding and sizing, capability walking, MSI-X, enumeration, against an in-memory
/// configuration space that behaves like hardware (FakePciConfigSpace).
/// </summary>
public sealed unsafe class PciTests
{
    // ---- addresses ----

    [Fact]
    public void ConfigAddressFollowsMechanismOne()
    {
        // Enable bit, bus 23:16, device 15:11, function 10:8, register 7:2 (PCI 3.0 §3.2.2.3.2).
        Assert.Equal(0x80000000u, new PciAddress(0, 0, 0).ConfigAddress(0));
        Assert.Equal(0x80FFFF3Cu, new PciAddress(255, 31, 7).ConfigAddress(0x3C));
        Assert.Equal(0x80010A10u, new PciAddress(1, 1, 2).ConfigAddress(0x13)); // low offset bits dropped
    }

    [Fact]
    public void AddressFormatsAsLspciDoes()
    {
        Span<char> text = stackalloc char[PciAddress.FormattedLength];
        new PciAddress(0x1A, 0x1F, 3).Format(text);
        Assert.Equal("1a:1f.3", text.ToString());
    }

    // ---- BAR decoding from raw values ----

    [Fact]
    public void DecodesAnIoBar()
    {
        var bar = PciBar.Decode(4, 0x0000C041, 0xFFFFFFF1);
        Assert.Equal(PciBarKind.Io, bar.Kind);
        Assert.Equal(0xC040UL, bar.Address);
        Assert.Equal(16UL, bar.Size);
    }

    [Fact]
    public void DecodesAnIoBarWhoseDecoderHasOnly16Bits()
    {
        // Upper address bits of a 16-bit I/O decoder read back as zero.
        var bar = PciBar.Decode(0, 0x0000C001, 0x0000FFE1);
        Assert.Equal(PciBarKind.Io, bar.Kind);
        Assert.Equal(32UL, bar.Size);
    }

    [Fact]
    public void DecodesA32BitMemoryBar()
    {
        var bar = PciBar.Decode(1, 0xFEBF1000, 0xFFFFF000);
        Assert.Equal(PciBarKind.Memory32, bar.Kind);
        Assert.False(bar.Prefetchable);
        Assert.Equal(0xFEBF1000UL, bar.Address);
        Assert.Equal(4096UL, bar.Size);
    }

    [Fact]
    public void DecodesA64BitPrefetchableBarAbove4GiB()
    {
        var bar = PciBar.Decode(4, 0x0000000C, 0xFFFFC00C, 0x00000008, 0xFFFFFFFF);
        Assert.Equal(PciBarKind.Memory64, bar.Kind);
        Assert.True(bar.Prefetchable);
        Assert.Equal(0x8_0000_0000UL, bar.Address);
        Assert.Equal(16UL * 1024, bar.Size);
    }

    [Fact]
    public void DecodesA64BitBarLargerThan4GiB()
    {
        var bar = PciBar.Decode(2, 0x0000000C, 0x0000000C, 0x00000010, 0xFFFFFFFE);
        Assert.Equal(PciBarKind.Memory64, bar.Kind);
        Assert.Equal(8UL << 30, bar.Size);
    }

    [Fact]
    public void AnUnimplementedBarDecodesAsNone()
    {
        var bar = PciBar.Decode(3, 0, 0);
        Assert.Equal(PciBarKind.None, bar.Kind);
        Assert.False(bar.IsPresent);
    }

    [Property]
    public bool AnyMemoryBarDecodesToItsSizeAndAddress(byte sizeLog2Seed, uint addressSeed, bool is64, bool prefetchable)
    {
        int sizeLog2 = 4 + sizeLog2Seed % (is64 ? 36 : 28);     // 16 B .. 2^39 (64-bit) or 2^31
        ulong size = 1UL << sizeLog2;
        ulong address = ((ulong)addressSeed << 12) & ~(size - 1);
        if (!is64) address &= 0xFFFFFFFF;
        var config = new FakePciConfigSpace();
        var f = config.Add(0, 3, 0);
        if (is64) f.Memory64Bar(0, address, size, prefetchable);
        else f.Memory32Bar(0, (uint)address, (uint)size, prefetchable);
        var device = PciDevice.Read(config, new PciAddress(0, 3, 0));
        device.ProbeBars();
        var bar = device.Bar(0);
        return bar.Kind == (is64 ? PciBarKind.Memory64 : PciBarKind.Memory32)
            && bar.Size == size && bar.Address == address && bar.Prefetchable == prefetchable;
    }

    // ---- BAR probing on a device ----

    private static (FakePciConfigSpace Config, PciDevice Device) DeviceWithThreeBars(ushort command = 0x0007)
    {
        var config = new FakePciConfigSpace();
        var f = config.Add(0, 4, 0);
        f.IoBar(0, 0xC000, 64);
        f.Memory32Bar(1, 0xFEBF0000, 4096, prefetchable: false);
        f.Memory64Bar(2, 0xFE000000, 16384, prefetchable: true);   // registers 2 and 3
        f.Command = command;
        return (config, PciDevice.Read(config, new PciAddress(0, 4, 0)));
    }

    [Fact]
    public void ProbeFindsEachBarOnceAndSkipsTheHighHalfOf64BitBars()
    {
        var (_, device) = DeviceWithThreeBars();
        device.ProbeBars();
        Assert.Equal([0, 1, 2, 4, 5], device.Bars.Select(b => b.Index).ToArray());
        Assert.Equal((PciBarKind.Io, 0xC000UL, 64UL), (device.Bar(0).Kind, device.Bar(0).Address, device.Bar(0).Size));
        Assert.Equal((PciBarKind.Memory32, 0xFEBF0000UL, 4096UL), (device.Bar(1).Kind, device.Bar(1).Address, device.Bar(1).Size));
        Assert.Equal((PciBarKind.Memory64, 0xFE000000UL, 16384UL), (device.Bar(2).Kind, device.Bar(2).Address, device.Bar(2).Size));
        Assert.True(device.Bar(2).Prefetchable);
        Assert.Equal(PciBarKind.None, device.Bar(4).Kind);
    }

    [Fact]
    public void ProbeTurnsDecodingOffWhileBarsHoldOnesAndRestoresEverything()
    {
        var (config, device) = DeviceWithThreeBars(command: 0x0007);
        var f = config[0, 4, 0];
        uint[] before = Enumerable.Range(0, 6).Select(i => f.Get32(PciRegisters.Bar0 + 4 * i)).ToArray();
        device.ProbeBars();
        var probes = config.BarWrites.Where(w => w.Value == 0xFFFFFFFF).ToList();
        Assert.Equal(6, probes.Count);
        Assert.All(probes, w => Assert.Equal(0, w.CommandAtTheTime & (PciRegisters.CommandIoSpace | PciRegisters.CommandMemorySpace)));
        Assert.Equal(before, Enumerable.Range(0, 6).Select(i => f.Get32(PciRegisters.Bar0 + 4 * i)).ToArray());
        Assert.Equal(0x0007, f.Command);
    }

    [Fact]
    public void AHostBridgeKeepsDecodingOnWhileProbed()
    {
        var config = new FakePciConfigSpace();
        var f = config.Add(0, 0, 0, 0x8086, 0x1237);
        f.SetClass(0x06, 0x00);
        f.Memory32Bar(0, 0xE0000000, 1 << 20, prefetchable: false);
        f.Command = PciRegisters.CommandMemorySpace;
        var device = PciDevice.Read(config, new PciAddress(0, 0, 0));
        device.ProbeBars();
        Assert.All(config.BarWrites, w => Assert.Equal(PciRegisters.CommandMemorySpace, w.CommandAtTheTime));
        Assert.Equal(1UL << 20, device.Bar(0).Size);
    }

    [Fact]
    public void ABridgeHasTwoBarRegisters()
    {
        var config = new FakePciConfigSpace();
        var f = config.Add(0, 5, 0);
        f.Config[PciRegisters.HeaderType] = PciRegisters.HeaderPciBridge;
        f.Memory32Bar(0, 0xFE800000, 256, prefetchable: false);
        f.Memory32Bar(2, 0x12345000, 4096, prefetchable: false); // bus numbers in a type-1 header: not a BAR
        var device = PciDevice.Read(config, new PciAddress(0, 5, 0));
        device.ProbeBars();
        Assert.Equal(2, device.Bars.Length);
        Assert.Equal(256UL, device.Bar(0).Size);
    }

    [Fact]
    public void CommandBitsForDecodingBusMasteringAndIntx()
    {
        var (config, device) = DeviceWithThreeBars(command: 0);
        device.EnableIoSpace();
        device.EnableMemorySpace();
        device.EnableBusMastering();
        Assert.Equal(0x0007, config[0, 4, 0].Command);
        device.SetLegacyInterruptDisabled(true);
        Assert.Equal(0x0407, config[0, 4, 0].Command);
        device.SetLegacyInterruptDisabled(false);
        Assert.Equal(0x0007, config[0, 4, 0].Command);
    }

    [Fact]
    public void ReadsLegacyInterruptRouting()
    {
        var config = new FakePciConfigSpace();
        var f = config.Add(0, 6, 0);
        f.Config[PciRegisters.InterruptLine] = 11;
        f.Config[PciRegisters.InterruptPin] = 1;
        var device = PciDevice.Read(config, new PciAddress(0, 6, 0));
        Assert.True(device.HasLegacyInterrupt);
        Assert.Equal((11, 1), (device.InterruptLine, device.InterruptPin));
    }

    // ---- capabilities ----

    [Fact]
    public void WalksTheCapabilityListInOrder()
    {
        var config = new FakePciConfigSpace();
        config.Add(0, 1, 0).Capabilities((0x09, 0x84), (0x11, 0x98), (0x09, 0x70), (0x09, 0x40));
        var a = new PciAddress(0, 1, 0);
        Span<byte> ids = stackalloc byte[8], offsets = stackalloc byte[8];
        Assert.Equal(4, PciCapabilities.List(config, a, ids, offsets));
        Assert.Equal(new byte[] { 0x09, 0x11, 0x09, 0x09 }, ids[..4].ToArray());
        Assert.Equal(new byte[] { 0x84, 0x98, 0x70, 0x40 }, offsets[..4].ToArray());
        Assert.Equal(0x98, PciCapabilities.Find(config, a, PciRegisters.CapabilityMsiX));
        // Several capabilities with one ID (virtio's vendor capabilities): each in turn.
        Assert.Equal(0x84, PciCapabilities.Find(config, a, 0x09));
        Assert.Equal(0x70, PciCapabilities.Find(config, a, 0x09, after: 0x84));
        Assert.Equal(0x40, PciCapabilities.Find(config, a, 0x09, after: 0x70));
        Assert.Equal(0, PciCapabilities.Find(config, a, 0x09, after: 0x40));
        Assert.Equal(0, PciCapabilities.Find(config, a, PciRegisters.CapabilityPciExpress));
    }

    [Fact]
    public void NoCapabilitiesWithoutTheStatusBit()
    {
        var config = new FakePciConfigSpace();
        var f = config.Add(0, 1, 0);
        f.Capabilities((0x11, 0x50));
        f.Status = 0;
        Assert.Equal(0, PciCapabilities.First(config, new PciAddress(0, 1, 0)));
    }

    [Fact]
    public void ACapabilityLoopEndsTheWalk()
    {
        var config = new FakePciConfigSpace();
        var f = config.Add(0, 1, 0);
        f.Capabilities((0x05, 0x50), (0x01, 0x60));
        f.Config[0x61] = 0x50; // the second points back at the first
        var a = new PciAddress(0, 1, 0);
        Assert.Equal(0, PciCapabilities.Find(config, a, PciRegisters.CapabilityMsiX));
        Assert.Equal(PciCapabilities.MaxCapabilities, PciCapabilities.List(config, a, [], []));
    }

    [Fact]
    public void PointersBelowTheHeaderEndOrUnalignedAreHandled()
    {
        var config = new FakePciConfigSpace();
        var f = config.Add(0, 1, 0);
        f.Capabilities((0x11, 0x50));
        f.Config[PciRegisters.CapabilitiesPointer] = 0x53; // reserved low bits set
        Assert.Equal(0x50, PciCapabilities.First(config, new PciAddress(0, 1, 0)));
        f.Config[PciRegisters.CapabilitiesPointer] = 0x20; // inside the standard header: invalid
        Assert.Equal(0, PciCapabilities.First(config, new PciAddress(0, 1, 0)));
    }

    // ---- MSI-X ----

    private static (FakePciConfigSpace, PciDevice) DeviceWithMsiX()
    {
        var config = new FakePciConfigSpace();
        var f = config.Add(0, 3, 0);
        f.Memory32Bar(1, 0xFEBFF000, 0x4000, prefetchable: false);
        f.Capabilities((0x09, 0x84), (0x11, 0x98));
        f.Set16(0x98 + 2, 0x0002);        // 3 entries
        f.Set32(0x98 + 4, 0x00002001);    // table in BAR 1 at 0x2000
        f.Set32(0x98 + 8, 0x00003001);    // pending bits in BAR 1 at 0x3000
        var device = PciDevice.Read(config, new PciAddress(0, 3, 0));
        device.ProbeBars();
        return (config, device);
    }

    [Fact]
    public void ParsesTheMsiXCapability()
    {
        var (_, device) = DeviceWithMsiX();
        var cap = MsiXCapability.Read(device);
        Assert.True(cap.IsPresent);
        Assert.Equal(0x98, cap.Offset);
        Assert.Equal(3, cap.TableSize);
        Assert.Equal((1, 0x2000u), (cap.TableBar, cap.TableOffset));
        Assert.Equal((1, 0x3000u), (cap.PendingBitArrayBar, cap.PendingBitArrayOffset));
        Assert.Equal(48UL, cap.TableBytes);
    }

    [Fact]
    public void NoMsiXCapabilityReadsAsAbsent()
    {
        var config = new FakePciConfigSpace();
        config.Add(0, 3, 0).Capabilities((0x05, 0x50));
        Assert.False(MsiXCapability.Read(PciDevice.Read(config, new PciAddress(0, 3, 0))).IsPresent);
    }

    [Fact]
    public void EnablingMsiXSetsOnlyTheEnableAndMaskBits()
    {
        var (config, device) = DeviceWithMsiX();
        var cap = MsiXCapability.Read(device);
        cap.SetEnabled(device, enabled: true, functionMasked: true);
        Assert.Equal(0xC002, config[0, 3, 0].Get16(0x98 + 2));
        cap.SetEnabled(device, enabled: true, functionMasked: false);
        Assert.Equal(0x8002, config[0, 3, 0].Get16(0x98 + 2));
        cap.SetEnabled(device, enabled: false, functionMasked: false);
        Assert.Equal(0x0002, config[0, 3, 0].Get16(0x98 + 2));
    }

    [Fact]
    public void AnMsiMessageTargetsTheApicWindow()
    {
        var m = MsiMessage.Fixed(destinationApicId: 3, vector: 0x41);
        Assert.Equal(0xFEE03000UL, m.Address);
        Assert.Equal(0x41u, m.Data);
        Assert.Equal((3, 0x41), (m.DestinationApicId, m.Vector));
    }

    [Fact]
    public void ProgramsTableEntriesMaskedThenUnmasked()
    {
        uint[] memory = new uint[4 * 3];
        for (int i = 0; i < 3; i++) memory[4 * i + 3] = MsiXTable.VectorMasked; // masked after reset
        fixed (uint* p = memory)
        {
            var table = new MsiXTable((byte*)p, 3);
            table.Program(1, MsiMessage.Fixed(2, 0x50), unmask: false);
            Assert.Equal([0xFEE02000u, 0u, 0x50u, 1u], memory[4..8]);
            Assert.True(table.IsMasked(1));
            table.Program(2, new MsiMessage(0x1_FEE0_1000, 0x51), unmask: true);
            Assert.Equal([0xFEE01000u, 1u, 0x51u, 0u], memory[8..12]);
            Assert.Equal(0x1_FEE0_1000UL, table.ReadMessage(2).Address);
            Assert.False(table.IsMasked(2));
            table.Program(3, MsiMessage.Fixed(0, 0x60), unmask: true); // past the end: ignored
            Assert.Equal([0u, 0u, 0u, 1u], memory[0..4]);
        }
    }

    // ---- enumeration ----

    [Fact]
    public void EnumeratesFunctionsBehindBridgesAndOnlyRealFunctions()
    {
        var config = new FakePciConfigSpace();
        config.Add(0, 0, 0, 0x8086, 0x1237).SetClass(0x06, 0x00);
        var isa = config.Add(0, 1, 0, 0x8086, 0x7000);
        isa.Config[PciRegisters.HeaderType] = PciRegisters.HeaderMultiFunction;
        config.Add(0, 1, 1, 0x8086, 0x7010);
        config.Add(0, 1, 3, 0x8086, 0x7113);            // function 2 absent: holes are allowed
        var bridge = config.Add(0, 2, 0, 0x1B36, 0x0001);
        bridge.Config[PciRegisters.HeaderType] = PciRegisters.HeaderPciBridge;
        bridge.Config[PciRegisters.SecondaryBus] = 1;
        bridge.Config[PciRegisters.SubordinateBus] = 2;
        var inner = config.Add(1, 4, 0, 0x1B36, 0x0001);
        inner.Config[PciRegisters.HeaderType] = PciRegisters.HeaderPciBridge;
        inner.Config[PciRegisters.SecondaryBus] = 2;
        config.Add(2, 0, 0, 0x1AF4, 0x1041);
        // A single-function device whose function 1 answers too (some mirror function 0):
        config.Add(0, 5, 0, 0x1AF4, 0x1005);
        config.Add(0, 5, 1, 0x1AF4, 0x1005);
        // A bus nothing bridges to is not found.
        config.Add(7, 0, 0, 0xABCD, 0x0001);

        var found = PciEnumerator.Enumerate(config, probeBars: true)
            .Select(d => $"{d.Address.Bus}:{d.Address.Device}.{d.Address.Function} {d.VendorId:x4}:{d.DeviceId:x4}").ToArray();
        Assert.Equal(
        [
            "0:0.0 8086:1237", "0:1.0 8086:7000", "0:1.1 8086:7010", "0:1.3 8086:7113",
            "0:2.0 1b36:0001", "1:4.0 1b36:0001", "2:0.0 1af4:1041", "0:5.0 1af4:1005",
        ], found);
    }

    [Fact]
    public void ABridgeLoopDoesNotRepeatABus()
    {
        var config = new FakePciConfigSpace();
        config.Add(0, 0, 0, 0x8086, 0x1237).SetClass(0x06, 0x00);
        var a = config.Add(0, 1, 0, 0x1B36, 0x0001);
        a.Config[PciRegisters.HeaderType] = PciRegisters.HeaderPciBridge;
        a.Config[PciRegisters.SecondaryBus] = 1;
        var b = config.Add(1, 0, 0, 0x1B36, 0x0001);
        b.Config[PciRegisters.HeaderType] = PciRegisters.HeaderPciBridge;
        b.Config[PciRegisters.SecondaryBus] = 1; // points at its own bus
        var found = PciEnumerator.Enumerate(config, probeBars: false);
        Assert.Equal(3, found.Length);
    }

    [Fact]
    public void AMultiFunctionHostBridgeRootsOneBusPerFunction()
    {
        var config = new FakePciConfigSpace();
        var host = config.Add(0, 0, 0, 0x8086, 0x1237);
        host.Config[PciRegisters.HeaderType] = PciRegisters.HeaderMultiFunction;
        config.Add(0, 0, 1, 0x8086, 0x1237);
        config.Add(1, 3, 0, 0x1AF4, 0x1000);
        var found = PciEnumerator.Enumerate(config, probeBars: false);
        Assert.Contains(found, d => d.Address.Bus == 1 && d.Address.Device == 3);
    }

    [Fact]
    public void EnumeratingAnEmptyBusFindsNothing()
    {
        Assert.Empty(PciEnumerator.Enumerate(new FakePciConfigSpace(), probeBars: true));
    }

    // ---- class names ----

    [Theory]
    [InlineData(0x06, 0x00, 0x00, "host bridge")]
    [InlineData(0x06, 0x01, 0x00, "ISA bridge")]
    [InlineData(0x06, 0x04, 0x00, "PCI bridge")]
    [InlineData(0x01, 0x01, 0x80, "IDE controller")]
    [InlineData(0x01, 0x08, 0x02, "NVMe controller")]
    [InlineData(0x02, 0x00, 0x00, "Ethernet controller")]
    [InlineData(0x42, 0x00, 0x00, "other")]
    public void NamesClasses(byte classCode, byte subclass, byte progIf, string name) =>
        Assert.Equal(name, PciClassNames.Describe(classCode, subclass, progIf));
}
