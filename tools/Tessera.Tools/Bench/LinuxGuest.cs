using System.Text.RegularExpressions;
using CliWrap;
using CliWrap.Buffered;
using Spectre.Console;
using Tessera.Tools.Build;

namespace Tessera.Tools.Bench;

/// <summary>
/// The Linux baseline of the boot benchmark (DESIGN §7): Debian's 6.1 kernel from the package
/// registry, booted by the same QEMU as Tessera, to a one-line /init in an initramfs.
/// Two ways to boot it:
///  - the stock bzImage (compressed; QEMU's Linux boot protocol, then the kernel decompresses
///    itself), with the command line most people would write;
///  - the uncompressed vmlinux taken out of it, which QEMU starts at its PVH entry point
///    (no real-mode setup, no decompression), with a command line tuned for boot time.
/// The kernel is downloaded once into out/cache/linux/ (git-ignored); the /init and the
/// initramfs are rebuilt every run from tests/apps/hello-init.c (both take well under a second).
/// </summary>
public sealed record LinuxGuest(string Package, string Version, string BzImagePath, string VmlinuxPath, string InitramfsPath)
{
    /// <summary>What tests/apps/hello-init.c prints; its arrival on serial ends the measurement.</summary>
    public const string InitLine = "hello-init: /init is running";

    /// <summary>The stock command line: a serial console and no boot chatter.</summary>
    public const string StockCommandLine = "console=ttyS0 quiet";

    /// <summary>
    /// The tuned command line for the PVH boot: work a VM with one CPU and no devices does not
    /// need. acpi=off skips parsing and running the ACPI tables (DESIGN §7 names it; measured
    /// here: about 0.1-0.4 s off the PVH boot); mitigations=off skips patching in the
    /// speculative-execution workarounds; tsc=reliable and no_timer_check skip the clocksource
    /// watchdog and the timer interrupt check. The last three gain little, within the noise of
    /// this shared machine (docs/bench-boot.md), but can only remove work, so Linux gets them.
    /// </summary>
    public const string TunedCommandLine = "console=ttyS0 quiet acpi=off mitigations=off tsc=reliable no_timer_check";

    // linux-image-6.1.0-<abi>-amd64: the signed generic kernel (not -rt, -cloud or -dbg).
    private static readonly Regex PackageName = new(@"^linux-image-6\.1\.0-(\d+)-amd64$", RegexOptions.CultureInvariant);

    public static string CacheDir => Repo.Path("out", "cache", "linux");
    public static string WorkDir => Repo.Path("out", "bench", "linux");
    public static string InitSource => Repo.Path("tests", "apps", "hello-init.c");

    /// <summary>Makes sure the kernel is cached and builds the initramfs.</summary>
    public static async Task<LinuxGuest> PrepareAsync()
    {
        var (package, version, dir) = await EnsureKernelAsync(withModules: false);
        string initramfs = await BuildInitramfsAsync();
        return new LinuxGuest(package, version, Path.Combine(dir, "vmlinuz"), Path.Combine(dir, "vmlinux"), initramfs);
    }

    // ------------------------------------------------------------------ the network guest

    /// <summary>
    /// The modules a virtio-net NIC needs in Debian's kernel, which builds virtio itself as
    /// modules too: the PCI transport (virtio_pci) and the driver (virtio_net); their
    /// dependencies (virtio, virtio_ring, virtio_pci_modern_dev, virtio_pci_legacy_dev,
    /// net_failover, failover) are found from each module's depends= (KernelModules).
    /// </summary>
    public static readonly string[] NetworkModuleRoots = ["virtio_pci", "virtio_net"];

    // Where those modules and their dependencies live in the package: the tar patterns that
    // extract them (with --no-wildcards-match-slash, so `*` stays within one directory).
    private static readonly string[] ModulePatterns =
    [
        "./lib/modules/*/kernel/drivers/virtio/*.ko*",
        "./lib/modules/*/kernel/drivers/net/*.ko*",
        "./lib/modules/*/kernel/net/core/*.ko*",
    ];

    public static string NetworkInitSource => Repo.Path("tests", "apps", "linux-ping-init.sh");

