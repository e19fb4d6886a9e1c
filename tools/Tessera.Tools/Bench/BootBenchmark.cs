namespace Tessera.Tools.Bench;

// Placeholder until the boot benchmark lands (issue 2, item 8).
public static class BootBenchmark
{
    public static Task<int> RunAsync(int runs) => throw new NotImplementedException("bench boot is being written");
}
