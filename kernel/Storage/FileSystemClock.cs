// Wall-clock time for inode and superblock timestamps: seconds since the Unix epoch, as
// ext2 stores them (32-bit fields). The storage kernel supplies its own (from the RTC or
// the cluster); the host tests use the host's clock or a fixed one.
namespace Tessera.Storage
{
    public abstract class FileSystemClock
    {
        public abstract uint UnixSeconds();
    }
}
