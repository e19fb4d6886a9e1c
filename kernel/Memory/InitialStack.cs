// The stack a Linux x86-64 program finds at its entry point, laid out exactly as Linux
// does it (fs/exec.c copy_strings, fs/binfmt_elf.c create_elf_tables; the x86-64 psABI
// §3.4.1 "Initial Stack and Register State"). From the top of the stack down:
//
//   StackTop            ----------------------------------------------------------------
//   StackTop - 8        8 zero bytes (bprm->p starts one pointer below the top)
//   ExecFnAddress       the file name given to execve, NUL-terminated (AT_EXECFN)
//   EnvStart            the environment strings, envp[0] lowest, each NUL-terminated
//   ArgStart            the argument strings, argv[0] lowest        (mm->arg_start)
//                       padding down to a multiple of 16 (arch_align_stack, no randomisation)
//   PlatformAddress     "x86_64\0" (ELF_PLATFORM, AT_PLATFORM)
//   RandomAddress       16 random bytes (AT_RANDOM), not aligned
//                       padding, so that the final rsp is a multiple of 16
//   auxv                (type, value) pairs, ending with AT_NULL (0, 0)
//                       0
//   envp[0..envc-1]     pointers to the environment strings
//                       0
//   argv[0..argc-1]     pointers to the argument strings
//   rsp ->              argc
//
// The vector is built from the top; the rsp is (auxv start - (argc + 1 + envc + 1 + 1) * 8)
// rounded down to 16 (STACK_ROUND), so argc, argv, envp and auxv are contiguous and the
// padding sits between the auxv and the random bytes. The auxv entries come in Linux's
// order: the architecture's own first (ARCH_DLINFO: AT_SYSINFO_EHDR, AT_MINSIGSTKSZ, passed
// as Leading), then AT_HWCAP, AT_PAGESZ, AT_CLKTCK, AT_PHDR, AT_PHENT, AT_PHNUM, AT_BASE,
// AT_FLAGS, AT_ENTRY, AT_UID, AT_EUID, AT_GID, AT_EGID, AT_SECURE, AT_RANDOM, AT_HWCAP2,
// AT_EXECFN, AT_PLATFORM, then any Trailing ones (AT_RSEQ_*), then AT_NULL.
//
// Limits as fs/exec.c: each string at most MAX_ARG_STRLEN (32 pages); all strings plus
// the argv/envp pointers within a quarter of the stack limit (-E2BIG otherwise). An empty
// argv gets one empty string as argv[0], as Linux 5.18+ does.
// Pure logic: compiled into the memory kernel and the host tests.
using System;

namespace Tessera.Memory
{
    public static class Auxv
    {
        public const ulong Null = 0;
        public const ulong Phdr = 3;
        public const ulong Phent = 4;
        public const ulong Phnum = 5;
        public const ulong PageSize = 6;
        public const ulong Base = 7;
        public const ulong Flags = 8;
        public const ulong Entry = 9;
        public const ulong Uid = 11;
        public const ulong Euid = 12;
        public const ulong Gid = 13;
        public const ulong Egid = 14;
        public const ulong Platform = 15;
        public const ulong HwCap = 16;
        public const ulong ClockTick = 17;
        public const ulong Secure = 23;
        public const ulong Random = 25;
        public const ulong HwCap2 = 26;
        public const ulong RseqFeatureSize = 27;
        public const ulong RseqAlign = 28;
        public const ulong ExecFn = 31;
        public const ulong SysinfoEhdr = 33;
        public const ulong MinSigStackSize = 51;
    }

    /// <summary>What goes on the initial stack. Strings are packed: each NUL-terminated, back to back.</summary>
    public ref struct InitialStackInput
    {
        /// <summary>argv strings, "a\0bb\0" for { "a", "bb" }; empty means argc 0.</summary>
        public ReadOnlySpan<byte> Arguments;
        /// <summary>envp strings, packed the same way.</summary>
        public ReadOnlySpan<byte> Environment;
        /// <summary>The file name passed to execve, without its NUL.</summary>
        public ReadOnlySpan<byte> ExecFn;
        /// <summary>Exactly 16 random bytes for AT_RANDOM.</summary>
        public ReadOnlySpan<byte> Random;
        /// <summary>Architecture entries before AT_HWCAP, as (type, value) pairs.</summary>
        public ReadOnlySpan<ulong> LeadingAuxv;
        /// <summary>Entries after AT_PLATFORM, as (type, value) pairs.</summary>
        public ReadOnlySpan<ulong> TrailingAuxv;

        public ulong ProgramHeaders;      // AT_PHDR
        public ulong ProgramHeaderCount;  // AT_PHNUM
        public ulong Entry;               // AT_ENTRY
        public ulong InterpreterBase;     // AT_BASE: 0, no interpreter
        public ulong Uid, Euid, Gid, Egid;
        public ulong Secure;              // AT_SECURE
        public ulong HwCap;               // AT_HWCAP: CPUID.1:EDX on x86
        public ulong HwCap2;              // AT_HWCAP2
    }

