// One file system block held in memory with the number of the block it holds: the
// indirect-block, bitmap and inode-table caches of Ext2FileSystem. Allocated once at mount;
// nothing is allocated per block afterwards (kernel memory is never freed, DESIGN §4).
namespace Tessera.Storage.Ext2
{
    internal sealed class CachedBlock
    {
        public readonly byte[] Data;
        /// <summary>The block held, or 0 for none (block 0 is never an indirect, bitmap or inode-table block).</summary>
        public uint Block;
        /// <summary>Changed in memory and not yet written.</summary>
        public bool Dirty;

        public CachedBlock(int blockSize) { Data = new byte[blockSize]; }

        public void Forget() { Block = 0; Dirty = false; }
    }
}
