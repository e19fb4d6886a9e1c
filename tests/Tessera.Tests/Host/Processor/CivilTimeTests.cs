using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Tessera.Core;
using Xunit;

namespace Tessera.Tests.Host.Processor;

/// <summary>Calendar time to Unix seconds (kernel/Core/Time/CivilTime.cs), the CLOCK_REALTIME base read from the CMOS clock.</summary>
public sealed class CivilTimeTests
{
    [Theory]
    [InlineData(1970, 1, 1, 0, 0, 0, 0L)]
    [InlineData(2000, 2, 29, 12, 0, 0, 951825600L)]
    [InlineData(2038, 1, 19, 3, 14, 8, 2147483648L)]
    [InlineData(2024, 12, 31, 23, 59, 59, 1735689599L)]
    public void KnownInstants(int y, int mo, int d, int h, int mi, int s, long expected) =>
        Assert.Equal(expected, CivilTime.ToUnixSeconds(y, mo, d, h, mi, s));

    [Property(MaxTest = 500)]
    public Property AgreesWithDateTimeOffset(PositiveInt dayNumber, byte hour, byte minute, byte second)
    {
        var date = new DateTime(1970, 1, 1).AddDays(dayNumber.Get % (365 * 8000));
        int h = hour % 24, m = minute % 60, s = second % 60;
        long expected = new DateTimeOffset(date.Year, date.Month, date.Day, h, m, s, TimeSpan.Zero).ToUnixTimeSeconds();
        return (CivilTime.ToUnixSeconds(date.Year, date.Month, date.Day, h, m, s) == expected &&
                CivilTime.IsValid(date.Year, date.Month, date.Day, h, m, s)).ToProperty();
    }

    [Theory]
    [InlineData(2023, 2, 29)]
    [InlineData(1900, 2, 29)]
    [InlineData(2024, 4, 31)]
    [InlineData(2024, 13, 1)]
    [InlineData(1969, 12, 31)]
    [InlineData(2024, 1, 0)]
    public void RejectsImpossibleDates(int y, int m, int d) => Assert.False(CivilTime.IsValid(y, m, d, 0, 0, 0));

    [Fact]
    public void LeapYearsFollowTheGregorianRule()
    {
        Assert.True(CivilTime.IsValid(2000, 2, 29, 0, 0, 0));
        Assert.True(CivilTime.IsValid(2024, 2, 29, 0, 0, 0));
        Assert.False(CivilTime.IsValid(2100, 2, 29, 0, 0, 0));
        Assert.False(CivilTime.IsValid(2024, 1, 1, 24, 0, 0));
    }
}
