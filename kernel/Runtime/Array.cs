// Arrays: [MethodTable* | int length | int padding | elements...] on x64.
using System.Runtime.CompilerServices;

namespace System
{
    public abstract class Array
    {
#pragma warning disable CS0649, CS0169
        private int _numComponents;
        private int _padding;
#pragma warning restore CS0649, CS0169

        public int Length => _numComponents;

        // Multi-dimensional arrays are not supported in the kernel; ILC still names these helpers.
        internal static unsafe Array Ctor(Internal.Runtime.MethodTable* pEEType, int nDimensions, int* pDimensions)
        {
            Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowPlatformNotSupportedException();
            return null!;
        }

        internal static unsafe Array CtorRare(Internal.Runtime.MethodTable* pEEType, int nDimensions, int* pDimensions)
            => Ctor(pEEType, nDimensions, pDimensions);
    }

    // ILC makes T[] derive from Array<T> when the core library has it.
    public class Array<T> : Array { }
}
