// `exception-test` on the command line: a real `throw`, which must end in a panic that
// names the exception type and message (tests/Tessera.Tests/Boot/ExceptionTests.cs).
using System;
using System.Runtime.CompilerServices;

namespace Tessera.Core
{
    internal static class ExceptionBootTest
    {
        public const string Message = "exception-test requested on the command line";

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Throw() => throw new InvalidOperationException(Message, new ArgumentOutOfRangeException("index"));
    }
}
