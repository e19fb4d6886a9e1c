// One request slot of the virtio-blk driver: the memory a request needs while the device
// owns it (virtio 1.1 §5.2.6, struct virtio_blk_req):
//   le32 type | le32 reserved | le64 sector      header, device-readable
//   u8 data[]                                    device-writable for IN and GET_ID, readable for OUT
//   u8 status                                    device-writable: OK 0, IOERR 1, UNSUPP 2
// and its state from submission (Begin*) to the caller collecting the result (End).
using Tessera.Core.Memory;

namespace Tessera.Drivers
{
    internal enum VirtioBlkRequestState : byte
    {
        Free,
        /// <summary>Published to the device, not yet back in the used ring.</summary>
        InFlight,
        /// <summary>Back from the device; Result holds the outcome until End collects it.</summary>
        Completed,
        /// <summary>Timed out: its caller gave up, but the device may still own the buffers. Free once it comes back.</summary>
        Abandoned,
    }

    internal sealed unsafe class VirtioBlkRequest
    {
        public const int HeaderBytes = 16;

        public readonly int Slot;
        public readonly byte* Header;
        public readonly ulong HeaderPhysical;
        public readonly byte* Status;
        public readonly ulong StatusPhysical;
        /// <summary>The data buffer: separate 4 KiB frames (see VirtioBlkGeometry).</summary>
        public readonly DmaRegion[] Pages;

        public VirtioBlkRequestState State;
        /// <summary>Head of its descriptor chain while in flight.</summary>
        public int Head = -1;
        public uint Type;
        public int Bytes;
        /// <summary>0, or a negative errno, once Completed.</summary>
        public int Result;

        public VirtioBlkRequest(int slot, byte* header, ulong headerPhysical, int pages)
        {
            Slot = slot;
            Header = header;
            HeaderPhysical = headerPhysical;
            Status = header + HeaderBytes;
            StatusPhysical = headerPhysical + HeaderBytes;
            Pages = new DmaRegion[pages];
            for (int i = 0; i < pages; i++) Pages[i] = DmaMemory.Allocate(VirtioBlkGeometry.PageSize);
        }

        /// <summary>The physical address of byte offset of the data buffer.</summary>
        public ulong DataPhysical(int offset) =>
            Pages[offset / VirtioBlkGeometry.PageSize].Physical + (ulong)(offset % VirtioBlkGeometry.PageSize);

        /// <summary>Copies bytes from source into the data buffer (before an OUT request).</summary>
        public void CopyIn(byte* source, int bytes)
        {
            for (int done = 0, page = 0; done < bytes; done += VirtioBlkGeometry.PageSize, page++)
            {
                int n = bytes - done < VirtioBlkGeometry.PageSize ? bytes - done : VirtioBlkGeometry.PageSize;
                CopyBytes(Pages[page].Virtual, source + done, n);
            }
        }

        /// <summary>Copies bytes out of the data buffer into destination (after an IN or GET_ID request).</summary>
        public void CopyOut(byte* destination, int bytes)
        {
            for (int done = 0, page = 0; done < bytes; done += VirtioBlkGeometry.PageSize, page++)
            {
                int n = bytes - done < VirtioBlkGeometry.PageSize ? bytes - done : VirtioBlkGeometry.PageSize;
                CopyBytes(destination + done, Pages[page].Virtual, n);
            }
        }

        private static void CopyBytes(byte* destination, byte* source, int bytes)
        {
            int i = 0;
            for (; i + 8 <= bytes; i += 8) *(ulong*)(destination + i) = *(ulong*)(source + i);
            for (; i < bytes; i++) destination[i] = source[i];
        }
    }
}
