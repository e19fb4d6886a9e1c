// The kernel has no exception unwinding: every runtime error ends in a panic that
// names it (the panic prints registers and the return-address chain).
using Tessera.Core;

namespace Internal.Runtime.CompilerHelpers
{
    internal static class ThrowHelpers
    {
        internal static void ThrowOverflowException() => Panic.Halt("arithmetic overflow");
        internal static void ThrowIndexOutOfRangeException() => Panic.Halt("index out of range");
        internal static void ThrowNullReferenceException() => Panic.Halt("null reference");
        internal static void ThrowDivideByZeroException() => Panic.Halt("divide by zero");
        internal static void ThrowArgumentOutOfRangeException() => Panic.Halt("argument out of range");
        internal static void ThrowArgumentException() => Panic.Halt("invalid argument");
        internal static void ThrowPlatformNotSupportedException() => Panic.Halt("not supported in the kernel");
        internal static void ThrowNotImplementedException() => Panic.Halt("not implemented");
        internal static void ThrowInvalidCastException() => Panic.Halt("invalid cast");
        internal static void ThrowArrayTypeMismatchException() => Panic.Halt("array type mismatch");
        // ILC substitutes this for method bodies it removed as unreachable.
        internal static void ThrowFeatureBodyRemoved() => Panic.Halt("reached code the compiler removed");
        internal static void ThrowInvalidProgramException() => Panic.Halt("invalid program");
        internal static void ThrowInvalidProgramExceptionWithArgument(string argument) => Panic.Halt("invalid program");
        internal static void ThrowTypeLoadException() => Panic.Halt("type load failure");
        internal static void ThrowTypeLoadExceptionWithArgument(string argument) => Panic.Halt("type load failure");
        internal static void ThrowMissingMethodException() => Panic.Halt("missing method");
        internal static void ThrowMissingFieldException() => Panic.Halt("missing field");
        internal static void ThrowFileNotFoundException() => Panic.Halt("file not found");
        internal static void ThrowBadImageFormatException() => Panic.Halt("bad image format");
        internal static void ThrowMarshalDirectiveException() => Panic.Halt("marshalling not supported");
        internal static void ThrowAmbiguousMatchException() => Panic.Halt("ambiguous match");
    }

    // ldtoken of methods and fields: the kernel has no reflection, so these stay unsupported.
    internal static class LdTokenHelpers
    {
        internal static System.RuntimeMethodHandle GetRuntimeMethodHandle(nint pHandleSignature)
        {
            ThrowHelpers.ThrowPlatformNotSupportedException();
            return default;
        }

        internal static System.RuntimeFieldHandle GetRuntimeFieldHandle(nint pHandleSignature)
        {
            ThrowHelpers.ThrowPlatformNotSupportedException();
            return default;
        }
    }
}

namespace System
{
    public class Exception
    {
        public string Message { get; }
        public Exception() { Message = "exception"; }
        public Exception(string message) { Message = message; }
    }
}

namespace System.Runtime.InteropServices
{
    // ILC looks this interface up eagerly; nothing in the kernel implements it.
    public interface IDynamicInterfaceCastable
    {
        bool IsInterfaceImplemented(RuntimeTypeHandle interfaceType, bool throwIfNotImplemented);
        RuntimeTypeHandle GetInterfaceImplementation(RuntimeTypeHandle interfaceType);

        // ILC's scanner names this resolver; nothing in the kernel implements the interface.
        internal static unsafe nint GetDynamicInterfaceImplementation(object instance, Internal.Runtime.MethodTable* interfaceType, ushort slot)
        {
            Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowPlatformNotSupportedException();
            return 0;
        }
    }
}
