// The executables the memory component can exec. For now they are boot modules of the
// memory image (BootModuleExecutables; the rig passes programs with QEMU's -initrd); the
// storage issue moves them onto the storage component. The self-tests and host tests use
// executables held in arrays (ExecutableList).
//
// A file is named by a file id, 1 + its index here: areas of an exec'd program record it
// (Vma.FileId) and a miss on a file page reads the bytes through it.
// Pure logic: compiled into the memory kernel and the host tests.
using System;

namespace Tessera.Memory
{
    public abstract class ExecutableSource
    {
        public abstract int Count { get; }
        /// <summary>The name the file was given (a boot module's string: "path", or "path name").</summary>
        public abstract ReadOnlySpan<byte> Name(int index);
        public abstract ReadOnlySpan<byte> Contents(int index);

        /// <summary>
        /// The file id exec(path) runs, or 0: the first file whose name matches path's last
        /// component (NameMatches), else the only file when there is exactly one.
        /// </summary>
        public ulong Find(ReadOnlySpan<byte> path)
        {
            for (int i = 0; i < Count; i++)
                if (NameMatches(path, Name(i))) return (ulong)i + 1;
            return Count == 1 ? 1UL : 0UL;
        }

        /// <summary>The bytes of file fileId; empty for an unknown id.</summary>
        public ReadOnlySpan<byte> Bytes(ulong fileId) =>
            fileId == 0 || fileId > (ulong)Count ? default : Contents((int)fileId - 1);

        /// <summary>
        /// Whether a file called name is what path names: the last component of path equals
        /// the last word of name (QEMU gives a module the whole "path args" string), taken
        /// after its last '/'. "/bin/hello" matches "hello", "/tmp/x/hello hello" and
        /// "/tmp/x/hello"; an empty last component matches nothing.
        /// </summary>
        public static bool NameMatches(ReadOnlySpan<byte> path, ReadOnlySpan<byte> name)
        {
            ReadOnlySpan<byte> wanted = LastComponent(path, (byte)'/');
            int end = name.Length;
            while (end > 0 && (name[end - 1] == 0 || name[end - 1] == (byte)' ')) end--; // trailing NUL or blanks
            ReadOnlySpan<byte> word = LastComponent(name.Slice(0, end), (byte)' ');
            ReadOnlySpan<byte> file = LastComponent(word, (byte)'/');
            if (wanted.Length == 0 || wanted.Length != file.Length) return false;
            for (int i = 0; i < wanted.Length; i++) if (wanted[i] != file[i]) return false;
            return true;
        }

        private static ReadOnlySpan<byte> LastComponent(ReadOnlySpan<byte> s, byte separator)
        {
            int i = s.Length;
            while (i > 0 && s[i - 1] != separator) i--;
            return s.Slice(i);
        }
    }
}
