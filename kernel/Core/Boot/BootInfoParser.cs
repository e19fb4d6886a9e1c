// Parses multiboot1 (Multiboot Specification 0.6.96 §3.3) and multiboot2
// (Multiboot2 Specification 2.0 §3.6) boot information into a BootInfo.
// Every length and address is checked: malformed information is reported in
// BootInfo.Problems and the rest is still used; nothing here can fault.
using System;

namespace Tessera.Core.Boot
{
    public static class BootInfoParser
    {
        public const uint Multiboot1Magic = 0x2BADB002;
        public const uint Multiboot2Magic = 0x36D76289;

        // Upper bounds on what we copy, so a corrupt size cannot exhaust the heap.
        public const int MaxInfoBytes = 64 * 1024;
        public const int MaxStringBytes = 4096;

        public static BootInfo Parse(uint magic, ulong infoAddress, PhysicalMemory memory)
        {
            var info = new BootInfo();
            if (magic == Multiboot1Magic) { info.Protocol = BootProtocol.Multiboot1; ParseMultiboot1(info, infoAddress, memory); }
            else if (magic == Multiboot2Magic) { info.Protocol = BootProtocol.Multiboot2; ParseMultiboot2(info, infoAddress, memory); }
            else info.Report(BootProblemKind.UnknownMagic, magic);
            NormalizeRegions(info);
            return info;
        }

        // ---- multiboot1 ----

        // The whole multiboot1 information structure, up to the framebuffer fields (0.6.96 §3.3).
        private const ulong Mb1InfoSize = 116;

        private const uint Mb1FlagMemory = 1 << 0, Mb1FlagCommandLine = 1 << 2, Mb1FlagModules = 1 << 3,
                           Mb1FlagMemoryMap = 1 << 6, Mb1FlagLoaderName = 1 << 9;

        private static void ParseMultiboot1(BootInfo info, ulong address, PhysicalMemory memory)
        {
            byte[] fixedPart = new byte[72];
            if (!memory.Read(address, fixedPart)) { info.Report(BootProblemKind.UnreadableInfo, address); return; }
            info.AddLoaderData(address, Mb1InfoSize);
            ReadOnlySpan<byte> f = fixedPart;
            uint flags = U32(f, 0);
            if ((flags & Mb1FlagMemory) != 0)
            {
                info.HasBasicMemory = true;
                info.MemoryLowerKiB = U32(f, 4);
                info.MemoryUpperKiB = U32(f, 8);
            }
            if ((flags & Mb1FlagCommandLine) != 0) info.CommandLine = ReadCString(info, U32(f, 16), memory);
            if ((flags & Mb1FlagLoaderName) != 0) info.BootloaderName = ReadCString(info, U32(f, 64), memory);
            if ((flags & Mb1FlagModules) != 0) ParseMultiboot1Modules(info, U32(f, 20), U32(f, 24), memory);
            if ((flags & Mb1FlagMemoryMap) != 0) ParseMultiboot1MemoryMap(info, U32(f, 44), U32(f, 48), memory);
        }

        private static void ParseMultiboot1Modules(BootInfo info, uint count, uint address, PhysicalMemory memory)
        {
            // The entries themselves are loader data the frame allocator must not hand out.
            info.AddLoaderData(address, (ulong)(count < BootInfo.MaxModules ? count : BootInfo.MaxModules) * 16);
            // Look at no more entries than we can keep: mods_count is the loader's word, and a
            // huge count over readable memory full of bad entries would otherwise be walked to
            // the end (each entry also reads a name of up to MaxStringBytes).
            uint examined = count;
            if (examined > BootInfo.MaxModules)
            {
                examined = BootInfo.MaxModules;
                info.Report(BootProblemKind.TooManyModules, address + (ulong)BootInfo.MaxModules * 16);
            }
            byte[] entry = new byte[16];
            for (uint i = 0; i < examined; i++)
            {
                ulong at = address + (ulong)i * 16;
                if (!memory.Read(at, entry)) { info.Report(BootProblemKind.UnreadableInfo, at); return; }
                ReadOnlySpan<byte> e = entry;
                AddModule(info, U32(e, 0), U32(e, 4), ReadCString(info, U32(e, 8), memory), at);
            }
        }

        private static void ParseMultiboot1MemoryMap(BootInfo info, uint length, uint address, PhysicalMemory memory)
        {
            if (length > MaxInfoBytes) { info.Report(BootProblemKind.TruncatedInfo, address); length = MaxInfoBytes; }
            byte[] map = new byte[length];
            if (!memory.Read(address, map)) { info.Report(BootProblemKind.UnreadableInfo, address); return; }
            info.AddLoaderData(address, length);
            ReadOnlySpan<byte> m = map;
            // Each entry: u32 size (of the rest), u64 base, u64 length, u32 type.
            int offset = 0;
            while (offset < m.Length)
            {
                if (m.Length - offset < 4) { info.Report(BootProblemKind.TruncatedMemoryMap, address + (ulong)offset); return; }
                uint size = U32(m, offset);
                if (size < 20) { info.Report(BootProblemKind.BadMemoryMapEntrySize, address + (ulong)offset); return; }
                if ((ulong)size + 4 > (ulong)(m.Length - offset)) { info.Report(BootProblemKind.TruncatedMemoryMap, address + (ulong)offset); return; }
                AddRegion(info, U64(m, offset + 4), U64(m, offset + 12), U32(m, offset + 20), address + (ulong)offset);
                offset += (int)size + 4;
            }
        }

