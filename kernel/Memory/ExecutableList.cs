// Executables held in arrays: the self-tests' embedded program, the host tests' files.
// Pure logic: compiled into the memory kernel and the host tests.
using System;

namespace Tessera.Memory
{
    /// <summary>Executables held in arrays: the self-tests' embedded program, the host tests' files.</summary>
    public sealed class ExecutableList : ExecutableSource
    {
        private byte[][] _names = new byte[4][];
        private byte[][] _contents = new byte[4][];
        private int _count;

        public override int Count => _count;
        public override ReadOnlySpan<byte> Name(int index) => _names[index < _count ? index : -1];
        public override ReadOnlySpan<byte> Contents(int index) => _contents[index < _count ? index : -1];

        /// <summary>Adds a file; returns its file id.</summary>
        public ulong Add(string name, byte[] contents)
        {
            if (_count == _names.Length)
            {
                var names = new byte[_count * 2][];
                var files = new byte[_count * 2][];
                for (int i = 0; i < _count; i++) { names[i] = _names[i]; files[i] = _contents[i]; }
                _names = names;
                _contents = files;
            }
            var bytes = new byte[name.Length];
            for (int i = 0; i < name.Length; i++) bytes[i] = (byte)name[i];
            _names[_count] = bytes;
            _contents[_count] = contents;
            return (ulong)++_count;
        }
    }
}
