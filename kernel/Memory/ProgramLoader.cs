// exec for the memory component: an empty address space, a parsed ElfImage and the
// program's arguments become the areas of a fresh process, its brk start, and the bytes of
// its initial stack. The order follows Linux's load_elf_binary (fs/binfmt_elf.c):
//
//  1. ET_EXEC maps at its own addresses; a static PIE (ET_DYN) gets a load bias that puts
//     it where mmap(NULL, total_mapping_size) would go: top-down just below mmap_base,
//     like a shared library (Linux loads a PIE without PT_INTERP this way);
//  2. every PT_LOAD becomes its file-backed area and its bss area (ElfImage.SegmentAreas),
//     mapped as MAP_FIXED_NOREPLACE would, so a clash is -EEXIST rather than a silent
//     overwrite;
//  3. brk starts at the page after the highest segment's end (ET_EXEC), or at
//     ELF_ET_DYN_BASE for a static PIE, whose segments sit in the mmap area (Linux moves
//     its brk there so the heap cannot run into the mmap area);
//  4. the stack area runs from the stack top down to 128 KiB below the page holding the
//     argument strings (setup_arg_pages' stack_expand), read-write, executable only when
//     PT_GNU_STACK asks for it; it then grows on faults up to the stack limit;
//  5. the initial stack contents (InitialStack) with AT_PHDR, AT_PHNUM, AT_ENTRY from the
//     image and its bias.
//
// On an error the address space is left part-built; the caller clears it (VmaSet.Clear).
// Pure logic: compiled into the memory kernel and the host tests.
using System;

namespace Tessera.Memory
{
    /// <summary>How a loaded program starts, and where its process's regions are.</summary>
    public struct ProgramStart
    {
        /// <summary>Initial rip (AT_ENTRY).</summary>
        public ulong Entry;
        /// <summary>Initial rsp: argc is here.</summary>
        public ulong StackPointer;
        public ulong LoadBias;
        /// <summary>AT_PHDR (0 when no segment holds the program headers).</summary>
        public ulong ProgramHeaderAddress;
        public ulong BrkStart;
        public ulong StackTop;
        /// <summary>Lowest address of the stack area at start.</summary>
        public ulong StackAreaStart;
        /// <summary>
        /// The pages [StackPopulatedStart, StackTop) hold the initial stack: they are the
        /// last (StackTop - StackPopulatedStart) bytes of the buffer given to Load.
        /// </summary>
        public ulong StackPopulatedStart;
        public InitialStackLayout Stack;
    }

    public static class ProgramLoader
    {
        /// <summary>Room left below the argument pages at exec (setup_arg_pages' stack_expand).</summary>
        public const ulong StackExpand = 128 * 1024;

        /// <summary>
        /// Loads image (Parse returned None) into space (emptied first). stack receives the
        /// top of the initial stack: its last byte is just below the layout's StackTop;
        /// size it with InitialStack.RequiredBytes rounded up to pages. The input's AT_PHDR,
        /// AT_PHNUM and AT_ENTRY fields are filled in here. Returns 0 or a negative errno.
        /// </summary>
        public static int Load(VmaSet space, ElfImage image, ulong fileId, in InitialStackInput input, Span<byte> stack, out ProgramStart start)
        {
            start = default;
            if (image.LoadCount == 0) return -Errno.ENOEXEC;
            space.Clear();
            AddressSpaceLayout layout = space.Layout;

            ulong bias = 0;
            if (image.IsPositionIndependent)
            {
                long placed = space.FindUnmappedArea(image.TotalMappingSize, image.MaxAlign);
                if (placed < 0) return (int)placed;
                bias = (ulong)placed - image.LowestAddress;
            }

            Span<Vma> areas = stackalloc Vma[2];
            for (int i = 0; i < image.LoadCount; i++)
            {
                int n = image.SegmentAreas(i, bias, fileId, areas);
                for (int k = 0; k < n; k++)
                {
                    int r = space.MapArea(areas[k]);
                    if (r < 0) return r;
                }
            }

            ulong brk = image.IsPositionIndependent
                ? AddressSpaceLayout.PageAlign(layout.DynamicBase)
                : AddressSpaceLayout.PageAlign(image.HighestAddress + bias);
            space.InitBrk(brk);

            InitialStackInput filled = input;
            filled.Entry = image.Entry + bias;
            filled.ProgramHeaders = image.ProgramHeaderAddress == 0 ? 0 : image.ProgramHeaderAddress + bias;
            filled.ProgramHeaderCount = (ulong)image.ProgramHeaderCount;
            long rsp = InitialStack.Build(filled, layout.StackTop, layout.StackLimit, stack, out InitialStackLayout stackLayout);
            if (rsp < 0) return (int)rsp;

            ulong argPages = AddressSpaceLayout.PageDown(stackLayout.ArgStart);
            ulong stackSize = layout.StackTop - argPages;
            ulong stackStart = stackSize + StackExpand > layout.StackLimit ? layout.StackTop - layout.StackLimit : argPages - StackExpand;
            if (stackStart > AddressSpaceLayout.PageDown((ulong)rsp)) stackStart = AddressSpaceLayout.PageDown((ulong)rsp);
            Vma stackArea = default;
            stackArea.Start = stackStart;
            stackArea.End = layout.StackTop;
            stackArea.Kind = VmaKind.Stack;
            stackArea.Protection = (byte)(Prot.Read | Prot.Write | (image.ExecutableStack ? Prot.Exec : 0));
            int mapped = space.MapArea(stackArea);
            if (mapped < 0) return mapped;

            start.Entry = filled.Entry;
            start.StackPointer = (ulong)rsp;
            start.LoadBias = bias;
            start.ProgramHeaderAddress = filled.ProgramHeaders;
            start.BrkStart = brk;
            start.StackTop = layout.StackTop;
            start.StackAreaStart = stackStart;
            start.StackPopulatedStart = AddressSpaceLayout.PageDown((ulong)rsp);
            start.Stack = stackLayout;
            return 0;
        }
    }
}
