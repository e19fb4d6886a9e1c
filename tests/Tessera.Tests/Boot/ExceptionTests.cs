using Tessera.Tools;
using Tessera.Tools.Qemu;
using Xunit;
using Xunit.Abstractions;

namespace Tessera.Tests.Boot;

/// <summary>
/// `throw` in the kernel: `exception-test` on the command line throws an
/// InvalidOperationException with an inner ArgumentOutOfRangeException
/// (kernel/Core/SelfTests/ExceptionBootTest.cs); the kernel has no unwinding, so the
/// exception must end in a panic naming both types and messages, then exit 35.
/// </summary>
public sealed class ExceptionTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("processor")]
    [InlineData("memory")]
    [InlineData("storage")]
    public async Task ThrowPanicsWithTypeAndMessageThenExits35(string kind)
    {
        var run = await Vm.RunToExitAsync(new QemuOptions { Kind = kind, Append = "exception-test" }, $"exception-{kind}", output);
        Assert.StartsWith($"tessera {kind} ", run.Lines[0]);
        Assert.Contains(
            "PANIC: unhandled exception: InvalidOperationException: exception-test requested on the command line"
            + " ---> ArgumentOutOfRangeException: Specified argument was out of the range of valid values. (Parameter 'index')",
            run.Lines);
        Assert.Contains(run.Lines, l => l.Contains("rip=0x"));
        int trace = run.Lines.IndexOf("call trace (return addresses):");
        Assert.True(trace >= 0, "no call trace");
        Assert.Matches(@"^  #0 0x[0-9a-f]{16}$", run.Lines[trace + 1]);
        Assert.Equal(QemuExit.Fail, run.ExitCode);
    }
}
