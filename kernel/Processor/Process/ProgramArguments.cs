// What program the processor runs at boot, from its command line (issue 5 item 4):
//
//   exec=PATH           the executable, as the memory component names it (e.g. exec=/hello)
//   argv=A,B,C          the whole argument vector, argv[0] included; absent: argv = { PATH }
//   envp=K=V,K2=V2      the environment; absent: empty
//   exec2= argv2= envp2= ... exec9= argv9= envp9=
//                       more programs, run one after the other (each as a new process) in the
//                       same boot; the list ends at the first number with no exec word
//
// The kernel command line is words separated by spaces, so each item (and PATH) is
// percent-encoded as in URLs (RFC 3986 §2.1): %XX is the byte 0xXX, and a space, a comma, a
// percent sign, a control byte or a non-ASCII byte must be written that way. `argv=` with an
// empty value is an empty vector (argc 0); an empty item is an empty string ("a,,b" is three).
// A list of exactly one empty string cannot be written. Encode is what host tools use to
// build the words. The lines can also come through fw_cfg (opt/tessera/cmdline), which has no
// length limit to speak of; QEMU's -append for -kernel boots keeps a few KiB.
// Pure logic: compiled into the processor image and the host tests.
using System;
using Tessera.Core.Boot;

namespace Tessera.Processor
{
    public sealed class ProgramArguments
    {
        public byte[] Path = new byte[0];
        public byte[][] Argv = new byte[0][];
        public byte[][] Envp = new byte[0][];

        /// <summary>
        /// Reads exec=, argv= and envp=. Returns null with problem null when there is no exec=,
        /// null with a problem when a word is malformed.
        /// </summary>
        public static ProgramArguments? FromCommandLine(CommandLine line, out string? problem) => FromCommandLine(line, 1, out problem);

        /// <summary>The index-th program (1: exec=, argv=, envp=; 2-9: exec2=, argv2=, envp2= ...).</summary>
        public static ProgramArguments? FromCommandLine(CommandLine line, int index, out string? problem)
        {
            problem = null;
            string suffix = index <= 1 ? "" : index == 2 ? "2" : index == 3 ? "3" : index == 4 ? "4" : index == 5 ? "5"
                : index == 6 ? "6" : index == 7 ? "7" : index == 8 ? "8" : index == 9 ? "9" : "";
            if (index > 9) return null;
            string execWord = "exec" + suffix, argvWord = "argv" + suffix, envpWord = "envp" + suffix;
            if (!line.TryGetValue(execWord, out ReadOnlySpan<byte> exec)) return null;
            var args = new ProgramArguments();
            byte[]? path = Decode(exec);
            if (path is null || path.Length == 0) { problem = execWord + "= needs a path (percent-encoded)"; return null; }
            args.Path = path;
            if (line.TryGetValue(argvWord, out ReadOnlySpan<byte> argv))
            {
                byte[][]? items = DecodeList(argv);
                if (items is null) { problem = argvWord + "= is not a comma-separated list of percent-encoded items"; return null; }
                args.Argv = items;
            }
            else args.Argv = new byte[][] { path };
            if (line.TryGetValue(envpWord, out ReadOnlySpan<byte> envp))
            {
                byte[][]? items = DecodeList(envp);
                if (items is null) { problem = envpWord + "= is not a comma-separated list of percent-encoded items"; return null; }
                args.Envp = items;
            }
            return args;
        }

        /// <summary>path, argv and envp, each NUL-terminated, back to back: the strings of an EXECVE request.</summary>
        public byte[] ExecveStrings()
        {
            int length = Path.Length + 1;
            for (int i = 0; i < Argv.Length; i++) length += Argv[i].Length + 1;
            for (int i = 0; i < Envp.Length; i++) length += Envp[i].Length + 1;
            byte[] b = new byte[length];
            int at = Put(b, 0, Path);
            for (int i = 0; i < Argv.Length; i++) at = Put(b, at, Argv[i]);
            for (int i = 0; i < Envp.Length; i++) at = Put(b, at, Envp[i]);
            return b;
        }

        private static int Put(byte[] b, int at, byte[] s)
        {
            for (int i = 0; i < s.Length; i++) b[at + i] = s[i];
            b[at + s.Length] = 0;
            return at + s.Length + 1;
        }

        /// <summary>Splits value at commas and decodes each item; null when an escape is malformed or decodes to NUL.</summary>
        public static byte[][]? DecodeList(ReadOnlySpan<byte> value)
        {
            if (value.Length == 0) return new byte[0][];
            int count = 1;
            for (int i = 0; i < value.Length; i++) if (value[i] == ',') count++;
            byte[][] items = new byte[count][];
            int start = 0, n = 0;
            for (int i = 0; i <= value.Length; i++)
            {
                if (i < value.Length && value[i] != ',') continue;
                byte[]? item = Decode(value.Slice(start, i - start));
                if (item is null) return null;
                items[n++] = item;
                start = i + 1;
            }
            return items;
        }

        /// <summary>Percent-decodes one item; null on a malformed escape or a NUL byte (C strings cannot hold one).</summary>
        public static byte[]? Decode(ReadOnlySpan<byte> item)
        {
            int length = 0;
            for (int i = 0; i < item.Length; i++, length++)
            {
                if (item[i] != '%') continue;
                if (i + 2 >= item.Length || Hex(item[i + 1]) < 0 || Hex(item[i + 2]) < 0) return null;
                i += 2;
            }
            byte[] b = new byte[length];
            int at = 0;
            for (int i = 0; i < item.Length; i++)
            {
                byte c = item[i];
                if (c == '%') { c = (byte)(Hex(item[i + 1]) * 16 + Hex(item[i + 2])); i += 2; }
                if (c == 0) return null;
                b[at++] = c;
            }
            return b;
        }

        /// <summary>True for the bytes an item may carry as they are; everything else is written %XX.</summary>
        public static bool IsPlain(byte c) => c > 0x20 && c < 0x7F && c != ',' && c != '%';

        /// <summary>The percent-encoded length of item.</summary>
        public static int EncodedLength(ReadOnlySpan<byte> item)
        {
            int n = 0;
            for (int i = 0; i < item.Length; i++) n += IsPlain(item[i]) ? 1 : 3;
            return n;
        }

        /// <summary>Percent-encodes item into output (EncodedLength bytes); returns the length.</summary>
        public static int Encode(ReadOnlySpan<byte> item, Span<byte> output)
        {
            const string digits = "0123456789ABCDEF";
            int at = 0;
            for (int i = 0; i < item.Length; i++)
            {
                byte c = item[i];
                if (IsPlain(c)) { output[at++] = c; continue; }
                output[at++] = (byte)'%';
                output[at++] = (byte)digits[c >> 4];
                output[at++] = (byte)digits[c & 0xF];
            }
            return at;
        }

        private static int Hex(byte c) =>
            c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    }
}
