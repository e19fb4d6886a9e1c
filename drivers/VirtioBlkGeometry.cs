// How the virtio-blk driver cuts transfers into requests and requests into descriptors,
// from what the device allows (virtio 1.1 §5.2.4): size_max, the largest single data
// segment (VIRTIO_BLK_F_SIZE_MAX), seg_max, the most data segments in one request
// (VIRTIO_BLK_F_SEG_MAX), and the queue size, which bounds a chain (§2.6.5.3.1: without
// indirect descriptors a chain is at most Queue Size long) and the chains in flight.
//
// Each request owns a data buffer of separate 4 KiB DMA frames rather than one contiguous
// run: single frames can always be had, contiguous runs get scarce as memory fragments,
// and the file system's page-sized blocks map one to one. So a data segment never crosses
// a page, and is further cut at size_max. A request is then
//   header (16 B, device-readable) | segment 1 .. segment n | status (1 B, device-writable)
// Pure logic: compiled into the kernels and into the host tests.
namespace Tessera.Drivers
{
    public struct VirtioBlkGeometry
    {
        public const int SectorSize = 512;
        public const int PageSize = 4096;
        /// <summary>Our own cap on one request's data: 64 KiB, as much as Linux's default max_sectors_kb of old.</summary>
        public const int MaxPagesPerRequest = 16;
        /// <summary>Our own cap on requests in flight at once.</summary>
        public const int MaxRequestsInFlight = 8;

        /// <summary>The largest data segment: a page, or size_max when that is smaller.</summary>
        public int SegmentBytes;
        /// <summary>Data segments one request may carry: seg_max, and what the queue can hold.</summary>
        public int SegmentLimit;
        /// <summary>The largest transfer of one request: a whole number of sectors.</summary>
        public int RequestBytes;
        /// <summary>Pages in each request's data buffer.</summary>
        public int PagesPerRequest;
        /// <summary>Descriptors in the longest chain: header, segments of RequestBytes, status.</summary>
        public int DescriptorsPerRequest;
        /// <summary>Requests that may be in flight at once without ever running out of descriptors.</summary>
        public int RequestsInFlight;

        public int SectorsPerRequest => RequestBytes / SectorSize;

        /// <summary>
        /// Works out the geometry. sizeMax and segMax are 0 when the device did not offer them
        /// (no limit). False when the device's limits leave no room for even one sector.
        /// </summary>
        public static bool TryCompute(uint sizeMax, uint segMax, int queueSize, out VirtioBlkGeometry geometry)
        {
            geometry = default;
            if (queueSize < 3) return false;
            int segmentBytes = sizeMax == 0 || sizeMax >= PageSize ? PageSize : (int)sizeMax;
            int segmentLimit = queueSize - 2;
            if (segMax != 0 && segMax < (uint)segmentLimit) segmentLimit = (int)segMax;
            geometry.SegmentBytes = segmentBytes;
            geometry.SegmentLimit = segmentLimit;

            int bytes = MaxPagesPerRequest * PageSize;
            while (bytes > 0 && geometry.SegmentCount(bytes) > segmentLimit) bytes -= SectorSize;
            if (bytes == 0) return false;
            geometry.RequestBytes = bytes;
            geometry.PagesPerRequest = (bytes + PageSize - 1) / PageSize;
            geometry.DescriptorsPerRequest = 2 + geometry.SegmentCount(bytes);
            int inFlight = queueSize / geometry.DescriptorsPerRequest;
            geometry.RequestsInFlight = inFlight < MaxRequestsInFlight ? inFlight : MaxRequestsInFlight;
            return true;
        }

        /// <summary>How many data segments carry bytes from the start of a request's buffer.</summary>
        public int SegmentCount(int bytes)
        {
            int count = 0;
            for (int offset = 0; offset < bytes; offset += SegmentLength(offset, bytes)) count++;
            return count;
        }

        /// <summary>
        /// The length of the segment starting at offset in a buffer of bytes: up to SegmentBytes,
        /// never past the end of its page or of the transfer.
        /// </summary>
        public int SegmentLength(int offset, int bytes)
        {
            int length = SegmentBytes;
            int pageLeft = PageSize - offset % PageSize;
            if (length > pageLeft) length = pageLeft;
            if (length > bytes - offset) length = bytes - offset;
            return length;
        }

        /// <summary>
        /// True when count sectors from sector lie within a disk of capacity sectors, checked
        /// without overflow (a sector near 2^64 must not wrap around to a small one).
        /// </summary>
        public static bool InRange(ulong sector, ulong count, ulong capacity) =>
            count <= capacity && sector <= capacity - count;
    }
}
