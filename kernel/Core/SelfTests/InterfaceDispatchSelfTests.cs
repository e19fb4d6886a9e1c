// Self-tests of interface dispatch through the resolver (kernel/Runtime/InterfaceDispatch.cs,
// boot/dispatch.asm). ILC devirtualises an interface call when it can see every
// implementation that reaches the call site (it guards up to a few types with compares),
// so these tests use five or more implementations, pick their order from the TSC at run
// time, and call through NoInlining methods. Each test also checks the resolver's own
// counter: the first round must take the slow path (so the calls really went through
// dispatch cells) and a second round with the same types must not (the cell caches hit).
using System;
using System.Runtime;
using System.Runtime.CompilerServices;

namespace Tessera.Core
{
    internal interface IChecksum
    {
        void Add(byte value);
        uint Value { get; }

        // A default interface method: implementations that do not define Feed use this one.
        uint Feed(byte[] data)
        {
            for (int i = 0; i < data.Length; i++) Add(data[i]);
            return Value;
        }
    }

    internal sealed class SumChecksum : IChecksum
    {
        private uint _sum;
        public void Add(byte value) => _sum += value;
        public uint Value => _sum;
    }

    internal sealed class XorChecksum : IChecksum
    {
        private uint _xor;
        public void Add(byte value) => _xor ^= value;
        public uint Value => _xor;
    }

    // Fletcher-16 (RFC 1146): two running sums modulo 255.
    internal sealed class Fletcher16Checksum : IChecksum
    {
        private uint _a, _b;
        public void Add(byte value) { _a = (_a + value) % 255; _b = (_b + _a) % 255; }
        public uint Value => (_b << 8) | _a;
    }

    // Adler-32 (RFC 1950 §8), which also overrides the default Feed.
    internal sealed class Adler32Checksum : IChecksum
    {
        private uint _a = 1, _b;
        public void Add(byte value) { _a = (_a + value) % 65521; _b = (_b + _a) % 65521; }
        public uint Value => (_b << 16) | _a;
        public uint Feed(byte[] data)
        {
            for (int i = 0; i < data.Length; i++) Add(data[i]);
            return Value;
        }
    }

    // Implements the interface in an abstract base: Value is a non-virtual (sealed-slot)
    // method of the base, Add a virtual the derived class overrides.
    internal abstract class HashChecksumBase : IChecksum
    {
        protected uint State;
        public abstract void Add(byte value);
        public uint Value => State;
    }

    // FNV-1a, 32-bit (offset basis 2166136261, prime 16777619).
    internal sealed class Fnv1aChecksum : HashChecksumBase
    {
        public Fnv1aChecksum() { State = 2166136261; }
        public override void Add(byte value) => State = (State ^ value) * 16777619;
    }

    internal sealed class InterfaceDispatchSelfTest : SelfTestCase
    {
        public override string Name => "runtime.interface-dispatch";

        private const int Kinds = 5;
        // Over the bytes 1..10 (python3: sum, xor, fletcher16, zlib.adler32, fnv1a32).
        private static readonly uint[] s_expected = { 55, 11, 0xDC37, 0x00E60038, 0xE42B53B2 };

        private static IChecksum Make(int kind) => kind switch
        {
            0 => new SumChecksum(),
            1 => new XorChecksum(),
            2 => new Fletcher16Checksum(),
            3 => new Adler32Checksum(),
            _ => new Fnv1aChecksum(),
        };

        private delegate void ByteSink(byte value);

        // The call sites under test: every call here goes through a dispatch cell. Each
        // object is driven one of three ways (mode = index % 3): the Feed method (the
        // default implementation or Adler-32's own), Add and Value directly, or Add through
        // a delegate bound to the interface method (resolved once, when it is created).
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void FeedEach(IChecksum[] sums, byte[] data, uint[] results)
        {
            for (int i = 0; i < sums.Length; i++)
            {
                int mode = i % 3;
                if (mode == 0) results[i] = sums[i].Feed(data);
                else if (mode == 1) { for (int j = 0; j < data.Length; j++) sums[i].Add(data[j]); results[i] = sums[i].Value; }
                else
                {
                    ByteSink sink = sums[i].Add;
                    for (int j = 0; j < data.Length; j++) sink(data[j]);
                    results[i] = sums[i].Value;
                }
            }
        }

