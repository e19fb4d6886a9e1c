// The storage component's file service at boot and while it serves: mounts the disk's ext2
// volume, says what it mounted (or why not), registers the file RPCs on the node's endpoint
// and keeps the volume durable in the background.
//
//   storage: ext2 volume 'LABEL' mounted read-write: 1024-byte blocks, F of T blocks free, I of N inodes free
//   storage: cannot mount the disk: REASON; file requests answer -EIO
//
// A refused or missing volume does not stop the component: it goes on serving RPCs (HELLO,
// ECHO, STATS) and answers every file request with -EIO (refused) or -ENODEV (no disk).
//
// Durability: every file operation has written what it changed before its reply leaves, in
// the order docs/storage-ext2.md describes, so a VM that dies keeps every completed operation
// (QEMU's completed writes are in the host's page cache). What stays in memory is the
// superblock's free counts; FSYNC writes them and flushes the disk's write cache at once, and
// after any change the serving loop does the same within SyncDelay (a one-shot timer, so an
// idle component takes no interrupts).
using Tessera.Core;
using Tessera.Core.Net;
using Tessera.Core.Rpc;
using Tessera.Storage.Ext2;

namespace Tessera.Storage
{
    public static class FileServer
    {
        /// <summary>How long after a change the volume is synced (superblock counts, disk flush).</summary>
        public const ulong SyncDelayNanoseconds = 1000000000UL;

        public static FileService Service = null!;
        private static readonly SyncWork s_work = new SyncWork();

        /// <summary>Mounts the disk (if any) and registers the file RPCs on endpoint.</summary>
        public static void Start(RpcEndpoint endpoint, ushort node)
        {
            var clock = new RtcFileSystemClock();
            if (!clock.Valid) Log.Warn("storage: the real-time clock reads as nonsense; file times count from 1970");
            Ext2FileSystem? fs = null;
            int unavailable = 0;
            VirtioBlockDevice? device = StorageDisk.Device;
            if (device is null)
            {
                unavailable = Errno.ENODEV;
                Log.Warn("storage: no disk; file requests answer -ENODEV");
            }
            else fs = Mount(device, clock, out unavailable);
            Service = new FileService(fs, unavailable, node, (ushort)(Clock.Ticks >> 8));
            Service.Register(endpoint);
        }

        /// <summary>The work the serving loop does between RPCs.</summary>
        public static IdleWork Idle => s_work;

        private static Ext2FileSystem? Mount(VirtioBlockDevice device, FileSystemClock clock, out int unavailable)
        {
            unavailable = 0;
            // The superblock as found, before mounting marks it in use: its label and whether the
            // volume was cleanly unmounted (s_state, Poirier §3.1).
            var found = new Ext2Superblock();
            bool probed = device.Read((ulong)(Ext2Superblock.Offset / device.BlockSize), found.Raw) == 0;
            int r = Ext2FileSystem.Mount(device, clock, device.ReadOnly, out Ext2FileSystem? fs, out string reason);
            if (r < 0 || fs is null)
            {
                unavailable = Errno.EIO;
                if (Log.Begin(LogLevel.Error))
                {
                    Console.Write("storage: cannot mount the disk: ");
                    Console.Write(reason);
                    Console.WriteLine("; file requests answer -EIO");
                }
                return null;
            }
            bool clean = probed && (found.State & Ext2Superblock.StateValid) != 0 && (found.State & Ext2Superblock.StateErrors) == 0;
            if (!clean && !fs.ReadOnly) Recover(fs);
            Announce(fs, found, probed);
            return fs;
        }

        /// <summary>After a crash (s_state not VALID): the recovery pass, and what it repaired.</summary>
        private static void Recover(Ext2FileSystem fs)
        {
            Log.Warn("storage: the volume was not cleanly unmounted; checking it");
            int r = fs.Recover(out Ext2RecoveryReport report);
            if (Log.Begin(r < 0 ? LogLevel.Error : LogLevel.Info))
            {
                Console.Write("storage: recovery ");
                Console.Write(r < 0 ? "failed" : "done");
                Console.Write(": ");
                Console.WriteDecimal((ulong)report.InodesChecked);
                Console.Write(" inodes checked, ");
                Console.WriteDecimal((ulong)report.OrphansDeleted);
                Console.Write(" unattached inodes deleted, ");
                Console.WriteDecimal((ulong)report.LinkCountsFixed);
                Console.Write(" link counts fixed, ");
                Console.WriteDecimal((ulong)report.BlocksReclaimed);
                Console.Write(" leaked blocks and ");
                Console.WriteDecimal((ulong)report.InodesReclaimed);
                Console.Write(" leaked inodes reclaimed, ");
                Console.WriteDecimal((ulong)report.GroupCountsFixed);
                Console.WriteLine(" group counts fixed");
            }
        }

        private static void Announce(Ext2FileSystem fs, Ext2Superblock found, bool probed)
        {
            if (!Log.Begin(LogLevel.Info)) return;
            Console.Write("storage: ext2 volume '");
            if (probed)
            {
                // s_volume_name: 16 bytes at offset 120, NUL-padded.
                for (int i = 120; i < 136 && found.Raw[i] != 0; i++)
                    Console.Write(found.Raw[i] >= 0x20 && found.Raw[i] < 0x7F ? (char)found.Raw[i] : '?');
            }
            Console.Write(fs.ReadOnly ? "' mounted read-only: " : "' mounted read-write: ");
            Console.WriteDecimal((ulong)fs.BlockSize);
            Console.Write("-byte blocks, ");
            Console.WriteDecimal(fs.FreeBlocks);
            Console.Write(" of ");
            Console.WriteDecimal(fs.BlocksCount);
            Console.Write(" blocks free, ");
            Console.WriteDecimal(fs.FreeInodes);
            Console.Write(" of ");
            Console.WriteDecimal(fs.InodesCount);
            Console.WriteLine(" inodes free");
        }

        /// <summary>Syncs the volume SyncDelay after it changed.</summary>
        private sealed class SyncWork : IdleWork
        {
            private readonly SyncDue _timer = new SyncDue();
            private bool _armed;

            public override bool Pending => _timer.Due;

            public override void Run()
            {
                FileService service = Service;
                if (_timer.Due)
                {
                    _timer.Due = false;
                    _armed = false;
                    if (!service.Dirty) return;
                    int r = service.Sync();
                    if (r < 0 && Log.Begin(LogLevel.Error))
                    {
                        Console.Write("storage: sync failed: ");
                        Console.WriteDecimal((long)r);
                        Console.WriteLine();
                    }
                    return;
                }
                if (service.Dirty && !_armed && Timers.Running)
                {
                    _armed = true;
                    Timers.After(SyncDelayNanoseconds, _timer);
                }
            }
        }

        private sealed class SyncDue : TimerCallback
        {
            public volatile bool Due;
            public override void OnTimer() { Due = true; }
        }
    }
}
