// The start-up step the .NET runtime normally does before managed code runs:
// give every type with reference-type statics its static base object.
//
// ILC places a pointer to each module's ReadyToRun header in the `__modules`
// section (bracketed by the linker's __start___modules/__stop___modules). The
// header lists sections by id; id 201 (GCStaticRegion) is an array of 32-bit
// relative pointers, each to a slot that holds a relative pointer to the
// statics' MethodTable with flag bits: 1 = not yet allocated, 2 = has
// preinitialised data (a second relative pointer after the first, to a blob
// that is copied over the new object). Once allocated, the slot holds the
// object reference itself, which is what compiled code loads.
using System.Runtime;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Internal.Runtime;

namespace Internal.Runtime.CompilerHelpers
{
    internal static unsafe class StartupCodeHelpers
    {
        private const int GCStaticRegionSection = 201;
        private const int EagerCctorSection = 205;
        private const nint Uninitialized = 1, HasPreInitializedData = 2, FlagMask = 3;

        [StructLayout(LayoutKind.Sequential)]
        private struct ReadyToRunHeader
        {
            public uint Signature; // "RTR" = 0x00525452
            public ushort MajorVersion;
            public ushort MinorVersion;
            public uint Flags;
            public ushort NumberOfSections;
            public byte EntrySize;
            public byte EntryType;
        }

        [StructLayout(LayoutKind.Sequential)]
        private struct ModuleInfoRow
        {
            public int SectionId;
            public int Flags;
            public byte* Start;
            public byte* End;
        }

        public static int ModulesInitialized;
        public static int StaticBasesAllocated;

        // Called once by the kernel entry, before any code touches a reference-type static.
        public static void InitializeModules(void** modulesStart, void** modulesEnd)
        {
            for (void** module = modulesStart; module < modulesEnd; module++)
            {
                if (*module == null) continue;
                var header = (ReadyToRunHeader*)*module;
                if (header->Signature != 0x00525452) continue;
                var rows = (ModuleInfoRow*)(header + 1);
                for (int i = 0; i < header->NumberOfSections; i++)
                {
                    if (rows[i].SectionId == GCStaticRegionSection) InitializeStatics(rows[i].Start, rows[i].End);
                }
                for (int i = 0; i < header->NumberOfSections; i++)
                {
                    if (rows[i].SectionId == EagerCctorSection) RunEagerClassConstructors(rows[i].Start, rows[i].End);
                }
                ModulesInitialized++;
            }
        }

        private static void* ReadRelPtr32(void* address) => (byte*)address + *(int*)address;

        private static void InitializeStatics(byte* start, byte* end)
        {
            for (byte* entry = start; entry < end; entry += sizeof(int))
            {
                nint* slot = (nint*)ReadRelPtr32(entry);
                nint target = (nint)ReadRelPtr32(slot);
                if ((target & Uninitialized) == 0) continue;

                var mt = (MethodTable*)(target & ~FlagMask);
                object obj = RuntimeExports.RhpNewFast(mt);
                if ((target & HasPreInitializedData) != 0)
                {
                    byte* data = (byte*)ReadRelPtr32((int*)slot + 1);
                    ref byte dst = ref obj.GetRawData();
                    uint size = obj.GetRawDataSize();
                    for (uint i = 0; i < size; i++) Unsafe.Add(ref dst, (nint)i) = data[i];
                }
                *slot = *(nint*)Unsafe.AsPointer(ref obj);
                StaticBasesAllocated++;
            }
        }

        private static void RunEagerClassConstructors(byte* start, byte* end)
        {
            for (byte* entry = start; entry < end; entry += sizeof(int))
                ((delegate*<void>)ReadRelPtr32(entry))();
        }
    }
}