    /// <summary>
    /// The Linux baseline of `bench rpc`: the same kernel as `bench boot` (the PVH vmlinux), an
    /// initramfs with BusyBox (static, from Debian's busybox-static) for its shell, insmod, ip and
    /// ping, the virtio-net modules from the kernel's own package, and tests/apps/linux-ping-init.sh
    /// as /init. Kernel, modules and BusyBox are fetched once into out/cache/.
    /// </summary>
    public static async Task<LinuxNetworkGuest> PrepareNetworkAsync()
    {
        var (package, version, dir) = await EnsureKernelAsync(withModules: true);
        var (busyboxVersion, busybox) = await EnsureBusyboxAsync();
        string modulesDir = Path.Combine(dir, "modules");
        var order = File.ReadAllLines(Path.Combine(modulesDir, "order")).Where(l => l.Length > 0).ToList();

        var cpio = new CpioNewcWriter();
        foreach (var d in new[] { "bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "tmp", "modules" }) cpio.AddDirectory(d);
        cpio.AddCharDevice("dev/console", major: 5, minor: 1);
        cpio.AddFile("bin/busybox", await File.ReadAllBytesAsync(busybox), permissions: 0x1ED /* 0755 */);
        foreach (var m in order) cpio.AddFile($"modules/{m}.ko", await File.ReadAllBytesAsync(Path.Combine(modulesDir, m + ".ko")));
        cpio.AddFile("modules/order", System.Text.Encoding.ASCII.GetBytes(string.Join('\n', order) + "\n"));
        cpio.AddFile("init", await File.ReadAllBytesAsync(NetworkInitSource), permissions: 0x1ED /* 0755 */);
        Directory.CreateDirectory(WorkDir);
        string initramfs = Path.Combine(WorkDir, "initramfs-net.cpio");
        await File.WriteAllBytesAsync(initramfs, cpio.ToArray());
        return new LinuxNetworkGuest(package, version, Path.Combine(dir, "vmlinux"), initramfs, order, busyboxVersion);
    }

    /// <summary>BusyBox from Debian's busybox-static (one static binary), cached in out/cache/busybox/VERSION/.</summary>
    private static async Task<(string Version, string Path)> EnsureBusyboxAsync()
    {
        const string package = "busybox-static";
        string cacheRoot = Repo.Path("out", "cache", "busybox");
        string? version = HostTools.Find("apt-cache") is null ? null : await PackageVersionAsync(package);
        if (version is null or "unknown")
        {
            // No package information: fall back on one fetched earlier.
            var cached = Directory.Exists(cacheRoot) ? Directory.GetDirectories(cacheRoot).Order(StringComparer.Ordinal).LastOrDefault(d => File.Exists(Path.Combine(d, "busybox"))) : null;
            if (cached is null) throw new BuildException("apt knows no busybox-static package (apt-get update failed?) and none is cached in out/cache/busybox");
            return (Path.GetFileName(cached), Path.Combine(cached, "busybox"));
        }
        string dir = Path.Combine(cacheRoot, version.Replace(':', '_'));
        string binary = Path.Combine(dir, "busybox");
        if (File.Exists(binary)) return (version, binary);

        AnsiConsole.MarkupLineInterpolated($"  [blue]busybox[/]        fetching {package} {version} (once; cached in out/cache/busybox)");
        string download = Path.Combine(cacheRoot, "download");
        try
        {
            string deb = await DownloadAsync(package, download);
            await RunAsync(Cli.Wrap(HostTools.Require("dpkg-deb")).WithArguments(["--fsys-tarfile", deb])
                | Cli.Wrap(HostTools.Require("tar")).WithArguments(["-x", "-C", download, "./bin/busybox"]));
            Directory.CreateDirectory(dir);
            File.Move(Path.Combine(download, "bin", "busybox"), binary, overwrite: true);
        }
        finally
        {
            if (Directory.Exists(download)) Directory.Delete(download, true);
        }
        return (version, binary);
    }

    /// <summary>Fetches a package's .deb with apt-get into a fresh directory; returns its path.</summary>
    private static async Task<string> DownloadAsync(string package, string directory)
    {
        if (Directory.Exists(directory)) Directory.Delete(directory, true);
        Directory.CreateDirectory(directory);
        // As root apt warns that it cannot drop to the _apt user for this folder; harmless.
        await RunAsync(Cli.Wrap(HostTools.Require("apt-get")).WithArguments(["download", "-qq", package]).WithWorkingDirectory(directory));
        return Directory.GetFiles(directory, "*.deb").Single();
    }

    /// <summary>
    /// Takes the network modules out of the kernel package (already downloaded into download/):
    /// the candidates by ModulePatterns, then only the roots and what they depend on, each
    /// decompressed if the package ships it compressed, into dir/modules/ with their load order
    /// in dir/modules/order.
    /// </summary>
    private static async Task ExtractModulesAsync(string deb, string download, string dir)
    {
        string staging = Path.Combine(download, "modules");
        Directory.CreateDirectory(staging);
        await RunAsync(Cli.Wrap(HostTools.Require("dpkg-deb")).WithArguments(["--fsys-tarfile", deb])
            | Cli.Wrap(HostTools.Require("tar")).WithArguments(["-x", "-C", staging, "--wildcards", "--no-wildcards-match-slash", .. ModulePatterns]));
        var found = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(staging, "*.ko*", SearchOption.AllDirectories))
        {
            string name = Path.GetFileName(file);
            string plain = file;
            if (name.EndsWith(".ko.xz", StringComparison.Ordinal))
            {
                plain = file[..^3];
                await RunAsync(Cli.Wrap(HostTools.Require("xz")).WithArguments(["-d", "-k", "-f", file]));
            }
            else if (!name.EndsWith(".ko", StringComparison.Ordinal)) continue;
            found[KernelModules.Canonical(Path.GetFileName(plain)[..^3])] = plain;
        }
        var order = KernelModules.LoadOrder(NetworkModuleRoots,
            name => found.TryGetValue(name, out var path) ? KernelModules.Depends(File.ReadAllBytes(path)) : null);
        string modules = Path.Combine(dir, "modules");
        if (Directory.Exists(modules)) Directory.Delete(modules, true);
        Directory.CreateDirectory(modules);
        foreach (var m in order) File.Copy(found[m], Path.Combine(modules, m + ".ko"));
        // Written last: its presence says the directory is complete.
        await File.WriteAllLinesAsync(Path.Combine(modules, "order"), order);
    }

    private static async Task<(string Package, string Version, string Dir)> EnsureKernelAsync(bool withModules)
    {
        string? package = await NewestPackageAsync();
        if (package is null)
        {
            // Registry unreachable and no package list: fall back on a kernel fetched earlier.
            var cached = Directory.Exists(CacheDir)
                ? Directory.GetDirectories(CacheDir)
                    .Where(d => File.Exists(Path.Combine(d, "vmlinux")) && (!withModules || File.Exists(Path.Combine(d, "modules", "order"))))
                    .Order(StringComparer.Ordinal).LastOrDefault()
                : null;
            if (cached is null)
                throw new BuildException("no linux-image-6.1.0-*-amd64 package is known to apt (apt-get update failed?) and none is cached in out/cache/linux");
            var parts = Path.GetFileName(cached).Split('_');
            return (parts[0], parts.Length > 1 ? parts[1] : "?", cached);
        }

        string version = await PackageVersionAsync(package);
        string dir = Path.Combine(CacheDir, $"{package}_{version}");
        string vmlinuz = Path.Combine(dir, "vmlinuz"), vmlinux = Path.Combine(dir, "vmlinux");
        bool haveKernel = File.Exists(vmlinuz) && File.Exists(vmlinux);
        bool haveModules = File.Exists(Path.Combine(dir, "modules", "order"));
        if (haveKernel && (haveModules || !withModules)) return (package, version, dir);

        AnsiConsole.MarkupLineInterpolated($"  [blue]linux[/]          fetching {package} {version} (once; cached in out/cache/linux)");
        string download = Path.Combine(CacheDir, "download");
        Directory.CreateDirectory(dir);
        try
        {
            string deb = await DownloadAsync(package, download);
            if (!haveKernel)
            {
                // `dpkg-deb -x` would unpack every module too (about 400 MB); the kernel alone is enough.
                var extract = Cli.Wrap(HostTools.Require("dpkg-deb")).WithArguments(["--fsys-tarfile", deb])
                    | Cli.Wrap(HostTools.Require("tar")).WithArguments(["-x", "-C", download, "--wildcards", "./boot/vmlinuz-*"]);
                await RunAsync(extract);
                string extracted = Directory.GetFiles(Path.Combine(download, "boot"), "vmlinuz-*").Single();
                File.Move(extracted, vmlinuz, overwrite: true);
                AnsiConsole.MarkupLine("  [blue]linux[/]          extracting the PVH vmlinux from the bzImage's XZ stream");
                await BzImage.ExtractVmlinuxAsync(vmlinuz, vmlinux);
            }
            if (withModules && !haveModules)
            {
                AnsiConsole.MarkupLine("  [blue]linux[/]          extracting the virtio-net modules and their dependencies");
                await ExtractModulesAsync(deb, download, dir);
            }
        }
        finally
        {
            if (Directory.Exists(download)) Directory.Delete(download, true);
        }
        return (package, version, dir);
    }

    /// <summary>The newest linux-image-6.1.0-N-amd64 apt knows (largest ABI number N); runs
    /// apt-get update first when the package lists are empty and we may.</summary>
    private static async Task<string?> NewestPackageAsync()
    {
        string? newest = await SearchAsync();
        if (newest is null && Environment.UserName == "root" && HostTools.Find("apt-get") is not null)
        {
            await Cli.Wrap("apt-get").WithArguments(["update", "-qq"]).WithValidation(CommandResultValidation.None).ExecuteBufferedAsync();
            newest = await SearchAsync();
        }
        return newest;

        static async Task<string?> SearchAsync()
        {
            if (HostTools.Find("apt-cache") is not string aptCache) return null;
            var result = await Cli.Wrap(aptCache).WithArguments(["search", "--names-only", @"^linux-image-6\.1\.0-[0-9]+-amd64$"])
                .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync();
            return result.StandardOutput.Split('\n')
                .Select(line => line.Split(' ', 2)[0].Trim())
                .Select(name => (name, match: PackageName.Match(name)))
                .Where(p => p.match.Success)
                .OrderBy(p => int.Parse(p.match.Groups[1].Value))
                .Select(p => p.name)
                .LastOrDefault();
        }
    }

    private static async Task<string> PackageVersionAsync(string package)
    {
        var result = await Cli.Wrap(HostTools.Require("apt-cache")).WithArguments(["show", "--no-all-versions", package])
            .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync();
        return result.StandardOutput.Split('\n').FirstOrDefault(l => l.StartsWith("Version: ", StringComparison.Ordinal))?["Version: ".Length..].Trim()
            ?? "unknown";
    }

    /// <summary>
    /// initramfs = /init (musl-static hello-init) + /dev/console. The console node matters: the
    /// kernel opens /dev/console for init's stdin/stdout/stderr (init/main.c, console_on_rootfs)
    /// and an initramfs brings no devtmpfs, so without the node /init's line goes nowhere.
    /// </summary>
    private static async Task<string> BuildInitramfsAsync()
    {
        Directory.CreateDirectory(WorkDir);
        string init = Path.Combine(WorkDir, "init");
        await RunAsync(Cli.Wrap(HostTools.Require("musl-gcc")).WithArguments(["-static", "-Os", "-s", "-o", init, InitSource]));

        var cpio = new CpioNewcWriter();
        cpio.AddDirectory("dev");
        cpio.AddCharDevice("dev/console", major: 5, minor: 1);   // Documentation/admin-guide/devices.txt: 5,1 = /dev/console
        cpio.AddFile("init", await File.ReadAllBytesAsync(init), permissions: 0x1ED /* 0755 */);
        string initramfs = Path.Combine(WorkDir, "initramfs.cpio");
        await File.WriteAllBytesAsync(initramfs, cpio.ToArray());
        return initramfs;
    }

    private static async Task RunAsync(Command command)
    {
        var result = await command.WithValidation(CommandResultValidation.None).ExecuteBufferedAsync();
        if (result.ExitCode != 0)
            throw new BuildException($"{Path.GetFileName(command.TargetFilePath)} failed ({result.ExitCode}): {(result.StandardError + result.StandardOutput).Trim()}");
    }
}

/// <summary>The Linux guest of `bench rpc` (LinuxGuest.PrepareNetworkAsync): PVH vmlinux, an initramfs with
/// BusyBox, the virtio-net modules (in load order) and tests/apps/linux-ping-init.sh as /init.</summary>
public sealed record LinuxNetworkGuest(string Package, string Version, string VmlinuxPath, string InitramfsPath, IReadOnlyList<string> Modules, string BusyboxVersion);
