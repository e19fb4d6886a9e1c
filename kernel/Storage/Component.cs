// The storage component's hooks into the shared kernel entry (kernel/Core/KernelMain.cs).
using Tessera.Core;
using Tessera.Core.Cluster;
using Tessera.Core.Net;
using Tessera.Storage;

namespace Tessera
{
    public static class Component
    {
        public const string Kind = "storage";

        /// <summary>
        /// Self-tests of what only this component has (run after the core's): the ext2 file
        /// system on a RAM disk, then, only when asked (`blk-selftest` on the command line), the
        /// disk tests, which write to the disk (the boot tests attach a scratch disk for them,
        /// tests/Tessera.Tests/Boot/VirtioBlkTests.cs).
        /// </summary>
        public static void RunSelfTests()
        {
            SelfTest.Run(new Ext2SelfTest());
            StorageDisk.Start();
            if (KernelMain.CommandLine.Has("blk-selftest")) BlkSelfTests.RunAll(KernelMain.CommandLine);
        }

        /// <summary>
        /// The component's work after boot: mount the disk, serve the file RPCs (FileServer) and
        /// the common ones; returning means idle.
        /// </summary>
        public static void Run()
        {
            StorageDisk.Start();
            if (!ClusterNode.Start(NodeRole.Storage)) return;
            FileServer.Start(ClusterNode.Endpoint!, ClusterNode.Config.Node);
            ClusterNode.Serve(FileServer.Idle);
        }
    }
}