    /// <summary>Where things landed (the memory component keeps them for /proc-like queries).</summary>
    public struct InitialStackLayout
    {
        public ulong StackPointer;
        public ulong ArgStart, ArgEnd, EnvStart, EnvEnd;
        public ulong ExecFnAddress;
        public ulong PlatformAddress;
        public ulong RandomAddress;
        public ulong AuxvAddress;
        public int ArgumentCount;
        public int EnvironmentCount;
    }

    public static class InitialStack
    {
        public const int MaxArgStrlen = 32 * 4096;      // MAX_ARG_STRLEN
        public const ulong ClockTicks = 100;             // USER_HZ
        public const ulong ProgramHeaderEntrySize = 56;  // sizeof(Elf64_Phdr)
        private const int StandardAuxvEntries = 18;      // AT_HWCAP .. AT_PLATFORM below

        /// <summary>
        /// Lays the stack out for a stack ending at stackTop into top, which holds the
        /// highest top.Length bytes below stackTop (a whole number of pages is natural).
        /// Returns the initial rsp, or -E2BIG (strings over the limits, or top too small),
        /// or -EINVAL (a string block not NUL-terminated, Random not 16 bytes, odd auxv
        /// spans, stackTop not 16-aligned).
        /// </summary>
        public static long Build(in InitialStackInput input, ulong stackTop, ulong stackLimit, Span<byte> top, out InitialStackLayout layout)
        {
            int error = Plan(input, stackTop, stackLimit, out layout);
            if (error != 0) return error;
            ulong rsp = layout.StackPointer;
            if (stackTop - rsp > (ulong)top.Length)
            {
                layout = default;
                return -Errno.E2BIG;
            }
            bool emptyArgv = input.Arguments.Length == 0;
            ulong bottom = stackTop - (ulong)top.Length;
            // All of it: the page holding rsp is handed to the process whole, so the bytes
            // below rsp (and any padding) must be zero, not whatever the buffer held.
            top.Clear();

            // Strings (ExecFn's NUL and the top 8 bytes are already zero).
            Copy(top, bottom, layout.ArgStart, input.Arguments);
            Copy(top, bottom, layout.EnvStart, input.Environment);
            Copy(top, bottom, layout.ExecFnAddress, input.ExecFn);
            int platform = (int)(layout.PlatformAddress - bottom);
            top[platform + 0] = (byte)'x';
            top[platform + 1] = (byte)'8';
            top[platform + 2] = (byte)'6';
            top[platform + 3] = (byte)'_';
            top[platform + 4] = (byte)'6';
            top[platform + 5] = (byte)'4';
            Copy(top, bottom, layout.RandomAddress, input.Random);

            // argc, argv, envp.
            ulong w = rsp;
            Put(top, bottom, ref w, (ulong)layout.ArgumentCount);
            if (emptyArgv) Put(top, bottom, ref w, layout.ArgStart); // argv { "" }
            else PutPointers(top, bottom, ref w, input.Arguments, layout.ArgStart);
            Put(top, bottom, ref w, 0);
            PutPointers(top, bottom, ref w, input.Environment, layout.EnvStart);
            Put(top, bottom, ref w, 0);

            // auxv.
            for (int i = 0; i < input.LeadingAuxv.Length; i++) Put(top, bottom, ref w, input.LeadingAuxv[i]);
            PutAux(top, bottom, ref w, Auxv.HwCap, input.HwCap);
            PutAux(top, bottom, ref w, Auxv.PageSize, AddressSpaceLayout.PageSize);
            PutAux(top, bottom, ref w, Auxv.ClockTick, ClockTicks);
            PutAux(top, bottom, ref w, Auxv.Phdr, input.ProgramHeaders);
            PutAux(top, bottom, ref w, Auxv.Phent, ProgramHeaderEntrySize);
            PutAux(top, bottom, ref w, Auxv.Phnum, input.ProgramHeaderCount);
            PutAux(top, bottom, ref w, Auxv.Base, input.InterpreterBase);
            PutAux(top, bottom, ref w, Auxv.Flags, 0);
            PutAux(top, bottom, ref w, Auxv.Entry, input.Entry);
            PutAux(top, bottom, ref w, Auxv.Uid, input.Uid);
            PutAux(top, bottom, ref w, Auxv.Euid, input.Euid);
            PutAux(top, bottom, ref w, Auxv.Gid, input.Gid);
            PutAux(top, bottom, ref w, Auxv.Egid, input.Egid);
            PutAux(top, bottom, ref w, Auxv.Secure, input.Secure);
            PutAux(top, bottom, ref w, Auxv.Random, layout.RandomAddress);
            PutAux(top, bottom, ref w, Auxv.HwCap2, input.HwCap2);
            PutAux(top, bottom, ref w, Auxv.ExecFn, layout.ExecFnAddress);
            PutAux(top, bottom, ref w, Auxv.Platform, layout.PlatformAddress);
            for (int i = 0; i < input.TrailingAuxv.Length; i++) Put(top, bottom, ref w, input.TrailingAuxv[i]);
            PutAux(top, bottom, ref w, Auxv.Null, 0);
            return (long)rsp;
        }

