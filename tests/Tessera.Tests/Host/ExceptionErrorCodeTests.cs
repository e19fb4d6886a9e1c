using FsCheck.Xunit;
using Tessera.Core;
using Xunit;

namespace Tessera.Tests.Host;

/// <summary>Decoding of #PF and selector error codes (Intel SDM Vol. 3A §4.7, §6.13).</summary>
public sealed class ExceptionErrorCodeTests
{
    [Fact]
    public void SupervisorReadOfNotPresentPage()
    {
        var code = new PageFaultErrorCode(0);
        Assert.False(code.ProtectionViolation);
        Assert.Equal("supervisor", code.Mode);
        Assert.Equal("read", code.Access);
        Assert.Equal("a not-present page", code.Cause);
    }

    [Fact]
    public void UserWriteToPresentReadOnlyPage()
    {
        var code = new PageFaultErrorCode(0b111);
        Assert.True(code.ProtectionViolation && code.Write && code.UserMode);
        Assert.Equal("user", code.Mode);
        Assert.Equal("write", code.Access);
        Assert.Equal("a present page that does not allow it", code.Cause);
    }

    [Fact]
    public void InstructionFetchWinsOverWriteBitAndReservedBitIsTheCause()
    {
        var fetch = new PageFaultErrorCode(0b10001);
        Assert.Equal("instruction fetch", fetch.Access);
        var reserved = new PageFaultErrorCode(0b01001);
        Assert.True(reserved.ReservedBit);
        Assert.Equal("a page whose paging-structure entry has a reserved bit set", reserved.Cause);
    }

    [Property]
    public void PageFaultFlagsAreTheirBits(ushort value)
    {
        var code = new PageFaultErrorCode(value);
        Assert.Equal((value & 1) != 0, code.ProtectionViolation);
        Assert.Equal((value & 2) != 0, code.Write);
        Assert.Equal((value & 4) != 0, code.UserMode);
        Assert.Equal((value & 8) != 0, code.ReservedBit);
        Assert.Equal((value & 16) != 0, code.InstructionFetch);
        Assert.Equal((value & 32) != 0, code.ProtectionKey);
        Assert.Equal((value & 64) != 0, code.ShadowStack);
        Assert.Equal((value & 0x8000) != 0, code.Sgx);
    }

    [Fact]
    public void ZeroSelectorErrorCodeNamesNoSelector()
    {
        Assert.False(new SelectorErrorCode(0).NamesSelector);
    }

    [Fact]
    public void GdtSelectorIsDecoded()
    {
        var code = new SelectorErrorCode(0x28);
        Assert.True(code.NamesSelector);
        Assert.Equal("GDT", code.Table);
        Assert.Equal(5, code.Index);
        Assert.Equal(0x28, code.Selector);
        Assert.False(code.External);
    }

    [Fact]
    public void IdtEntryAndExternalEventAreDecoded()
    {
        var code = new SelectorErrorCode((14 << 3) | 2 | 1);
        Assert.Equal("IDT", code.Table);
        Assert.Equal(14, code.Index);
        Assert.True(code.External);
        Assert.False(code.Ldt);     // TI is meaningless when IDT is set
    }

    [Property]
    public void SelectorIndexAndTableComeFromTheirBits(ushort value)
    {
        var code = new SelectorErrorCode(value);
        Assert.Equal(value >> 3, code.Index);
        Assert.Equal((value & 2) != 0 ? "IDT" : (value & 4) != 0 ? "LDT" : "GDT", code.Table);
    }
}
