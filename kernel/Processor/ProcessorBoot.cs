// What the processor sets up once, before it runs any user code (self-tests included):
// SYSCALL, the handlers for exceptions from ring 3, the realtime clock, and the ExCache.
using Tessera.Core;
using Tessera.Processor.Syscalls;

namespace Tessera.Processor
{
    public static class ProcessorBoot
    {
        private static bool s_done;

        public static void Initialize()
        {
            if (s_done) return;
            s_done = true;
            UserMode.EnableSyscalls();
            UserExceptions.Install();
            WallClock.Initialize();
            SyscallDispatcher.Trace = KernelMain.CommandLine.Has("syscall_trace");
            ExCacheSetup.Initialize();
        }
    }
}
