// The memory component's hooks into the shared kernel entry (kernel/Core/KernelMain.cs).
using Tessera.Core;
using Tessera.Core.Cluster;
using Tessera.Core.Net;
using Tessera.Memory;

namespace Tessera
{
    public static class Component
    {
        public const string Kind = "memory";

        /// <summary>Self-tests of what only this component has (run after the core's).</summary>
        public static void RunSelfTests()
        {
            AddressSpaceSelfTests.RunAll();
            MemoryServiceSelfTests.RunAll();
        }

        /// <summary>The component's work after boot: the memory service (MemoryService.cs) on the rig.</summary>
        public static void Run()
        {
            if (!ClusterNode.Start(NodeRole.Memory)) return;
            var executables = new BootModuleExecutables(KernelMain.Boot);
            executables.PrintModules();
            var service = new MemoryService(new PhysicalPageFrames(), executables, new KernelMemoryServicePlatform());
            MemoryServiceHandler.RegisterAll(ClusterNode.Endpoint!, service);
            ClusterNode.Serve();
        }
    }
}
