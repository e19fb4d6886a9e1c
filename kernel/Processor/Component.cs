// The processor component's hooks into the shared kernel entry (kernel/Core/KernelMain.cs).
using Tessera.Core;
using Tessera.Core.Cluster;
using Tessera.Core.Net;
using Tessera.Processor;

namespace Tessera
{
    public static class Component
    {
        public const string Kind = "processor";

        /// <summary>Self-tests of what only this component has (run after the core's).</summary>
        public static void RunSelfTests()
        {
            ProcessorBoot.Initialize();
            SelfTest.Run(new ExCacheSelfTest());
            ProcessorSelfTests.RunAll();
        }

        /// <summary>The component's work after boot; returning means idle.</summary>
        public static void Run()
        {
            ProcessorBoot.Initialize();
            if (!ClusterNode.Start(NodeRole.Processor))
            {
                if (KernelMain.CommandLine.Has("exec"))
                {
                    Log.Error("exec= needs a rig: node=, role= and peers= with a memory component");
                    Tessera.Drivers.QemuDebugExit.Exit(Tessera.Drivers.QemuDebugExit.Failure);
                }
                return;
            }
            // hello_timeout=S bounds the wait for peers (default 30 s): a dead node is reported, not waited on.
            ulong helloTimeout = KernelMain.CommandLine.TryGetSize("hello_timeout", out ulong seconds) && seconds > 0 ? seconds : 30;
            ClusterNode.GreetPeers(helloTimeout);
            RpcTest.RunIfAsked();
            RpcBenchmark.RunIfAsked();
            // exec=: run the program and end the VM (ProgramRunner.cs).
            ProgramRunner.RunIfAsked();
            ClusterNode.Serve();
        }
    }
}