        // ---- multiboot2 ----

        private const uint TagEnd = 0, TagCommandLine = 1, TagLoaderName = 2, TagModule = 3,
                           TagBasicMemory = 4, TagMemoryMap = 6;

        private static void ParseMultiboot2(BootInfo info, ulong address, PhysicalMemory memory)
        {
            byte[] head = new byte[8];
            if (!memory.Read(address, head)) { info.Report(BootProblemKind.UnreadableInfo, address); return; }
            uint total = U32(head, 0);
            if (total < 8) { info.Report(BootProblemKind.TruncatedInfo, address); return; }
            if (total > MaxInfoBytes) { info.Report(BootProblemKind.TruncatedInfo, address); total = MaxInfoBytes; }
            byte[] blob = new byte[total];
            if (!memory.Read(address, blob)) { info.Report(BootProblemKind.UnreadableInfo, address); return; }
            info.AddLoaderData(address, total);
            ParseMultiboot2Tags(info, blob, address);
        }

        /// <summary>Parses the tags of a multiboot2 information blob already in memory.</summary>
        public static void ParseMultiboot2Tags(BootInfo info, ReadOnlySpan<byte> blob, ulong address)
        {
            int offset = 8;
            while (true)
            {
                if (blob.Length - offset < 8)
                {
                    info.Report(offset >= blob.Length ? BootProblemKind.MissingEndTag : BootProblemKind.TruncatedTag, address + (ulong)offset);
                    return;
                }
                uint type = U32(blob, offset);
                uint size = U32(blob, offset + 4);
                if (size < 8 || size > (uint)(blob.Length - offset))
                {
                    info.Report(BootProblemKind.TruncatedTag, address + (ulong)offset);
                    return;
                }
                if (type == TagEnd) return;
                ReadOnlySpan<byte> body = blob.Slice(offset + 8, (int)size - 8);
                ulong where = address + (ulong)offset;
                switch (type)
                {
                    case TagCommandLine: info.CommandLine = CopyCString(info, body, where); break;
                    case TagLoaderName: info.BootloaderName = CopyCString(info, body, where); break;
                    case TagBasicMemory:
                        if (body.Length < 8) { info.Report(BootProblemKind.TruncatedTag, where); break; }
                        info.HasBasicMemory = true;
                        info.MemoryLowerKiB = U32(body, 0);
                        info.MemoryUpperKiB = U32(body, 4);
                        break;
                    case TagModule:
                        if (body.Length < 8) { info.Report(BootProblemKind.TruncatedTag, where); break; }
                        if (info.ModuleCount == BootInfo.MaxModules) { info.Report(BootProblemKind.TooManyModules, where); break; }
                        AddModule(info, U32(body, 0), U32(body, 4), CopyCString(info, body.Slice(8), where), where);
                        break;
                    case TagMemoryMap: ParseMultiboot2MemoryMap(info, body, where); break;
                }
                offset += (int)((size + 7) & ~7u); // tags are 8-byte aligned
            }
        }

        private static void ParseMultiboot2MemoryMap(BootInfo info, ReadOnlySpan<byte> body, ulong where)
        {
            if (body.Length < 8) { info.Report(BootProblemKind.TruncatedTag, where); return; }
            uint entrySize = U32(body, 0);
            if (entrySize < 20) { info.Report(BootProblemKind.BadMemoryMapEntrySize, where); return; }
            int offset = 8;
            while (offset < body.Length)
            {
                if ((uint)(body.Length - offset) < entrySize) { info.Report(BootProblemKind.TruncatedMemoryMap, where + 8 + (ulong)offset); return; }
                AddRegion(info, U64(body, offset), U64(body, offset + 8), U32(body, offset + 16), where + 8 + (ulong)offset);
                offset += (int)entrySize;
            }
        }

        // ---- shared ----

        private static void AddRegion(BootInfo info, ulong baseAddress, ulong length, uint type, ulong where)
        {
            // Lengths that wrap past 2^64 are clipped to the top of the address space (an entry
            // at the very last address clips to nothing and is dropped as empty).
            if (baseAddress + length < baseAddress) length = ulong.MaxValue - baseAddress;
            if (length == 0) { info.Report(BootProblemKind.ZeroLengthRegion, where); return; }
            if (info.RegionCount == BootInfo.MaxRegions) { info.Report(BootProblemKind.TooManyRegions, where); return; }
            // Types other than the five defined are reserved (multiboot2 §3.6.8).
            var t = type >= 1 && type <= 5 ? (MemoryRegionType)type : MemoryRegionType.Reserved;
            info.Regions[info.RegionCount++] = new MemoryRegion { Base = baseAddress, Length = length, Type = t };
        }

