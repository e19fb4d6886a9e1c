// The storage component's disk: the first virtio-blk device, started once at boot (before
// the self-tests and before the component's service loop, whichever comes first), announced
// with one line:
//   blk: virtio-blk <capacity> (<sectors> sectors of 512 B), <features>, <requests in flight>
// No disk is not a failure: the component warns and runs without one.
using Tessera.Core;
using Tessera.Drivers;

namespace Tessera.Storage
{
    public static class StorageDisk
    {
        private static bool s_started;

        /// <summary>The driver, or null when there is no usable disk.</summary>
        public static VirtioBlk? Driver;
        /// <summary>The disk as a BlockDevice, or null when there is no usable disk.</summary>
        public static VirtioBlockDevice? Device;

        public static void Start()
        {
            if (s_started) return;
            s_started = true;
            VirtioBlk? disk = VirtioBlk.Start(out string problem);
            if (disk is null)
            {
                if (Log.Begin(LogLevel.Warn))
                {
                    Console.Write("blk: ");
                    Console.Write(problem);
                    Console.WriteLine("; running without a disk");
                }
                return;
            }
            Driver = disk;
            Device = new VirtioBlockDevice(disk);
            Announce(disk);
        }

        private static void Announce(VirtioBlk disk)
        {
            if (!Log.Begin(LogLevel.Info)) return;
            ulong sectors = disk.Capacity;
            Console.Write("blk: virtio-blk ");
            Console.WriteSize(sectors * VirtioBlk.SectorSize);
            Console.Write(" (");
            Console.WriteDecimal(sectors);
            Console.Write(" sectors of 512 B), ");
            // The negotiated features (§5.2.3), with the limits that come with them.
            Console.Write("version-1");
            if (disk.HasFlush) Console.Write(" flush");
            if (disk.ReadOnly) Console.Write(" ro");
            if (disk.Has(VirtioBlk.FeatureSegMax)) { Console.Write(" seg-max="); Console.WriteDecimal(disk.SegMax); }
            if (disk.Has(VirtioBlk.FeatureSizeMax)) { Console.Write(" size-max="); Console.WriteDecimal(disk.SizeMax); }
            if (disk.Has(VirtioBlk.FeatureBlockSize)) { Console.Write(" blk-size="); Console.WriteDecimal(disk.BlockSizeHint); }
            Console.Write(", ");
            Console.WriteDecimal((ulong)disk.RequestsInFlight);
            Console.Write(" requests of ");
            Console.WriteSize((ulong)disk.Geometry.RequestBytes);
            Console.WriteLine(" in flight");
        }
    }
}
