// The Linux x86-64 values of the prot and flags arguments of mmap(2), mprotect(2) and
// mremap(2) (include/uapi/asm-generic/mman-common.h, mman.h, arch/x86/include/uapi/asm/
// mman.h, include/uapi/linux/mman.h). User programs pass these through the processor
// unchanged.
// Pure logic: compiled into the memory kernel and the host tests.
namespace Tessera.Memory
{
    public static class Prot
    {
        public const int None = 0;
        public const int Read = 0x1;
        public const int Write = 0x2;
        public const int Exec = 0x4;
        /// <summary>PROT_SEM: accepted and ignored, as on x86.</summary>
        public const int Sem = 0x8;
        /// <summary>mprotect only: extend the change down to the start of a grows-down area.</summary>
        public const int GrowsDown = 0x01000000;
        public const int GrowsUp = 0x02000000;
        public const int Access = Read | Write | Exec;
    }

    public static class MapFlags
    {
        public const int Shared = 0x01;
        public const int Private = 0x02;
        public const int SharedValidate = 0x03;
        public const int TypeMask = 0x0f;
        public const int Fixed = 0x10;
        public const int Anonymous = 0x20;
        /// <summary>MAP_32BIT (x86-64): place the mapping in the first 2 GiB.</summary>
        public const int Below2G = 0x40;
        public const int GrowsDown = 0x0100;
        public const int DenyWrite = 0x0800;
        public const int Executable = 0x1000;
        public const int Locked = 0x2000;
        public const int NoReserve = 0x4000;
        public const int Populate = 0x8000;
        public const int NonBlock = 0x10000;
        public const int Stack = 0x20000;
        public const int HugeTlb = 0x40000;
        public const int Sync = 0x80000;
        public const int FixedNoReplace = 0x100000;
        public const int Uninitialized = 0x4000000;

        /// <summary>LEGACY_MAP_MASK: what MAP_SHARED_VALIDATE accepts without asking the file.</summary>
        public const int LegacyMask = Shared | Private | Fixed | Anonymous | DenyWrite | Executable |
            Uninitialized | GrowsDown | Locked | NoReserve | Populate | NonBlock | Stack | HugeTlb;
    }

    public static class MremapFlags
    {
        public const int MayMove = 1;
        public const int Fixed = 2;
        public const int DontUnmap = 4;
    }
}
