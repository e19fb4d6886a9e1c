// Self-tests of the core library (kernel/Runtime) as compiled by ILC.
using System;
using System.Runtime.CompilerServices;

namespace Tessera.Core
{
    internal sealed class Point
    {
        public int X, Y;
        public Point(int x, int y) { X = x; Y = y; }
    }

    internal sealed class AllocationSelfTest : SelfTestCase
    {
        private static Point? s_kept;

        public override string Name => "runtime.allocation";

        public override unsafe string? Run()
        {
            var a = new Point(3, 4);
            var b = new Point(5, 6);
            if ((object)a == b) return "two objects share an address";
            if (a.X + a.Y + b.X + b.Y != 18) return "fields lost";

            int[] small = new int[10];
            for (int i = 0; i < small.Length; i++) if (small[i] != 0) return "new int[] not zeroed";
            for (int i = 0; i < small.Length; i++) small[i] = i * i;
            if (small[9] != 81 || small.Length != 10) return "int[] store or length wrong";

            // A large array, well past any small-object size class.
            byte[] large = new byte[256 * 1024];
            large[large.Length - 1] = 0xAB;
            if (large.Length != 256 * 1024 || large[large.Length - 1] != 0xAB || large[0] != 0) return "large array wrong";

            var points = new Point[4];
            for (int i = 0; i < points.Length; i++) points[i] = new Point(i, -i);
            if (points[3].Y != -3) return "reference array wrong";

            // Kept in a static so the JIT cannot allocate it on the stack (.NET 10 escape analysis).
            s_kept = new Point(1, 1);
            void* address = Internal.Runtime.CompilerServices.ObjectAddress.Of(s_kept);
            if (!Memory.KernelHeap.Owns(address) || Memory.KernelHeap.BlockSizeOf(address) < 24) return "object not on the kernel heap";
            return null;
        }
    }

    internal sealed class StringSelfTest : SelfTestCase
    {
        public override string Name => "runtime.strings";

        public override string? Run()
        {
            string hello = "hello";
            if (hello.Length != 5 || hello[1] != 'e') return "literal length or index wrong";
            string joined = hello + ", " + "kernel";
            if (joined != "hello, kernel") return "concat wrong";
            if (joined.Substring(7) != "kernel" || joined.Substring(0, 5) != hello) return "substring wrong";
            if (joined.IndexOf(',') != 5 || !joined.StartsWith("hello,")) return "search wrong";
            if ("abc".GetHashCode() != "abc".GetHashCode() || "abc".GetHashCode() == "abd".GetHashCode()) return "hash wrong";
            if ((object)joined == (object)"hello, kernel") return "runtime string aliased a literal";
            return null;
        }
    }

    internal static class StaticsHolder
    {
        // Reference-type statics need their static base allocated at start-up
        // (StartupCodeHelpers); value statics live in the image's data.
        public static readonly int[] Primes = { 2, 3, 5, 7, 11, 13 };
        public static Point? Origin = new Point(0, 0);
        public static int Counter = 40;
        public static string Greeting = "statics";
    }

    internal sealed class StaticsSelfTest : SelfTestCase
    {
        public override string Name => "runtime.statics";

        public override string? Run()
        {
            if (StaticsHolder.Primes.Length != 6 || StaticsHolder.Primes[5] != 13) return "static array initializer lost";
            if (StaticsHolder.Origin is null || StaticsHolder.Origin.X != 0) return "static object missing";
            StaticsHolder.Counter += 2;
            if (StaticsHolder.Counter != 42) return "static int not writable";
            StaticsHolder.Origin = new Point(7, 8);
            if (StaticsHolder.Origin.Y != 8) return "static reference not writable";
            if (StaticsHolder.Greeting != "statics") return "static string wrong";
            if (Internal.Runtime.CompilerHelpers.StartupCodeHelpers.ModulesInitialized < 1) return "no module initialised";
            return null;
        }
    }

    internal abstract class Shape
    {
        public abstract int Area();
        public virtual string Kind => "shape";
    }

    internal sealed class Square : Shape
    {
        private readonly int _side;
        public Square(int side) { _side = side; }
        public override int Area() => _side * _side;
        public override string Kind => "square";
    }

    internal sealed class Rectangle : Shape
    {
        private readonly int _w, _h;
        public Rectangle(int w, int h) { _w = w; _h = h; }
        public override int Area() => _w * _h;
    }

    internal class Triangle : Shape
    {
        protected readonly int Base, Height;
        public Triangle(int b, int h) { Base = b; Height = h; }
        public override int Area() => Base * Height / 2;
        public override string Kind => "triangle";
    }

    internal sealed class RightTriangle : Triangle
    {
        public RightTriangle(int b, int h) : base(b, h) { }
        public override string Kind => "right " + base.Kind;
    }

    internal sealed class VirtualCallSelfTest : SelfTestCase
    {
        public override string Name => "runtime.virtual-calls";

