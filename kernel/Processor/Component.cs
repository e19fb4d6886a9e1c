// The processor component's hooks into the shared kernel entry (kernel/Core/KernelMain.cs).
using Tessera.Core;
using Tessera.Core.Cluster;
using Tessera.Core.Net;

namespace Tessera
{
    public static class Component
    {
        public const string Kind = "processor";

        /// <summary>Self-tests of what only this component has (run after the core's).</summary>
        public static void RunSelfTests()
        {
            SelfTest.Run(new ExCacheSelfTest());
        }

        /// <summary>The component's work after boot; returning means idle.</summary>
        public static void Run()
        {
            if (!ClusterNode.Start(NodeRole.Processor)) return;
            ClusterNode.GreetPeers(30);
            RpcTest.RunIfAsked();
            ClusterNode.Serve();
        }
    }
}
