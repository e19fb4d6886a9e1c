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
            // hello_timeout=S bounds the wait for peers (default 30 s): a dead node is reported, not waited on.
            ulong helloTimeout = KernelMain.CommandLine.TryGetSize("hello_timeout", out ulong seconds) && seconds > 0 ? seconds : 30;
            ClusterNode.GreetPeers(helloTimeout);
            RpcTest.RunIfAsked();
            ClusterNode.Serve();
        }
    }
}
