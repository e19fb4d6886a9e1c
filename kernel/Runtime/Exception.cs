// System.Exception as the kernel has it. There is no unwinding: `throw` ends in a
// panic that names the exception (kernel/Runtime/ExceptionHandling.cs), so an
// exception is a type name, a message and an optional inner exception.
//
// ILC keeps no type names without reflection metadata, so every exception type
// says its own name: override TypeName with nameof(YourException). A type that does
// not is reported under the nearest base class that does.
namespace System
{
    public class Exception
    {
        internal const string DefaultText = "Exception of type 'Exception' was thrown.";

        private readonly string? _message;

        public Exception() { }
        public Exception(string? message) { _message = message; }
        public Exception(string? message, Exception? innerException) { _message = message; InnerException = innerException; }

        public virtual string Message => _message ?? DefaultText;
        public Exception? InnerException { get; }

        /// <summary>The exception's type name as the panic prints it (no namespace).</summary>
        internal virtual string TypeName => nameof(Exception);
    }

    public class SystemException : Exception
    {
        internal new const string DefaultText = "System error.";
        public SystemException() : base(DefaultText) { }
        public SystemException(string? message) : base(message ?? DefaultText) { }
        public SystemException(string? message, Exception? innerException) : base(message ?? DefaultText, innerException) { }
        internal override string TypeName => nameof(SystemException);
    }
}
