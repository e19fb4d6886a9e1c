using Tessera.Tools.Rig;
using Xunit;

namespace Tessera.Tests.Host;

/// <summary>How a rig's programs reach its memory nodes: QEMU's -initrd module list.</summary>
public sealed class RigConfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tessera-rigconfig-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string Program(string name)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, [0x7f, (byte)'E', (byte)'L', (byte)'F']);
        return path;
    }

    [Fact]
    public void EveryProgramBecomesAModuleNamedByItsFileName()
    {
        string a = Program("hello"), b = Program("a,b");
        var config = new RigConfig { Programs = [a, b] };
        config.Validate();
        // A comma inside an entry is doubled (QEMU's option syntax); entries are "path name".
        Assert.Equal($"{a} hello,{b.Replace(",", ",,")} a,,b", config.ModulesArgument());
        Assert.Null(new RigConfig().ModulesArgument());
    }

    [Fact]
    public async Task OnlyMemoryNodesGetTheModules()
    {
        string a = Program("hello");
        await using var rig = new RigLauncher(new RigConfig { Programs = [a] }, Path.Combine(_dir, "logs"));
        foreach (var (node, vm) in rig.Nodes.Zip(rig.Vms))
        {
            var args = vm.Options.ToArguments();
            if (node.Role == "memory") Assert.Equal($"{a} hello", args[args.IndexOf("-initrd") + 1]);
            else Assert.DoesNotContain("-initrd", args);
        }
    }

    [Fact]
    public void ProgramsComeFromTheConfigFileAndMustExist()
    {
        string a = Program("one"), b = Program("two");
        string file = Path.Combine(_dir, "rig.conf");
        File.WriteAllLines(file, ["memories = 2", $"program = {a}", $"program = {b}"]);
        var config = RigConfig.Load(file, new RigConfig());
        Assert.Equal([a, b], config.Programs);
        Assert.Throws<ArgumentException>(() => new RigConfig { Programs = [Path.Combine(_dir, "absent")] }.Validate());
        Assert.Throws<ArgumentException>(() => new RigConfig { Programs = [Program("with space")] }.ModulesArgument());
    }
}
