// Atomic read-modify-write on memory shared with interrupt handlers and other
// CPUs. The core library has no System.Threading.Interlocked; these are the
// LOCK-prefixed instructions in boot/atomic.asm. Every one is a full barrier.
using System.Runtime;
using System.Runtime.CompilerServices;

namespace Tessera.Core
{
    public static unsafe class Atomic
    {
        /// <summary>Stores value, returns what was there.</summary>
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("atomic_exchange32")] public static extern int Exchange(int* location, int value);
        /// <summary>Stores desired if the location holds expected; returns what was there either way.</summary>
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("atomic_compare_exchange32")] public static extern int CompareExchange(int* location, int expected, int desired);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("atomic_exchange64")] public static extern long Exchange(long* location, long value);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("atomic_compare_exchange64")] public static extern long CompareExchange(long* location, long expected, long desired);
        /// <summary>Adds addend, returns the value before the addition.</summary>
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("atomic_fetch_add64")] public static extern long FetchAdd(long* location, long addend);
        /// <summary>A load the compiler cannot cache: for polling what an interrupt or another CPU writes.</summary>
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("atomic_load32")] public static extern int Load(int* location);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("atomic_load64")] public static extern long Load(long* location);
    }
}
