// Numbers in mount refusal reasons ("group 3 ..."), built by concatenating literals: the
// kernel's core library has no string formatting.
namespace Tessera.Storage.Ext2
{
    /// <summary>Strings for mount refusal reasons, built without string formatting (not in the kernel).</summary>
    internal static class ReasonText
    {
        public static string Decimal(ulong value)
        {
            string digits = "";
            do
            {
                digits = Digit((int)(value % 10)) + digits;
                value /= 10;
            } while (value != 0);
            return digits;
        }

        public static string Hex(uint value)
        {
            string digits = "";
            do
            {
                digits = Digit((int)(value & 15)) + digits;
                value >>= 4;
            } while (value != 0);
            return "0x" + digits;
        }

        private static string Digit(int d)
        {
            switch (d)
            {
                case 0: return "0"; case 1: return "1"; case 2: return "2"; case 3: return "3";
                case 4: return "4"; case 5: return "5"; case 6: return "6"; case 7: return "7";
                case 8: return "8"; case 9: return "9"; case 10: return "a"; case 11: return "b";
                case 12: return "c"; case 13: return "d"; case 14: return "e"; default: return "f";
            }
        }
    }
}
