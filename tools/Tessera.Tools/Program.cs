using System.CommandLine;
using Spectre.Console;
using Tessera.Tools;
using Tessera.Tools.Bench;
using Tessera.Tools.Build;
using Tessera.Tools.Qemu;

// Piped output (CI, logs): no wrapping at 80 columns.
if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 1000;

// The Tessera command line (build.sh and build.ps1 forward here): one verb per job.
var root = new RootCommand("Tessera: build, boot, test and measure the splitkernel.");

// ---- build ----
var buildKinds = new Argument<string[]>("kinds") { Description = "processor, memory and/or storage (default: all)", Arity = ArgumentArity.ZeroOrMore };
var verbose = new Option<bool>("--verbose", "-v") { Description = "Also list the steps that were up to date" };
var build = new Command("build", "Build the kernel images: iso/tessera-<kind>.iso and iso/tessera-<kind>.elf") { buildKinds, verbose };
build.SetAction(async (parse, _) => await Verbs.BuildAsync(Verbs.CheckKinds(parse.GetValue(buildKinds)), parse.GetValue(verbose)) ? 0 : 1);
root.Subcommands.Add(build);

// ---- boot ----
var bootKind = new Argument<string>("kind") { Description = "processor, memory or storage" };
var gdb = new Option<bool>("--gdb") { Description = "Wait for gdb on QEMU's stub and print the gdb command" };
var gdbPort = new Option<int>("--gdb-port") { Description = "TCP port of the gdb stub (loopback)", DefaultValueFactory = _ => 1234 };
var append = new Option<string>("--append") { Description = "Kernel command line, e.g. \"selftest\"", DefaultValueFactory = _ => "" };
var iso = new Option<bool>("--iso") { Description = "Boot the ISO through GRUB instead of -kernel" };
var memory = new Option<string>("--memory", "-m") { Description = "Guest memory", DefaultValueFactory = _ => "64M" };
var cpu = new Option<string?>("--cpu") { Description = "QEMU CPU model (qemu64, max, ...)" };
var timeout = new Option<int>("--timeout") { Description = "Seconds before the VM is ended (0: never)", DefaultValueFactory = _ => 0 };
var boot = new Command("boot", "Boot one image in QEMU with its serial console on this terminal") { bootKind, gdb, gdbPort, append, iso, memory, cpu, timeout };
boot.SetAction(async (parse, _) =>
{
    string kind = Verbs.CheckKinds([parse.GetValue(bootKind)!])[0];
    if (!await Verbs.BuildAsync([kind], false)) return 1;
    var options = new QemuOptions
    {
        Kind = kind, Iso = parse.GetValue(iso), Append = parse.GetValue(append) ?? "", Memory = parse.GetValue(memory)!,
        Cpu = parse.GetValue(cpu), GdbPort = parse.GetValue(gdb) ? parse.GetValue(gdbPort) : null, WaitForGdb = parse.GetValue(gdb),
    };
    return await Verbs.BootInteractiveAsync(options, parse.GetValue(timeout));
});
root.Subcommands.Add(boot);

// ---- test ----
var full = new Option<bool>("--full") { Description = "Also run the long matrices (every CPU and memory size)" };
var filter = new Option<string?>("--filter") { Description = "dotnet test filter expression" };
var test = new Command("test", "Build everything and run the host, boot and gdb tests") { full, filter };
test.SetAction(async (parse, _) => await Verbs.TestAsync(parse.GetValue(full), parse.GetValue(filter)));
root.Subcommands.Add(test);

// ---- bench ----
var benchWhat = new Argument<string>("what") { Description = "boot or rpc" };
var runs = new Option<int?>("--runs") { Description = "Runs per configuration, min and median are reported (default: boot 5, rpc 3)" };
var calls = new Option<int>("--calls") { Description = "rpc: measured calls (and pings, and UDP round trips) per run", DefaultValueFactory = _ => 10000 };
var bench = new Command("bench", "Measure Tessera against its baselines; writes out/bench/<what>.{json,md,png}") { benchWhat, runs, calls };
bench.SetAction(async (parse, _) =>
{
    string what = parse.GetValue(benchWhat)!;
    if (what is not ("boot" or "rpc")) return Verbs.Fail($"unknown benchmark '{what}' (known: boot, rpc)");
    if (!await Verbs.BuildAsync(Repo.Kinds, false)) return 1;
    return what switch
    {
        "boot" => await BootBenchmark.RunAsync(parse.GetValue(runs) ?? 5),
        _ => await RpcBenchmark.RunAsync(parse.GetValue(runs) ?? 3, parse.GetValue(calls)),
    };
});
root.Subcommands.Add(bench);

