using System.Text;
using System.Text.RegularExpressions;
using FsCheck.Xunit;
using Tessera.Tools.Bench;
using Xunit;

namespace Tessera.Tests.Host.Bench;

/// <summary>
/// The initramfs writer of the Linux baseline: GNU cpio must read what it writes (names,
/// contents, the /dev/console device numbers), and the layout must follow the newc rules the
/// kernel's unpacker relies on (init/initramfs.c): 4-byte alignment of every header and of
/// every file's data, and a TRAILER!!! member at the end.
/// </summary>
public sealed class CpioNewcWriterTests
{
    private static byte[] GuestLikeArchive(byte[] init)
    {
        var cpio = new CpioNewcWriter();
        cpio.AddDirectory("dev");
        cpio.AddCharDevice("dev/console", 5, 1);
        cpio.AddFile("init", init, permissions: 0x1ED);
        return cpio.ToArray();
    }

    [Fact]
    public async Task GnuCpioListsEveryMember()
    {
        byte[] archive = GuestLikeArchive(Encoding.ASCII.GetBytes("#!not really an ELF\n"));
        var listed = await HostProcess.RunAsync("cpio", archive, "-t", "--quiet");
        Assert.True(listed.ExitCode == 0, listed.Stderr);
        Assert.Equal(["dev", "dev/console", "init"], Encoding.UTF8.GetString(listed.Stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task GnuCpioSeesTheConsoleDeviceAndTheExecutableInit()
    {
        byte[] archive = GuestLikeArchive([1, 2, 3]);
        var listed = await HostProcess.RunAsync("cpio", archive, "-tv", "--quiet");
        Assert.True(listed.ExitCode == 0, listed.Stderr);
        var lines = Encoding.UTF8.GetString(listed.Stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(new Regex(@"^drwxr-xr-x\s.*\sdev$"), lines[0]);
        Assert.Matches(new Regex(@"^crw-------\s.*\s5,\s*1\s.*\sdev/console$"), lines[1]);
        Assert.Matches(new Regex(@"^-rwxr-xr-x\s.*\s3\s.*\sinit$"), lines[2]);
    }

    [Fact]
    public async Task GnuCpioExtractsTheSameBytes()
    {
        byte[] init = new byte[5003];   // not a multiple of 4: the data must be padded
        new Random(7).NextBytes(init);
        var extracted = await HostProcess.RunAsync("cpio", GuestLikeArchive(init), "-i", "--to-stdout", "--quiet", "init");
        Assert.True(extracted.ExitCode == 0, extracted.Stderr);
        Assert.Equal(init, extracted.Stdout);
    }

    [Fact]
    public void LeadingSlashesAreDroppedAndTheTrailerNameIsRefused()
    {
        var cpio = new CpioNewcWriter();
        cpio.AddFile("/etc/x", [9]);
        Assert.Throws<ArgumentException>(() => cpio.AddFile("TRAILER!!!", []));
        Assert.Throws<ArgumentException>(() => cpio.AddFile("/", []));
        var members = NewcReader.Read(cpio.ToArray());
        Assert.Equal(["etc/x", "TRAILER!!!"], members.Select(m => m.Name));
    }

    [Fact]
    public void NothingCanBeAddedAfterTheTrailer()
    {
        var cpio = new CpioNewcWriter();
        cpio.AddDirectory("a");
        byte[] first = cpio.ToArray();
        Assert.Equal(first, cpio.ToArray());
        Assert.Throws<InvalidOperationException>(() => cpio.AddDirectory("b"));
    }

    /// <summary>Any files, any sizes: read back by an independent parser, names and bytes intact, every part aligned.</summary>
    [Property(MaxTest = 200)]
    public bool EveryFileRoundTrips(byte[][] contents)
    {
        var cpio = new CpioNewcWriter();
        for (int i = 0; i < contents.Length; i++) cpio.AddFile($"dir/file{i}", contents[i] ?? []);
        byte[] archive = cpio.ToArray();
        var members = NewcReader.Read(archive);
        if (archive.Length % 4 != 0 || members.Count != contents.Length + 1 || members[^1].Name != "TRAILER!!!") return false;
        for (int i = 0; i < contents.Length; i++)
        {
            var m = members[i];
            if (m.Name != $"dir/file{i}" || (m.Mode & 0xF000) != CpioNewcWriter.TypeRegular || !m.Data.SequenceEqual(contents[i] ?? [])) return false;
            if (m.Inode == 0 || members.Take(i).Any(o => o.Inode == m.Inode)) return false;   // distinct inodes: no accidental hard links
        }
        return true;
    }
}

/// <summary>A newc reader written from the format description, to check the writer against.</summary>
internal static class NewcReader
{
    public sealed record Member(string Name, uint Inode, uint Mode, uint RdevMajor, uint RdevMinor, byte[] Data);

    public static List<Member> Read(byte[] archive)
    {
        var members = new List<Member>();
        int at = 0;
        while (true)
        {
            Assert.Equal(0, at % 4);
            Assert.Equal("070701", Encoding.ASCII.GetString(archive, at, 6));
            uint Field(int index) => Convert.ToUInt32(Encoding.ASCII.GetString(archive, at + 6 + 8 * index, 8), 16);
            uint inode = Field(0), mode = Field(1), fileSize = Field(6), rdevMajor = Field(9), rdevMinor = Field(10), nameSize = Field(11);
            string name = Encoding.UTF8.GetString(archive, at + 110, (int)nameSize - 1);
            Assert.Equal(0, archive[at + 110 + nameSize - 1]);
            int data = Align4(at + 110 + (int)nameSize);
            members.Add(new Member(name, inode, mode, rdevMajor, rdevMinor, archive[data..(data + (int)fileSize)]));
            at = Align4(data + (int)fileSize);
            if (name == "TRAILER!!!") break;
        }
        Assert.Equal(archive.Length, at);
        return members;
    }

    private static int Align4(int x) => (x + 3) & ~3;
}