        private static void AddModule(BootInfo info, uint start, uint end, byte[] name, ulong where)
        {
            if (end < start) { info.Report(BootProblemKind.BadModuleRange, where); return; }
            info.Modules[info.ModuleCount++] = new BootModule { Start = start, End = end, Name = name };
        }

        /// <summary>
        /// Sorts the regions by base and removes overlaps: where a usable region overlaps a
        /// non-usable one, the overlap becomes non-usable; between equals, the earlier wins.
        /// One sweep keeps r[0..i) sorted and disjoint and r[i..count) sorted; a region whose
        /// base is moved up is put back in order and its slot looked at again.
        /// </summary>
        private static void NormalizeRegions(BootInfo info)
        {
            MemoryRegion[] r = info.Regions;
            for (int i = 1; i < info.RegionCount; i++)
            {
                MemoryRegion key = r[i];
                int j = i - 1;
                while (j >= 0 && r[j].Base > key.Base) { r[j + 1] = r[j]; j--; }
                r[j + 1] = key;
            }

            int count = info.RegionCount;
            for (int i = 1; i < count; i++)
            {
                MemoryRegion prev = r[i - 1];
                MemoryRegion cur = r[i];
                if (cur.Base >= prev.End) continue;
                info.Report(BootProblemKind.OverlappingRegions, cur.Base);
                if (prev.IsUsable && !cur.IsUsable)
                {
                    // Cut the usable one short; keep its tail beyond cur as a new region.
                    // Without room for the tail it is lost: less usable memory, never more.
                    if (prev.End > cur.End)
                    {
                        var tail = new MemoryRegion { Base = cur.End, Length = prev.End - cur.End, Type = prev.Type };
                        if (count < BootInfo.MaxRegions) InsertSorted(r, ref count, tail, i + 1);
                        else info.Report(BootProblemKind.TooManyRegions, tail.Base);
                    }
                    r[i - 1].Length = cur.Base - prev.Base;
                }
                else
                {
                    // Cur loses the overlapping part (it may vanish entirely). Its new base may
                    // pass regions after it (ones prev covers too), so move it back into order
                    // and look at slot i again: the region now there may overlap prev as well.
                    ulong newBase = prev.End;
                    RemoveAt(r, ref count, i);
                    if (newBase < cur.End)
                    {
                        cur.Length = cur.End - newBase;
                        cur.Base = newBase;
                        InsertSorted(r, ref count, cur, i);
                    }
                    i--;
                }
            }
            // Trimming can leave zero-length regions behind (a usable region fully covered).
            for (int i = 0; i < count; i++)
                if (r[i].Length == 0) { RemoveAt(r, ref count, i); i--; }
            info.RegionCount = count;
        }

        private static void InsertSorted(MemoryRegion[] r, ref int count, MemoryRegion region, int from)
        {
            int at = from;
            while (at < count && r[at].Base < region.Base) at++;
            for (int k = count; k > at; k--) r[k] = r[k - 1];
            r[at] = region;
            count++;
        }

        private static void RemoveAt(MemoryRegion[] r, ref int count, int index)
        {
            for (int k = index; k < count - 1; k++) r[k] = r[k + 1];
            count--;
        }

        private static byte[] ReadCString(BootInfo info, ulong address, PhysicalMemory memory)
        {
            if (address == 0) return new byte[0];
            byte[] text = ReadCStringBytes(info, address, memory);
            info.AddLoaderData(address, (ulong)text.Length + 1);
            return text;
        }

        private static byte[] ReadCStringBytes(BootInfo info, ulong address, PhysicalMemory memory)
        {
            // Read in small chunks so a string near the end of memory is still readable.
            byte[] buffer = new byte[MaxStringBytes];
            byte[] one = new byte[1];
            for (int n = 0; n < MaxStringBytes; n++)
            {
                if (!memory.Read(address + (ulong)n, one))
                {
                    info.Report(BootProblemKind.UnterminatedString, address);
                    return Copy(buffer, n);
                }
                if (one[0] == 0) return Copy(buffer, n);
                buffer[n] = one[0];
            }
            info.Report(BootProblemKind.UnterminatedString, address);
            return Copy(buffer, MaxStringBytes);
        }

        private static byte[] CopyCString(BootInfo info, ReadOnlySpan<byte> bytes, ulong where)
        {
            for (int i = 0; i < bytes.Length; i++)
                if (bytes[i] == 0) return Copy(bytes, i);
            info.Report(BootProblemKind.UnterminatedString, where);
            return Copy(bytes, bytes.Length);
        }

        private static byte[] Copy(ReadOnlySpan<byte> source, int length)
        {
            byte[] result = new byte[length];
            for (int i = 0; i < length; i++) result[i] = source[i];
            return result;
        }

        private static uint U32(ReadOnlySpan<byte> b, int o) =>
            (uint)(b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24));

        private static ulong U64(ReadOnlySpan<byte> b, int o) => U32(b, o) | ((ulong)U32(b, o + 4) << 32);
    }
}
