using FsCheck.Xunit;
using Tessera.Core;
using Xunit;

namespace Tessera.Tests.Host;

/// <summary>GDT and IDT descriptor layouts (Intel SDM Vol. 3A §3.4.5, §6.14.1, 64-bit TSS descriptor).</summary>
public sealed class DescriptorEncodingTests
{
    [Fact]
    public void KernelSegmentsMatchTheClassicEncodings()
    {
        // Present, DPL 0, code/data, L for code; accessed preset so the CPU never writes the GDT for it.
        Assert.Equal(0x00209B0000000000UL, DescriptorEncoding.CodeSegment64(0));
        Assert.Equal(0x0000930000000000UL, DescriptorEncoding.DataSegment(0));
        Assert.Equal(0x0020FB0000000000UL, DescriptorEncoding.CodeSegment64(3));
        Assert.Equal(0x0000F30000000000UL, DescriptorEncoding.DataSegment(3));
    }

    [Property]
    public void TssDescriptorRoundTripsBaseAndLimit(ulong tssBase, uint rawLimit)
    {
        uint limit = rawLimit & 0xFFFFF;
        DescriptorEncoding.TssDescriptor(tssBase, limit, out ulong low, out ulong high);
        ulong decodedBase = (low >> 16 & 0xFFFFFF) | (low >> 56 & 0xFF) << 24 | (high & 0xFFFFFFFF) << 32;
        uint decodedLimit = (uint)(low & 0xFFFF) | (uint)(low >> 48 & 0xF) << 16;
        Assert.Equal(tssBase, decodedBase);
        Assert.Equal(limit, decodedLimit);
        Assert.Equal(0x9UL, low >> 40 & 0xF);      // available 64-bit TSS
        Assert.Equal(0UL, low >> 44 & 1);          // a system descriptor (S = 0)
        Assert.Equal(1UL, low >> 47 & 1);          // present
        Assert.Equal(0UL, high >> 32);             // reserved upper half must be zero
    }

    [Property]
    public void GateRoundTripsHandlerAndFields(ulong handler, ushort selector, byte ist, bool trap, byte dpl)
    {
        DescriptorEncoding.Gate(handler, selector, ist & 7, trap, dpl & 3, out ulong low, out ulong high);
        ulong decoded = (low & 0xFFFF) | (low >> 48) << 16 | (high & 0xFFFFFFFF) << 32;
        Assert.Equal(handler, decoded);
        Assert.Equal(selector, (ushort)(low >> 16));
        Assert.Equal((ulong)(ist & 7), low >> 32 & 7);
        Assert.Equal(0UL, low >> 35 & 0x1F);        // bits 39:35 are zero
        Assert.Equal(trap ? 0xFUL : 0xEUL, low >> 40 & 0xF);
        Assert.Equal(0UL, low >> 44 & 1);
        Assert.Equal((ulong)(dpl & 3), low >> 45 & 3);
        Assert.Equal(1UL, low >> 47 & 1);
        Assert.Equal(0UL, high >> 32);
    }
}
