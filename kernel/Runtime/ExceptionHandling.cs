// What `throw` does in the kernel. ILC compiles `throw e` to a call of RhpThrowEx(e)
// and `throw;` inside a catch block to RhpRethrow. The kernel does not unwind
// (DESIGN §4): an exception is always unhandled, and ends in a panic that names it:
//   PANIC: unhandled exception: InvalidOperationException: <message>
// followed by the registers and the return-address chain (Panic.Halt).
using System.Runtime;

namespace System.Runtime
{
    internal static class ExceptionHandling
    {
        public const string Prefix = "unhandled exception: ";

        [RuntimeExport("RhpThrowEx")]
        private static void RhpThrowEx(object? thrown)
        {
            // `throw null` throws a NullReferenceException in .NET.
            if (thrown is not Exception exception)
            {
                Unhandled(nameof(NullReferenceException), NullReferenceException.DefaultText);
                return;
            }
            string reason = Prefix + exception.TypeName + ": " + exception.Message;
            // Inner exceptions in .NET's " ---> " form, a few levels deep.
            Exception? inner = exception.InnerException;
            for (int depth = 0; inner is not null && depth < 4; depth++, inner = inner.InnerException)
            {
                reason = reason + " ---> " + inner.TypeName;
                reason = reason + ": " + inner.Message;
            }
            Tessera.Core.Panic.Halt(reason);
        }

        // A catch block can never run (nothing unwinds to it), so nothing can be
        // rethrown; ILC still links this for `throw;`.
        [RuntimeExport("RhpRethrow")]
        private static void RhpRethrow() => Tessera.Core.Panic.Halt(Prefix + "rethrown from a catch block");

        /// <summary>Panics as an unhandled exception of the named type would, without creating the exception object.</summary>
        internal static void Unhandled(string typeName, string message) =>
            Tessera.Core.Panic.Halt(Prefix + typeName + ": " + message);
    }
}
