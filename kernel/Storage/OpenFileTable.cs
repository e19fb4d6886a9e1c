// The storage component's open-file table: what each handle given out by OPEN names, kept
// per (calling node, handle) (kernel/Core/Rpc/FileProtocol.cs, "Handles"). A slot holds the
// node that opened it, the inode and the open flags (access mode, O_APPEND); positions are
// the caller's. A handle is (generation << 16) | slot: the generation is bumped every time a
// slot is given out and starts from a value the component picks at boot, so a handle kept
// across a close, or across a restart of the storage VM, names nothing instead of another
// file. Fixed capacity, allocated once; lookups are O(1), the "is this inode open" question
// asked when a name is removed is a scan (the table holds at most Capacity entries).
// Pure logic: compiled into the storage kernel and the host tests.
using Tessera.Storage.Ext2;

namespace Tessera.Storage
{
    public sealed class OpenFileTable : InodePins
    {
        public const int Capacity = 1024;

        private readonly bool[] _used = new bool[Capacity];
        private readonly ushort[] _node = new ushort[Capacity];
        private readonly uint[] _inode = new uint[Capacity];
        private readonly uint[] _flags = new uint[Capacity];
        private readonly ushort[] _generation = new ushort[Capacity];
        private ushort _nextGeneration;
        private int _count;
        private int _searchFrom;

        public OpenFileTable(ushort firstGeneration)
        {
            _nextGeneration = firstGeneration == 0 ? (ushort)1 : firstGeneration;
        }

        public int Count => _count;
        public bool Full => _count == Capacity;

        /// <summary>Takes a slot for node's open of inode; false when the table is full.</summary>
        public bool Open(ushort node, uint inode, uint flags, out uint handle)
        {
            handle = 0;
            if (_count == Capacity) return false;
            int slot = _searchFrom;
            while (_used[slot]) slot = (slot + 1) % Capacity;
            _searchFrom = (slot + 1) % Capacity;
            ushort generation = _nextGeneration;
            _nextGeneration = (ushort)(_nextGeneration == 0xFFFF ? 1 : _nextGeneration + 1);
            _used[slot] = true;
            _node[slot] = node;
            _inode[slot] = inode;
            _flags[slot] = flags;
            _generation[slot] = generation;
            _count++;
            handle = (uint)generation << 16 | (uint)slot;
            return true;
        }

        /// <summary>The slot of handle when node holds it open; -1 otherwise (another node's, closed, stale, made up).</summary>
        public int Find(ushort node, uint handle)
        {
            int slot = (int)(handle & 0xFFFF);
            if (slot >= Capacity || !_used[slot]) return -1;
            if (_node[slot] != node || _generation[slot] != (ushort)(handle >> 16)) return -1;
            return slot;
        }

        public uint InodeOf(int slot) => _inode[slot];
        public uint FlagsOf(int slot) => _flags[slot];

        /// <summary>Frees slot; returns the inode it named.</summary>
        public uint Close(int slot)
        {
            uint inode = _inode[slot];
            _used[slot] = false;
            _inode[slot] = 0;
            _count--;
            return inode;
        }

        /// <summary>The first slot at or after from that node holds, or -1.</summary>
        public int NextOf(ushort node, int from)
        {
            for (int slot = from; slot < Capacity; slot++)
                if (_used[slot] && _node[slot] == node) return slot;
            return -1;
        }

        public override bool IsPinned(uint inode)
        {
            if (_count == 0) return false;
            for (int slot = 0; slot < Capacity; slot++)
                if (_used[slot] && _inode[slot] == inode) return true;
            return false;
        }
    }
}
