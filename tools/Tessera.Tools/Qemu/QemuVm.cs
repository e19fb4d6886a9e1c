using System.Diagnostics;
using CliWrap;

namespace Tessera.Tools.Qemu;

/// <summary>How to boot one Tessera image.</summary>
public sealed record QemuOptions
{
    public required string Kind { get; init; }
    /// <summary>Boot the ISO through GRUB instead of the ELF through QEMU's -kernel.</summary>
    public bool Iso { get; init; }
    /// <summary>Kernel command line (for the ISO: passed through fw_cfg, see drivers/FwCfg.cs).</summary>
    public string Append { get; init; } = "";
    public string Memory { get; init; } = "64M";
    public string? Cpu { get; init; }
    /// <summary>Open QEMU's gdb stub on this TCP port (loopback only).</summary>
    public int? GdbPort { get; init; }
    /// <summary>With GdbPort: do not start the CPU until gdb says `continue`.</summary>
    public bool WaitForGdb { get; init; }
    /// <summary>Boot this file with -kernel instead of iso/tessera-&lt;kind&gt;.elf (a test image, the benchmark's floor, or Linux).</summary>
    public string? ElfOverride { get; init; }
    /// <summary>Boot this ISO instead of iso/tessera-&lt;kind&gt;.iso.</summary>
    public string? IsoOverride { get; init; }
    /// <summary>With -kernel: an initial RAM disk (-initrd), used by the Linux baseline of `bench boot`.</summary>
    public string? Initrd { get; init; }
    public IReadOnlyList<string> ExtraArguments { get; init; } = [];
    /// <summary>
    /// Chardevs for the second, third ... serial ports (COM2, COM3 ...), after COM1 on stdio:
    /// e.g. "file:out/run/processor1.stdout". The processor writes its programs' standard
    /// output to COM2 and standard error to COM3 (kernel/Processor/Process/OutputSink.cs).
    /// </summary>
    public IReadOnlyList<string> ExtraSerials { get; init; } = [];
    /// <summary>NICs and netdevs; without any, the VM has no network (-nic none).</summary>
    public IReadOnlyList<string> NetworkArguments { get; init; } = [];

    /// <summary>The QEMU command line. Exit codes come from isa-debug-exit (DESIGN §4).</summary>
    public List<string> ToArguments()
    {
        var args = new List<string>
        {
            "-machine", "pc", "-m", Memory, "-smp", "1",
            "-display", "none", "-vga", "none", "-monitor", "none",
            "-serial", "stdio", "-no-reboot",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
        };
        foreach (var serial in ExtraSerials) args.AddRange(["-serial", serial]);
        if (NetworkArguments.Count == 0) args.AddRange(["-nic", "none"]);
        else args.AddRange(NetworkArguments);
        if (Cpu != null) args.AddRange(["-cpu", Cpu]);
        if (Iso)
        {
            args.AddRange(["-cdrom", IsoOverride ?? Repo.Iso(Kind), "-boot", "d"]);
            if (Append.Length > 0) args.AddRange(["-fw_cfg", $"name=opt/tessera/cmdline,string={Append}"]);
        }
        else
        {
            args.AddRange(["-kernel", ElfOverride ?? Repo.Elf(Kind)]);
            if (Initrd != null) args.AddRange(["-initrd", Initrd]);
            if (Append.Length > 0) args.AddRange(["-append", Append]);
        }
        if (GdbPort is int port) args.AddRange(["-gdb", $"tcp:127.0.0.1:{port}"]);
        if (WaitForGdb) args.Add("-S");
        args.AddRange(ExtraArguments);
        return args;
    }
}

/// <summary>Exit codes of a Tessera VM: what the kernel wrote to isa-debug-exit, or what went wrong.</summary>
public static class QemuExit
{
    public const int Pass = 33;     // kernel wrote 0x10
    public const int Fail = 35;     // kernel wrote 0x11 (failure or panic)
    public const int TimedOut = 124;

    public static string Describe(int code) => code switch
    {
        Pass => "pass (33)",
        Fail => "fail or panic (35)",
        TimedOut => "timed out (124)",
        0 => "QEMU exited 0: the guest reset or triple-faulted (-no-reboot)",
        _ => $"QEMU exited {code}",
    };
}

/// <summary>A serial line and when it arrived, measured from just before QEMU was started.</summary>
public readonly record struct TimedLine(string Text, TimeSpan At);