        /// <summary>
        /// Bytes from the stack top down to the rsp Build would produce, to size its buffer
        /// (round it up to whole pages); 0 if Build would refuse the input.
        /// </summary>
        public static ulong RequiredBytes(in InitialStackInput input, ulong stackLimit)
        {
            const ulong anyTop = 1UL << 46; // the layout only depends on the top modulo 16
            return Plan(input, anyTop, stackLimit, out InitialStackLayout layout) == 0 ? anyTop - layout.StackPointer : 0;
        }

        // Computes every address of the layout; 0 or a negative errno.
        private static int Plan(in InitialStackInput input, ulong stackTop, ulong stackLimit, out InitialStackLayout layout)
        {
            layout = default;
            if ((stackTop & 15) != 0 || input.Random.Length != 16) return -Errno.EINVAL;
            if ((input.LeadingAuxv.Length & 1) != 0 || (input.TrailingAuxv.Length & 1) != 0) return -Errno.EINVAL;
            int argc = CountStrings(input.Arguments);
            int envc = CountStrings(input.Environment);
            if (argc == -1 || envc == -1) return -Errno.EINVAL;
            if (argc == -2 || envc == -2 || input.ExecFn.Length + 1 > MaxArgStrlen) return -Errno.E2BIG;
            for (int i = 0; i < input.ExecFn.Length; i++) if (input.ExecFn[i] == 0) return -Errno.EINVAL;
            ulong argBytes = (ulong)input.Arguments.Length;
            if (argc == 0) { argc = 1; argBytes = 1; } // Linux 5.18+: argv becomes { "" }

            // bprm_stack_limits: strings and pointers within a quarter of the stack limit,
            // never less than ARG_MAX (32 pages).
            ulong limit = stackLimit / 4;
            if (limit < (ulong)MaxArgStrlen) limit = (ulong)MaxArgStrlen;
            ulong pointers = (ulong)(argc + envc) * 8;
            ulong strings = argBytes + (ulong)input.Environment.Length + (ulong)input.ExecFn.Length + 1;
            if (pointers >= limit || strings > limit - pointers) return -Errno.E2BIG;

            // The string area, from the top down (fs/exec.c).
            ulong p = stackTop - 8;
            p -= (ulong)input.ExecFn.Length + 1;
            layout.ExecFnAddress = p;
            p -= (ulong)input.Environment.Length;
            layout.EnvStart = p;
            layout.EnvEnd = layout.ExecFnAddress;
            p -= argBytes;
            layout.ArgStart = p;
            layout.ArgEnd = layout.EnvStart;

            // create_elf_tables.
            p &= ~15UL;
            p -= 7; // "x86_64\0"
            layout.PlatformAddress = p;
            p -= 16;
            layout.RandomAddress = p;
            int auxWords = input.LeadingAuxv.Length + 2 * StandardAuxvEntries + input.TrailingAuxv.Length + 2;
            ulong sp = p - (ulong)auxWords * 8;
            ulong items = (ulong)(argc + 1 + envc + 1 + 1);
            layout.StackPointer = (sp - items * 8) & ~15UL;
            layout.AuxvAddress = layout.StackPointer + items * 8;
            layout.ArgumentCount = argc;
            layout.EnvironmentCount = envc;
            return 0;
        }

        // Number of NUL-terminated strings in a packed block; -1 if it does not end in NUL,
        // -2 if it holds a string longer than MAX_ARG_STRLEN.
        private static int CountStrings(ReadOnlySpan<byte> block)
        {
            if (block.Length == 0) return 0;
            if (block[block.Length - 1] != 0) return -1;
            int count = 0, length = 0;
            for (int i = 0; i < block.Length; i++)
            {
                length++;
                if (block[i] != 0) continue;
                if (length > MaxArgStrlen) return -2;
                count++;
                length = 0;
            }
            return count;
        }

        private static void Copy(Span<byte> top, ulong bottom, ulong address, ReadOnlySpan<byte> bytes)
        {
            int at = (int)(address - bottom);
            for (int i = 0; i < bytes.Length; i++) top[at + i] = bytes[i];
        }

        private static void Put(Span<byte> top, ulong bottom, ref ulong address, ulong value)
        {
            int at = (int)(address - bottom);
            for (int i = 0; i < 8; i++) top[at + i] = (byte)(value >> (8 * i));
            address += 8;
        }

        private static void PutAux(Span<byte> top, ulong bottom, ref ulong address, ulong type, ulong value)
        {
            Put(top, bottom, ref address, type);
            Put(top, bottom, ref address, value);
        }

        // One pointer per string of a packed block whose first byte lands at start.
        private static void PutPointers(Span<byte> top, ulong bottom, ref ulong address, ReadOnlySpan<byte> block, ulong start)
        {
            for (int i = 0; i < block.Length; i++)
                if (i == 0 || block[i - 1] == 0) Put(top, bottom, ref address, start + (ulong)i);
        }
    }
}