        private static string? Round(int start, byte[] data)
        {
            // 15 objects: with kind = (start + i) % 5 and mode = i % 3, every kind meets every mode.
            var sums = new IChecksum[3 * Kinds];
            var kinds = new int[sums.Length];
            for (int i = 0; i < sums.Length; i++) { kinds[i] = (start + i) % Kinds; sums[i] = Make(kinds[i]); }
            var results = new uint[sums.Length];
            FeedEach(sums, data, results);
            for (int i = 0; i < sums.Length; i++)
                if (results[i] != s_expected[kinds[i]]) return "wrong implementation reached";
            return null;
        }

        public override string? Run()
        {
            byte[] data = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
            // The order of the implementations is only known at run time.
            int start = (int)(Cpu.ReadTimestampCounter() % Kinds);

            ulong before = InterfaceDispatch.SlowResolutions;
            string? failure = Round(start, data);
            if (failure != null) return failure;
            ulong firstRound = InterfaceDispatch.SlowResolutions - before;
            if (firstRound < Kinds) return "calls did not go through the dispatch resolver";

            before = InterfaceDispatch.SlowResolutions;
            failure = Round(start + 2, data);
            if (failure != null) return failure;
            if (InterfaceDispatch.SlowResolutions != before) return "resolved call sites missed their cache";
            return null;
        }
    }

    internal interface ISource<T>
    {
        T Next();
    }

    internal sealed class CountingSource : ISource<int> { private int _n; public int Next() => ++_n; }
    internal sealed class EvenSource : ISource<int> { private int _n; public int Next() => _n += 2; }
    internal sealed class SquareSource : ISource<int> { private int _n; public int Next() { _n++; return _n * _n; } }
    internal sealed class ConstantSource : ISource<int> { public int Next() => 7; }
    internal sealed class CountdownSource : ISource<int> { private int _n = 100; public int Next() => --_n; }

    // Two instantiations of one generic interface on one type: dispatch must tell them apart.
    internal sealed class WideSource : ISource<int>, ISource<long>
    {
        int ISource<int>.Next() => 1000;
        long ISource<long>.Next() => 1L << 40;
    }

    internal sealed class GenericInterfaceDispatchSelfTest : SelfTestCase
    {
        public override string Name => "runtime.generic-interface-dispatch";

        private const int Kinds = 6;
        // Sum of three Next() calls per implementation, in Make's order.
        private static readonly int[] s_expected = { 1 + 2 + 3, 2 + 4 + 6, 1 + 4 + 9, 21, 99 + 98 + 97, 3000 };

        private static ISource<int> Make(int kind) => kind switch
        {
            0 => new CountingSource(),
            1 => new EvenSource(),
            2 => new SquareSource(),
            3 => new ConstantSource(),
            4 => new CountdownSource(),
            _ => new WideSource(),
        };

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int SumOfThree(ISource<int> source) => source.Next() + source.Next() + source.Next();

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static long NextLong(object source) => source is ISource<long> wide ? wide.Next() : -1;

        public override string? Run()
        {
            int start = (int)(Cpu.ReadTimestampCounter() % Kinds);
            ulong before = InterfaceDispatch.SlowResolutions;
            for (int i = 0; i < Kinds; i++)
            {
                int kind = (start + i) % Kinds;
                ISource<int> source = Make(kind);
                if (SumOfThree(source) != s_expected[kind]) return "ISource<int> reached the wrong implementation";
                if (NextLong(source) != (kind == 5 ? 1L << 40 : -1)) return "ISource<long> confused with ISource<int>";
            }
            if (InterfaceDispatch.SlowResolutions - before < 5) return "calls did not go through the dispatch resolver";
            return null;
        }
    }
}