/// <summary>
/// One QEMU process running a Tessera image, its serial console captured line by line
/// into memory and a log file. Every run has a timeout; the VM is ended by its PID.
/// </summary>
public sealed class QemuVm : IAsyncDisposable
{
    private readonly List<string> _lines = [];
    private readonly List<TimeSpan> _arrivals = [];
    private readonly object _gate = new();
    private readonly CancellationTokenSource _kill = new();
    private readonly StreamWriter _log;
    private CommandTask<CommandResult>? _task;
    private Task? _exitTimed;
    private TaskCompletionSource _lineAdded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public QemuOptions Options { get; }
    public string LogPath { get; }
    public Action<string>? OnLine { get; init; }
    public int? ProcessId => _task?.ProcessId;
    /// <summary>Started right before the QEMU process is; every timestamp below is read from it.</summary>
    public Stopwatch SinceStart { get; } = new();
    /// <summary>When the QEMU process was seen to end (null while it runs).</summary>
    public TimeSpan? ExitedAt { get; private set; }

    public QemuVm(QemuOptions options, string logPath)
    {
        Options = options;
        LogPath = logPath;
        Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
        _log = new StreamWriter(logPath, append: false) { AutoFlush = true };
    }

    public IReadOnlyList<string> Lines { get { lock (_gate) return _lines.ToList(); } }
    public string Output { get { lock (_gate) return string.Join('\n', _lines); } }

    public void Start()
    {
        string qemu = HostTools.Require("qemu-system-x86_64");
        var args = Options.ToArguments();
        _log.WriteLine("# qemu-system-x86_64 " + string.Join(' ', args.Select(a => a.Contains(' ') ? $"'{a}'" : a)));
        SinceStart.Start();
        _task = Cli.Wrap(qemu).WithArguments(args)
            .WithStandardInputPipe(PipeSource.Null)
            .WithStandardOutputPipe(PipeTarget.ToDelegate(AddLine))
            .WithStandardErrorPipe(PipeTarget.ToDelegate(l => AddLine("[qemu] " + l)))
            .WithValidation(CommandResultValidation.None)
            .ExecuteAsync(_kill.Token);
        // Read the clock the moment the process is reaped, not when an awaiting caller resumes.
        _exitTimed = _task.Task.ContinueWith(_ => ExitedAt = SinceStart.Elapsed, TaskContinuationOptions.ExecuteSynchronously);
    }

    private void AddLine(string raw)
    {
        // First the clock: the line's arrival time is what `bench boot` measures.
        var at = SinceStart.Elapsed;
        string line = raw.TrimEnd('\r');
        TaskCompletionSource signal;
        lock (_gate)
        {
            _lines.Add(line);
            _arrivals.Add(at);
            signal = _lineAdded;
            _lineAdded = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        _log.WriteLine(line);
        OnLine?.Invoke(line);
        signal.TrySetResult();
    }

    /// <summary>Waits until a serial line matches; returns it, or null on timeout or when QEMU ends first.</summary>
    public async Task<string?> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout) =>
        (await WaitForTimedLineAsync(match, timeout))?.Text;

    /// <summary>Waits until a serial line matches; returns it with its arrival time, or null on timeout or when QEMU ends first.</summary>
    public async Task<TimedLine?> WaitForTimedLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        int seen = 0;
        while (true)
        {
            Task next;
            lock (_gate)
            {
                for (; seen < _lines.Count; seen++)
                    if (match(_lines[seen])) return new TimedLine(_lines[seen], _arrivals[seen]);
                next = _lineAdded.Task;
            }
            if (_task!.Task.IsCompleted) return null;
            var left = timeout - deadline.Elapsed;
            if (left <= TimeSpan.Zero) return null;
            await Task.WhenAny(next, _task.Task, Task.Delay(left));
        }
    }

    /// <summary>Waits for QEMU to exit; on timeout ends it and returns 124.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        var finished = await Task.WhenAny(_task!.Task, Task.Delay(timeout));
        if (finished != _task.Task)
        {
            _log.WriteLine($"# timed out after {timeout.TotalSeconds:0.#} s: ending QEMU (pid {ProcessId})");
            await StopAsync();
            return QemuExit.TimedOut;
        }
        var result = await _task;
        await _exitTimed!;   // so ExitedAt is set when this returns
        _log.WriteLine($"# qemu exited {result.ExitCode} after {SinceStart.Elapsed.TotalSeconds:0.000} s");
        return result.ExitCode;
    }

    /// <summary>Ends the VM (only this process, by PID) and waits for it to be gone.</summary>
    public async Task StopAsync()
    {
        if (_task is null || _task.Task.IsCompleted) return;
        _kill.Cancel();
        try { await _task; } catch (OperationCanceledException) { }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _log.DisposeAsync();
        _kill.Dispose();
    }
}
