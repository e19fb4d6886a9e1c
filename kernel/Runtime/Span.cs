// Span<T> and ReadOnlySpan<T>: a reference and a length, bounds-checked on every index;
// CopyTo is one memmove (kernel/Runtime/Memory.cs).
using System.Runtime.CompilerServices;

namespace System
{
    public readonly ref struct Span<T>
    {
        private readonly ref T _reference;
        private readonly int _length;

        public Span(T[]? array)
        {
            if (array is null) { this = default; return; }
            _reference = ref Unsafe.As<byte, T>(ref Unsafe.As<RawArrayData>(array).Data);
            _length = array.Length;
        }

        public Span(T[] array, int start, int length)
        {
            if ((uint)start > (uint)array.Length || (uint)length > (uint)(array.Length - start))
                Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowArgumentOutOfRangeException();
            _reference = ref Unsafe.Add(ref Unsafe.As<byte, T>(ref Unsafe.As<RawArrayData>(array).Data), start);
            _length = length;
        }

        public unsafe Span(void* pointer, int length)
        {
            if (length < 0) Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowArgumentOutOfRangeException();
            _reference = ref Unsafe.AsRef<T>(pointer);
            _length = length;
        }

        internal Span(ref T reference, int length) { _reference = ref reference; _length = length; }

        public int Length => _length;
        public bool IsEmpty => _length == 0;

        public ref T this[int index]
        {
            get
            {
                if ((uint)index >= (uint)_length) Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowIndexOutOfRangeException();
                return ref Unsafe.Add(ref _reference, index);
            }
        }

        public Span<T> Slice(int start)
        {
            if ((uint)start > (uint)_length) Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowArgumentOutOfRangeException();
            return new Span<T>(ref Unsafe.Add(ref _reference, start), _length - start);
        }

        public Span<T> Slice(int start, int length)
        {
            if ((uint)start > (uint)_length || (uint)length > (uint)(_length - start))
                Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowArgumentOutOfRangeException();
            return new Span<T>(ref Unsafe.Add(ref _reference, start), length);
        }

        public void Fill(T value) { for (int i = 0; i < _length; i++) Unsafe.Add(ref _reference, i) = value; }
        public void Clear() { for (int i = 0; i < _length; i++) Unsafe.Add(ref _reference, i) = default!; }

        /// <summary>Copies into destination (which may overlap): one memmove, since without a GC
        /// even references copy as plain bytes (see Buffer.BulkMoveWithWriteBarrier).</summary>
        public void CopyTo(Span<T> destination)
        {
            if ((uint)_length > (uint)destination.Length) Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowArgumentException();
            SpanHelpers.Memmove(ref Unsafe.As<T, byte>(ref destination.GetPinnableReference()), ref Unsafe.As<T, byte>(ref _reference),
                (nuint)_length * (nuint)Unsafe.SizeOf<T>());
        }

        public ref T GetPinnableReference() => ref _reference;

        public static implicit operator Span<T>(T[]? array) => new Span<T>(array);
        public static implicit operator ReadOnlySpan<T>(Span<T> span) => new ReadOnlySpan<T>(ref span._reference, span._length);
    }

    public readonly ref struct ReadOnlySpan<T>
    {
        private readonly ref T _reference;
        private readonly int _length;

        public ReadOnlySpan(T[]? array)
        {
            if (array is null) { this = default; return; }
            _reference = ref Unsafe.As<byte, T>(ref Unsafe.As<RawArrayData>(array).Data);
            _length = array.Length;
        }

        public ReadOnlySpan(T[] array, int start, int length)
        {
            if ((uint)start > (uint)array.Length || (uint)length > (uint)(array.Length - start))
                Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowArgumentOutOfRangeException();
            _reference = ref Unsafe.Add(ref Unsafe.As<byte, T>(ref Unsafe.As<RawArrayData>(array).Data), start);
            _length = length;
        }

        public unsafe ReadOnlySpan(void* pointer, int length)
        {
            if (length < 0) Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowArgumentOutOfRangeException();
            _reference = ref Unsafe.AsRef<T>(pointer);
            _length = length;
        }

        internal ReadOnlySpan(ref T reference, int length) { _reference = ref reference; _length = length; }

        public int Length => _length;
        public bool IsEmpty => _length == 0;

        public ref readonly T this[int index]
        {
            get
            {
                if ((uint)index >= (uint)_length) Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowIndexOutOfRangeException();
                return ref Unsafe.Add(ref _reference, index);
            }
        }

        public ReadOnlySpan<T> Slice(int start)
        {
            if ((uint)start > (uint)_length) Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowArgumentOutOfRangeException();
            return new ReadOnlySpan<T>(ref Unsafe.Add(ref _reference, start), _length - start);
        }

        public ReadOnlySpan<T> Slice(int start, int length)
        {
            if ((uint)start > (uint)_length || (uint)length > (uint)(_length - start))
                Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowArgumentOutOfRangeException();
            return new ReadOnlySpan<T>(ref Unsafe.Add(ref _reference, start), length);
        }

        /// <summary>Copies into destination (which may overlap): one memmove, since without a GC
        /// even references copy as plain bytes (see Buffer.BulkMoveWithWriteBarrier).</summary>
        public void CopyTo(Span<T> destination)
        {
            if ((uint)_length > (uint)destination.Length) Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowArgumentException();
            SpanHelpers.Memmove(ref Unsafe.As<T, byte>(ref destination.GetPinnableReference()), ref Unsafe.As<T, byte>(ref Unsafe.AsRef(in _reference)),
                (nuint)_length * (nuint)Unsafe.SizeOf<T>());
        }

        public ref readonly T GetPinnableReference() => ref _reference;

        public static implicit operator ReadOnlySpan<T>(T[]? array) => new ReadOnlySpan<T>(array);
    }

    // Overlays an array to reach its first element: [MethodTable* | length | padding | data].
    internal sealed class RawArrayData
    {
#pragma warning disable CS0649
        public uint Length;
        public uint Padding;
        public byte Data;
#pragma warning restore CS0649
    }
}