// ---- rig ----
var processors = new Option<int>("--processors") { Description = "Processor components", DefaultValueFactory = _ => 1 };
var memories = new Option<int>("--memories") { Description = "Memory components", DefaultValueFactory = _ => 1 };
var storages = new Option<int>("--storages") { Description = "Storage components", DefaultValueFactory = _ => 1 };
var config = new Option<string?>("--config") { Description = "Rig config file (key = value lines; see tools/Tessera.Tools/Rig/RigConfig.cs)" };
var rigGdb = new Option<bool>("--gdb") { Description = "Give every VM its own gdb port; VMs wait for gdb" };
var pcap = new Option<string?>("--pcap") { Description = "Record the rig's network traffic to this pcap file" };
var rigTimeout = new Option<int>("--timeout") { Description = "End the rig after S seconds (0: run until Ctrl-C)", DefaultValueFactory = _ => 0 };
var rigAppend = new Option<string>("--append") { Description = "Extra kernel command-line words for every node", DefaultValueFactory = _ => "" };
var guestMemory = new Option<string>("--memory", "-m") { Description = "Guest memory per VM", DefaultValueFactory = _ => "64M" };
var files = new Option<string?>("--files") { Description = "Put this folder's contents in the root of the storage disk (mke2fs -d)" };
var keepDisk = new Option<string?>("--keep-disk") { Description = "Keep the storage disk image at this path after the run" };
var rig = new Command("rig", "Boot a whole rig: one VM per component on one loopback Ethernet segment")
    { processors, memories, storages, config, rigGdb, pcap, rigTimeout, rigAppend, guestMemory, files, keepDisk };
rig.SetAction(async (parse, token) =>
{
    var rigConfig = new Tessera.Tools.Rig.RigConfig
    {
        Processors = parse.GetValue(processors), Memories = parse.GetValue(memories), Storages = parse.GetValue(storages),
        GuestMemory = parse.GetValue(guestMemory)!, Append = parse.GetValue(rigAppend) ?? "",
        Files = parse.GetValue(files), KeepDisk = parse.GetValue(keepDisk),
    };
    if (parse.GetValue(config) is string file) rigConfig = Tessera.Tools.Rig.RigConfig.Load(file, rigConfig);
    if (!await Verbs.BuildAsync(Repo.Kinds, false)) return 1;
    return await Verbs.RigAsync(rigConfig, parse.GetValue(rigGdb), parse.GetValue(pcap), parse.GetValue(rigTimeout), token);
});
root.Subcommands.Add(rig);

// ---- run ----
var runTimeout = new Option<int>("--timeout") { Description = "Seconds to wait for every node to answer", DefaultValueFactory = _ => 120 };
var runProgram = new Argument<string[]>("program") { Description = "A static x86-64 Linux executable and its arguments (optional)", Arity = ArgumentArity.ZeroOrMore };
var run = new Command("run", "Build, boot the default rig and show its cluster table; or run PROGRAM [ARGS...] on it")
    { runProgram, processors, memories, storages, config, runTimeout, rigAppend, guestMemory, files, keepDisk };
run.SetAction(async (parse, token) =>
{
    var rigConfig = new Tessera.Tools.Rig.RigConfig
    {
        Processors = parse.GetValue(processors), Memories = parse.GetValue(memories), Storages = parse.GetValue(storages),
        GuestMemory = parse.GetValue(guestMemory)!, Append = parse.GetValue(rigAppend) ?? "",
        Files = parse.GetValue(files), KeepDisk = parse.GetValue(keepDisk),
    };
    if (parse.GetValue(config) is string file) rigConfig = Tessera.Tools.Rig.RigConfig.Load(file, rigConfig);
    if (!await Verbs.BuildAsync(Repo.Kinds, false)) return 1;
    string[] program = parse.GetValue(runProgram) ?? [];
    return program.Length > 0
        ? await Verbs.RunProgramAsync(rigConfig, program, parse.GetValue(runTimeout))
        : await Verbs.RunAsync(rigConfig, parse.GetValue(runTimeout));
});
root.Subcommands.Add(run);

// ---- clean ----
var clean = new Command("clean", "Remove obj/, out/ and the built images");
clean.SetAction(_ => { Verbs.Clean(); return 0; });
root.Subcommands.Add(clean);

try
{
    return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (e is BuildException or ToolMissingException or ArgumentException)
{
    AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
    return 1;
}
