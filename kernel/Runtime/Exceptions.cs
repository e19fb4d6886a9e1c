// The common exception types, with .NET's constructors and default messages, so
// kernel code throws what C# code throws everywhere else. ThrowHelpers.cs reports
// the runtime's own errors (index out of range, null reference, ...) under the same
// names and messages without allocating an exception object.
namespace System
{
    public class InvalidOperationException : SystemException
    {
        internal new const string DefaultText = "Operation is not valid due to the current state of the object.";
        public InvalidOperationException() : base(DefaultText) { }
        public InvalidOperationException(string? message) : base(message ?? DefaultText) { }
        public InvalidOperationException(string? message, Exception? innerException) : base(message ?? DefaultText, innerException) { }
        internal override string TypeName => nameof(InvalidOperationException);
    }

    public class ObjectDisposedException : InvalidOperationException
    {
        public ObjectDisposedException(string? objectName) : base("Cannot access a disposed object.") { ObjectName = objectName ?? ""; }
        public ObjectDisposedException(string? objectName, string? message) : base(message) { ObjectName = objectName ?? ""; }
        public string ObjectName { get; }
        public override string Message => ObjectName.Length == 0 ? base.Message : base.Message + " Object name: '" + ObjectName + "'.";
        internal override string TypeName => nameof(ObjectDisposedException);
    }

    public class ArgumentException : SystemException
    {
        internal new const string DefaultText = "Value does not fall within the expected range.";
        public ArgumentException() : base(DefaultText) { }
        public ArgumentException(string? message) : base(message ?? DefaultText) { }
        public ArgumentException(string? message, Exception? innerException) : base(message ?? DefaultText, innerException) { }
        public ArgumentException(string? message, string? paramName) : base(message ?? DefaultText) { ParamName = paramName; }
        public virtual string? ParamName { get; }
        // .NET's format: "<message> (Parameter '<name>')".
        public override string Message => ParamName is null ? base.Message : base.Message + " (Parameter '" + ParamName + "')";
        internal override string TypeName => nameof(ArgumentException);
    }

    public class ArgumentNullException : ArgumentException
    {
        internal new const string DefaultText = "Value cannot be null.";
        public ArgumentNullException() : base(DefaultText) { }
        public ArgumentNullException(string? paramName) : base(DefaultText, paramName) { }
        public ArgumentNullException(string? paramName, string? message) : base(message ?? DefaultText, paramName) { }
        internal override string TypeName => nameof(ArgumentNullException);
    }

    public class ArgumentOutOfRangeException : ArgumentException
    {
        internal new const string DefaultText = "Specified argument was out of the range of valid values.";
        public ArgumentOutOfRangeException() : base(DefaultText) { }
        public ArgumentOutOfRangeException(string? paramName) : base(DefaultText, paramName) { }
        public ArgumentOutOfRangeException(string? paramName, string? message) : base(message ?? DefaultText, paramName) { }
        internal override string TypeName => nameof(ArgumentOutOfRangeException);
    }

    public class NotSupportedException : SystemException
    {
        internal new const string DefaultText = "Specified method is not supported.";
        public NotSupportedException() : base(DefaultText) { }
        public NotSupportedException(string? message) : base(message ?? DefaultText) { }
        public NotSupportedException(string? message, Exception? innerException) : base(message ?? DefaultText, innerException) { }
        internal override string TypeName => nameof(NotSupportedException);
    }

    public class PlatformNotSupportedException : NotSupportedException
    {
        internal new const string DefaultText = "Operation is not supported on this platform.";
        public PlatformNotSupportedException() : base(DefaultText) { }
        public PlatformNotSupportedException(string? message) : base(message ?? DefaultText) { }
        internal override string TypeName => nameof(PlatformNotSupportedException);
    }

    public class NotImplementedException : SystemException
    {
        internal new const string DefaultText = "The method or operation is not implemented.";
        public NotImplementedException() : base(DefaultText) { }
        public NotImplementedException(string? message) : base(message ?? DefaultText) { }
        internal override string TypeName => nameof(NotImplementedException);
    }

    public sealed class IndexOutOfRangeException : SystemException
    {
        internal new const string DefaultText = "Index was outside the bounds of the array.";
        public IndexOutOfRangeException() : base(DefaultText) { }
        public IndexOutOfRangeException(string? message) : base(message ?? DefaultText) { }
        internal override string TypeName => nameof(IndexOutOfRangeException);
    }

    public class NullReferenceException : SystemException
    {
        internal new const string DefaultText = "Object reference not set to an instance of an object.";
        public NullReferenceException() : base(DefaultText) { }
        public NullReferenceException(string? message) : base(message ?? DefaultText) { }
        internal override string TypeName => nameof(NullReferenceException);
    }

    public class InvalidCastException : SystemException
    {
        internal new const string DefaultText = "Specified cast is not valid.";
        public InvalidCastException() : base(DefaultText) { }
        public InvalidCastException(string? message) : base(message ?? DefaultText) { }
        internal override string TypeName => nameof(InvalidCastException);
    }

    public class ArrayTypeMismatchException : SystemException
    {
        internal new const string DefaultText = "Attempted to access an element as a type incompatible with the array.";
        public ArrayTypeMismatchException() : base(DefaultText) { }
        public ArrayTypeMismatchException(string? message) : base(message ?? DefaultText) { }
        internal override string TypeName => nameof(ArrayTypeMismatchException);
    }

    public class ArithmeticException : SystemException
    {
        internal new const string DefaultText = "Overflow or underflow in the arithmetic operation.";
        public ArithmeticException() : base(DefaultText) { }
        public ArithmeticException(string? message) : base(message ?? DefaultText) { }
        internal override string TypeName => nameof(ArithmeticException);
    }

    public class OverflowException : ArithmeticException
    {
        internal new const string DefaultText = "Arithmetic operation resulted in an overflow.";
        public OverflowException() : base(DefaultText) { }
        public OverflowException(string? message) : base(message ?? DefaultText) { }
        internal override string TypeName => nameof(OverflowException);
    }

    public class DivideByZeroException : ArithmeticException
    {
        internal new const string DefaultText = "Attempted to divide by zero.";
        public DivideByZeroException() : base(DefaultText) { }
        public DivideByZeroException(string? message) : base(message ?? DefaultText) { }
        internal override string TypeName => nameof(DivideByZeroException);
    }

    public class OutOfMemoryException : SystemException
    {
        internal new const string DefaultText = "Insufficient memory to continue the execution of the program.";
        public OutOfMemoryException() : base(DefaultText) { }
        public OutOfMemoryException(string? message) : base(message ?? DefaultText) { }
        internal override string TypeName => nameof(OutOfMemoryException);
    }

    public class FormatException : SystemException
    {
        internal new const string DefaultText = "One of the identified items was in an invalid format.";
        public FormatException() : base(DefaultText) { }
        public FormatException(string? message) : base(message ?? DefaultText) { }
        internal override string TypeName => nameof(FormatException);
    }

    public class TimeoutException : SystemException
    {
        internal new const string DefaultText = "The operation has timed out.";
        public TimeoutException() : base(DefaultText) { }
        public TimeoutException(string? message) : base(message ?? DefaultText) { }
        internal override string TypeName => nameof(TimeoutException);
    }
}
