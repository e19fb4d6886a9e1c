// The IDT: 256 gates, each to its stub in boot/interrupts.asm (Intel SDM Vol. 3A
// §6.10 "Interrupt Descriptor Table", §6.14.1 "64-Bit Mode IDT"). All are
// interrupt gates, so the processor clears IF on entry and a handler runs with
// interrupts off until it decides otherwise. #DF, NMI and #MC switch to their
// own IST stacks (GlobalDescriptorTable); everything else stays on the current
// stack, so a page-fault handler can itself take interrupts and faults.
using System.Runtime.InteropServices;
using System.Runtime;
using System.Runtime.CompilerServices;

namespace Tessera.Core
{
    public static unsafe class InterruptDescriptorTable
    {
        public const int GateCount = 256;

        [StructLayout(LayoutKind.Sequential)]
        private struct Storage { public fixed ulong Gates[GateCount * 2]; }

        private static Storage s_storage;
        private static ulong* s_gates;

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("interrupt_stub_address")]
        private static extern ulong StubAddress(int vector);

        public static void Install()
        {
            fixed (ulong* gates = s_storage.Gates) s_gates = gates;
            for (int vector = 0; vector < GateCount; vector++)
            {
                int ist = vector == InterruptVectors.DoubleFault ? GlobalDescriptorTable.DoubleFaultStack
                    : vector == InterruptVectors.Nmi ? GlobalDescriptorTable.NmiStack
                    : vector == InterruptVectors.MachineCheck ? GlobalDescriptorTable.MachineCheckStack
                    : 0;
                DescriptorEncoding.Gate(StubAddress(vector), GlobalDescriptorTable.KernelCode, ist, trap: false, privilegeLevel: 0,
                    out s_gates[vector * 2], out s_gates[vector * 2 + 1]);
            }
            byte* pointer = stackalloc byte[16];
            *(ushort*)pointer = GateCount * 16 - 1;
            *(ulong*)(pointer + 2) = (ulong)s_gates;
            Cpu.LoadIdt(pointer);
        }

        /// <summary>The IST index of gate vector.</summary>
        public static int GateStack(int vector) => (int)(s_gates[vector * 2] >> 32 & 7);
    }
}
