// The runtime's own errors, called by ILC-generated code (range checks, null
// checks, overflow, casts) and by kernel/Runtime. Each panics exactly as `throw new
// X()` would (kernel/Runtime/ExceptionHandling.cs): "unhandled exception: X: <.NET's
// message>", then registers and the return-address chain.
using System;
using System.Runtime;

namespace Internal.Runtime.CompilerHelpers
{
    internal static class ThrowHelpers
    {
        internal static void ThrowOverflowException() => ExceptionHandling.Unhandled(nameof(OverflowException), OverflowException.DefaultText);
        internal static void ThrowIndexOutOfRangeException() => ExceptionHandling.Unhandled(nameof(IndexOutOfRangeException), IndexOutOfRangeException.DefaultText);
        internal static void ThrowNullReferenceException() => ExceptionHandling.Unhandled(nameof(NullReferenceException), NullReferenceException.DefaultText);
        internal static void ThrowDivideByZeroException() => ExceptionHandling.Unhandled(nameof(DivideByZeroException), DivideByZeroException.DefaultText);
        internal static void ThrowArgumentOutOfRangeException() => ExceptionHandling.Unhandled(nameof(ArgumentOutOfRangeException), ArgumentOutOfRangeException.DefaultText);
        internal static void ThrowArgumentException() => ExceptionHandling.Unhandled(nameof(ArgumentException), ArgumentException.DefaultText);
        internal static void ThrowPlatformNotSupportedException() => ExceptionHandling.Unhandled(nameof(PlatformNotSupportedException), PlatformNotSupportedException.DefaultText);
        internal static void ThrowNotImplementedException() => ExceptionHandling.Unhandled(nameof(NotImplementedException), NotImplementedException.DefaultText);
        internal static void ThrowInvalidCastException() => ExceptionHandling.Unhandled(nameof(InvalidCastException), InvalidCastException.DefaultText);
        internal static void ThrowArrayTypeMismatchException() => ExceptionHandling.Unhandled(nameof(ArrayTypeMismatchException), ArrayTypeMismatchException.DefaultText);

        // Failures of the compiled program itself; the kernel has no classes for these,
        // so they are named as .NET names them.
        // ILC substitutes this for method bodies it removed as unreachable.
        internal static void ThrowFeatureBodyRemoved() => ExceptionHandling.Unhandled("NotSupportedException", "reached code the compiler removed as unreachable");
        internal static void ThrowInvalidProgramException() => ExceptionHandling.Unhandled("InvalidProgramException", "Common Language Runtime detected an invalid program.");
        internal static void ThrowInvalidProgramExceptionWithArgument(string argument) => ExceptionHandling.Unhandled("InvalidProgramException", argument);
        internal static void ThrowTypeLoadException() => ExceptionHandling.Unhandled("TypeLoadException", "Failure has occurred while loading a type.");
        internal static void ThrowTypeLoadExceptionWithArgument(string argument) => ExceptionHandling.Unhandled("TypeLoadException", argument);
        internal static void ThrowMissingMethodException() => ExceptionHandling.Unhandled("MissingMethodException", "Attempted to access a missing method.");
        internal static void ThrowMissingFieldException() => ExceptionHandling.Unhandled("MissingFieldException", "Attempted to access a non-existing field.");
        internal static void ThrowFileNotFoundException() => ExceptionHandling.Unhandled("FileNotFoundException", "Unable to find the specified file.");
        internal static void ThrowBadImageFormatException() => ExceptionHandling.Unhandled("BadImageFormatException", "Format of the executable (.exe) or library (.dll) is invalid.");
        internal static void ThrowMarshalDirectiveException() => ExceptionHandling.Unhandled("MarshalDirectiveException", "Marshaling directives are invalid.");
        internal static void ThrowAmbiguousMatchException() => ExceptionHandling.Unhandled("AmbiguousMatchException", "Ambiguous match found.");
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
