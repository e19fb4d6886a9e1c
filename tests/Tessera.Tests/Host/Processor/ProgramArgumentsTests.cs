using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Tessera.Core;
using Tessera.Core.Boot;
using Tessera.Processor;
using Xunit;

namespace Tessera.Tests.Host.Processor;

/// <summary>exec=, argv= and envp= on the processor's command line (kernel/Processor/Process/ProgramArguments.cs).</summary>
public sealed class ProgramArgumentsTests
{
    private static CommandLine Line(string text) => new(Encoding.ASCII.GetBytes(text));
    private static string[] Strings(byte[][] items) => items.Select(b => Encoding.Latin1.GetString(b)).ToArray();

    public static string Encode(string item)
    {
        byte[] bytes = Encoding.Latin1.GetBytes(item);
        var output = new byte[ProgramArguments.EncodedLength(bytes)];
        int n = ProgramArguments.Encode(bytes, output);
        Assert.Equal(output.Length, n);
        return Encoding.ASCII.GetString(output);
    }

    [Fact]
    public void NoExecMeansNothingToRun()
    {
        Assert.Null(ProgramArguments.FromCommandLine(Line("node=1 role=processor argv=a,b"), out string? problem));
        Assert.Null(problem);
    }

    [Fact]
    public void ArgvDefaultsToThePathAndEnvpToNothing()
    {
        var args = ProgramArguments.FromCommandLine(Line("node=1 exec=/bin/hello selftest"), out string? problem);
        Assert.Null(problem);
        Assert.NotNull(args);
        Assert.Equal("/bin/hello", Encoding.ASCII.GetString(args!.Path));
        Assert.Equal(["/bin/hello"], Strings(args.Argv));
        Assert.Empty(args.Envp);
        Assert.Equal("/bin/hello\0/bin/hello\0", Encoding.ASCII.GetString(args.ExecveStrings()));
    }

    [Fact]
    public void ItemsArePercentDecodedAndSplitAtCommas()
    {
        var args = ProgramArguments.FromCommandLine(
            Line("exec=/my%20prog argv=hello,a,b%20c,,100%25,x%2Cy envp=HOME=/,PATH=/bin:/usr/bin,EMPTY="), out string? problem);
        Assert.Null(problem);
        Assert.Equal("/my prog", Encoding.ASCII.GetString(args!.Path));
        Assert.Equal(["hello", "a", "b c", "", "100%", "x,y"], Strings(args.Argv));
        Assert.Equal(["HOME=/", "PATH=/bin:/usr/bin", "EMPTY="], Strings(args.Envp));
        Assert.Equal("/my prog\0hello\0a\0b c\0\0100%\0x,y\0HOME=/\0PATH=/bin:/usr/bin\0EMPTY=\0",
            Encoding.ASCII.GetString(args.ExecveStrings()));
    }

    [Fact]
    public void MoreProgramsAreNumberedUntilTheFirstGap()
    {
        var line = Line("exec=/a exec2=/b argv2=b,1 envp2=K=V exec3=/c exec5=/e");
        Assert.Equal("/a", Encoding.ASCII.GetString(ProgramArguments.FromCommandLine(line, 1, out _)!.Path));
        var second = ProgramArguments.FromCommandLine(line, 2, out string? problem);
        Assert.Null(problem);
        Assert.Equal(["b", "1"], Strings(second!.Argv));
        Assert.Equal(["K=V"], Strings(second.Envp));
        Assert.Equal(["/c"], Strings(ProgramArguments.FromCommandLine(line, 3, out _)!.Argv));
        Assert.Null(ProgramArguments.FromCommandLine(line, 4, out problem));
        Assert.Null(problem);
        Assert.Null(ProgramArguments.FromCommandLine(line, 10, out _));
        Assert.Null(ProgramArguments.FromCommandLine(Line("exec=/a argv2=%zz"), 2, out problem));
        Assert.Null(problem);                                       // argv2= without exec2= is not looked at
        Assert.Null(ProgramArguments.FromCommandLine(Line("exec=/a exec2=/b argv2=%zz"), 2, out problem));
        Assert.StartsWith("argv2=", problem);
    }

    [Fact]
    public void AnEmptyArgvIsNoArguments()
    {
        var args = ProgramArguments.FromCommandLine(Line("exec=/x argv= envp="), out _);
        Assert.Empty(args!.Argv);
        Assert.Empty(args.Envp);
    }

    [Theory]
    [InlineData("exec=", "exec=")]
    [InlineData("exec=/x argv=a%2", "argv=")]
    [InlineData("exec=/x argv=a%zz", "argv=")]
    [InlineData("exec=/x envp=A=%00", "envp=")]      // a NUL cannot be in a C string
    [InlineData("exec=/x%", "exec=")]
    public void MalformedWordsAreReported(string text, string word)
    {
        Assert.Null(ProgramArguments.FromCommandLine(Line(text), out string? problem));
        Assert.NotNull(problem);
        Assert.StartsWith(word, problem);
    }

    [Fact]
    public void EncodingEscapesWhatTheCommandLineCannotCarry()
    {
        Assert.Equal("plain/path=1:x", Encode("plain/path=1:x"));
        Assert.Equal("a%20b%2Cc%25d%09%7F%E9", Encode("a b,c%d\t\u007f\u00e9"));
    }

    [Property]
    public Property ArgumentListsSurviveEncodingIntoACommandLine(NonEmptyString path, string[] argv, string[] envp)
    {
        static bool Ok(string s) => s != null && !s.Contains('\0') && s.All(c => c < 256);
        if (!Ok(path.Get) || argv.Any(s => !Ok(s)) || envp.Any(s => !Ok(s))) return true.ToProperty();
        // One empty item cannot be written (an empty list is written the same way).
        if (argv.Length == 1 && argv[0].Length == 0 || envp.Length == 1 && envp[0].Length == 0) return true.ToProperty();
        string text = $"node=1 exec={Encode(path.Get)} argv={string.Join(',', argv.Select(Encode))} envp={string.Join(',', envp.Select(Encode))} selftest";
        var args = ProgramArguments.FromCommandLine(new CommandLine(Encoding.Latin1.GetBytes(text)), out string? problem);
        return (problem == null && args != null && Encoding.Latin1.GetString(args.Path) == path.Get &&
                Strings(args.Argv).SequenceEqual(argv) && Strings(args.Envp).SequenceEqual(envp)).ToProperty();
    }
}