        public override string? Run()
        {
            Shape[] shapes = { new Square(3), new Rectangle(2, 5), new Triangle(4, 3), new RightTriangle(6, 2) };
            int total = 0;
            for (int i = 0; i < shapes.Length; i++) total += shapes[i].Area();
            if (total != 9 + 10 + 6 + 6) return "virtual Area() dispatched wrongly";
            if (shapes[0].Kind != "square" || shapes[1].Kind != "shape" || shapes[3].Kind != "right triangle")
                return "virtual property or base call wrong";
            return null;
        }
    }

    internal interface ICounter
    {
        int Next();
    }

    internal sealed class UpCounter : ICounter
    {
        private int _value;
        public int Next() => ++_value;
    }

    internal sealed class DownCounter : ICounter
    {
        private int _value = 100;
        public int Next() => --_value;
    }

    internal sealed class InterfaceCallSelfTest : SelfTestCase
    {
        public override string Name => "runtime.interface-calls";

        // Kept out of line so the call site sees only the interface. ILC still devirtualises
        // it (it sees both implementations and compares the type); calls that really go
        // through dispatch cells are runtime.interface-dispatch (InterfaceDispatchSelfTests.cs).
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int Drive(ICounter counter, int times)
        {
            int last = 0;
            for (int i = 0; i < times; i++) last = counter.Next();
            return last;
        }

        public override string? Run()
        {
            if (Drive(new UpCounter(), 5) != 5) return "UpCounter.Next wrong";
            if (Drive(new DownCounter(), 5) != 95) return "DownCounter.Next wrong";
            return null;
        }
    }

    internal sealed class CastSelfTest : SelfTestCase
    {
        public override string Name => "runtime.casts";

        public override string? Run()
        {
            object square = new Square(2);
            object point = new Point(1, 2);
            if (!(square is Shape) || square is Triangle) return "is with a class wrong";
            if (point is Shape) return "unrelated class matched";
            if (!(new RightTriangle(1, 1) is Triangle)) return "grandparent class not matched";
            if ((square as Shape)!.Area() != 4) return "as wrong";
            object counter = new UpCounter();
            if (!(counter is ICounter) || square is ICounter) return "is with an interface wrong";
            return null;
        }
    }

    internal sealed class SpanSelfTest : SelfTestCase
    {
        public override string Name => "runtime.spans";

        public override unsafe string? Run()
        {
            int[] data = { 1, 2, 3, 4, 5, 6 };
            Span<int> all = data;
            Span<int> middle = all.Slice(2, 3);
            if (middle.Length != 3 || middle[0] != 3 || middle[2] != 5) return "slice wrong";
            middle[1] = 40;
            if (data[3] != 40) return "span does not alias its array";

            Span<byte> stack = stackalloc byte[64];
            stack.Fill(0x5A);
            int sum = 0;
            for (int i = 0; i < stack.Length; i++) sum += stack[i];
            if (sum != 64 * 0x5A) return "stackalloc span wrong";

            ReadOnlySpan<char> chars = "kernel".AsSpan().Slice(1, 3);
            if (chars.Length != 3 || chars[0] != 'e' || chars[2] != 'n') return "string span wrong";

            Span<int> copy = new int[6];
            all.CopyTo(copy);
            if (copy[3] != 40 || copy[5] != 6) return "copy wrong";
            return null;
        }
    }
    /// <summary>
    /// Span.CopyTo is one memmove (kernel/Runtime/Memory.cs), which moves 32 bytes a round, then
    /// 8, then 1: every length up to 80 (all three stages and their edges), copied forward,
    /// backward into an overlapping range on either side at every distance up to 9, and
    /// disjoint, must give what a byte-at-a-time copy from a snapshot gives.
    /// </summary>
    internal sealed class MemmoveSelfTest : SelfTestCase
    {
        public override string Name => "runtime.memmove";

        public override string? Run()
        {
            const int Size = 128;
            var buffer = new byte[Size];
            var expected = new byte[Size];
            var snapshot = new byte[Size];
            for (int length = 0; length <= 80; length++)
            {
                for (int shift = -9; shift <= 9; shift++)
                {
                    const int from = 20;
                    int to = from + shift;
                    for (int i = 0; i < Size; i++) buffer[i] = snapshot[i] = expected[i] = (byte)(i * 7 + length);
                    for (int i = 0; i < length; i++) expected[to + i] = snapshot[from + i];
                    new ReadOnlySpan<byte>(buffer, from, length).CopyTo(new Span<byte>(buffer, to, length));
                    for (int i = 0; i < Size; i++) if (buffer[i] != expected[i]) return "overlapping copy wrong";
                }
                var other = new byte[Size];
                new Span<byte>(buffer, 3, length).CopyTo(new Span<byte>(other, 5, length));
                for (int i = 0; i < length; i++) if (other[5 + i] != buffer[3 + i]) return "disjoint copy wrong";
                if (other[4] != 0 || other[5 + length] != 0) return "copy wrote outside its range";
            }
            long[] wide = { 1, -2, 3, long.MinValue, 5 };
            var wideCopy = new long[5];
            new ReadOnlySpan<long>(wide).CopyTo(wideCopy);
            for (int i = 0; i < wide.Length; i++) if (wideCopy[i] != wide[i]) return "copy of 8-byte elements wrong";
            return null;
        }
    }
}
