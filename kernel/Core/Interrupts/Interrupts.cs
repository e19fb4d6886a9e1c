// Interrupt and exception dispatch. Every vector's stub (boot/interrupts.asm)
// saves an InterruptFrame and calls Dispatch:
//  - exceptions (0-31) go to the handlers registered for the vector, in the
//    order registered, until one returns true ("handled": it fixed the cause or
//    changed the frame so that resuming is right, e.g. the ExCache's page-fault
//    handler mapping the page). If none does, the exception is reported and the
//    kernel panics (ExceptionReport).
//  - device vectors go to the one InterruptHandler registered for the vector,
//    then the local APIC gets its end-of-interrupt.
//  - the APIC's spurious vector and the masked 8259's spurious IRQ 7/15 are
//    counted and dropped, with no EOI (Intel SDM Vol. 3A §11.9; 8259A datasheet).
using System.Runtime;
using Tessera.Drivers;

namespace Tessera.Core
{
    /// <summary>A device interrupt handler. Runs with interrupts off; the dispatcher sends the EOI after it returns.</summary>
    public abstract unsafe class InterruptHandler
    {
        public abstract void Handle(InterruptFrame* frame);
    }

    public static unsafe class Interrupts
    {
        /// <summary>Handlers one exception vector can have at once.</summary>
        public const int HandlersPerException = 4;

        private static nint[] s_exceptionHandlers = null!;      // [vector * HandlersPerException + i]
        private static InterruptHandler?[] s_handlers = null!;  // [vector]
        private static ulong[] s_counts = null!;                // [vector]
        private static int s_nextDynamicVector = InterruptVectors.DynamicFirst;
        private static SpinLock s_registry = null!;

        /// <summary>Interrupts counted and dropped as spurious (APIC spurious vector, 8259 IRQ 7/15).</summary>
        public static ulong SpuriousCount;
        /// <summary>Device vectors that arrived with no handler registered.</summary>
        public static ulong UnexpectedCount;

        /// <summary>
        /// Loads the kernel's GDT (with the TSS and its interrupt stacks) and the IDT. From here on
        /// every exception is reported instead of triple-faulting. Maskable interrupts stay off until
        /// InterruptControllers.Initialize.
        /// </summary>
        public static void Initialize()
        {
            s_exceptionHandlers = new nint[InterruptVectors.ExceptionCount * HandlersPerException];
            s_handlers = new InterruptHandler?[InterruptDescriptorTable.GateCount];
            s_counts = new ulong[InterruptDescriptorTable.GateCount];
            s_registry = new SpinLock("interrupt handlers");
            GlobalDescriptorTable.Install();
            InterruptDescriptorTable.Install();
        }

        /// <summary>
        /// Adds handler for exception vector (0-31). It runs with interrupts off on the stack that
        /// took the exception and returns true when it handled the exception (the frame is resumed,
        /// with whatever changes it made), false to pass it on to the next handler and finally to
        /// the panic report.
        /// </summary>
        public static void RegisterExceptionHandler(int vector, delegate*<InterruptFrame*, bool> handler)
        {
            if (vector < 0 || vector >= InterruptVectors.ExceptionCount) Panic.Halt("RegisterExceptionHandler: not an exception vector");
            InterruptState state = s_registry.Acquire();
            int free = -1;
            for (int i = HandlersPerException - 1; i >= 0; i--)
            {
                nint existing = s_exceptionHandlers[vector * HandlersPerException + i];
                if (existing == (nint)handler) { s_registry.Release(state); return; }
                if (existing == 0) free = i;
            }
            if (free < 0) { s_registry.Release(state); Panic.Halt("RegisterExceptionHandler: too many handlers for one vector"); }
            s_exceptionHandlers[vector * HandlersPerException + free] = (nint)handler;
            s_registry.Release(state);
        }

        /// <summary>Removes a handler added with RegisterExceptionHandler; false if it was not registered.</summary>
        public static bool UnregisterExceptionHandler(int vector, delegate*<InterruptFrame*, bool> handler)
        {
            if (vector < 0 || vector >= InterruptVectors.ExceptionCount) return false;
            InterruptState state = s_registry.Acquire();
            bool found = false;
            for (int i = 0; i < HandlersPerException; i++)
            {
                if (s_exceptionHandlers[vector * HandlersPerException + i] != (nint)handler) continue;
                s_exceptionHandlers[vector * HandlersPerException + i] = 0;
                found = true;
            }
            s_registry.Release(state);
            return found;
        }

        /// <summary>Sets the handler of a device vector (0x20-0xFE); null removes it.</summary>
        public static void RegisterHandler(int vector, InterruptHandler? handler)
        {
            if (vector < InterruptVectors.ExceptionCount || vector >= InterruptVectors.ApicSpurious) Panic.Halt("RegisterHandler: not a device vector");
            InterruptState state = s_registry.Acquire();
            s_handlers[vector] = handler;
            s_registry.Release(state);
        }

        /// <summary>Hands out an unused vector from 0x40-0xDF (for MSI/MSI-X and PCI INTx routing); -1 when all are taken.</summary>
        public static int AllocateVector()
        {
            InterruptState state = s_registry.Acquire();
            int vector = -1;
            if (s_nextDynamicVector <= InterruptVectors.DynamicLast) vector = s_nextDynamicVector++;
            s_registry.Release(state);
            return vector;
        }

        /// <summary>How many times vector was dispatched since boot.</summary>
        public static ulong Count(int vector) => s_counts is null ? 0 : s_counts[vector & 0xFF];

        [RuntimeExport("interrupt_dispatch")]
        private static void Dispatch(InterruptFrame* frame)
        {
            int vector = (int)(frame->Vector & 0xFF);
            if (s_counts is not null) s_counts[vector]++;

            if (vector < InterruptVectors.ExceptionCount)
            {
                if (s_exceptionHandlers is not null)
                {
                    for (int i = 0; i < HandlersPerException; i++)
                    {
                        nint handler = s_exceptionHandlers[vector * HandlersPerException + i];
                        if (handler != 0 && ((delegate*<InterruptFrame*, bool>)handler)(frame)) return;
                    }
                }
                ExceptionReport.Halt(frame);
                return;
            }

            if (vector == InterruptVectors.ApicSpurious) { SpuriousCount++; return; }

            if (vector >= InterruptVectors.LegacyPicBase && vector < InterruptVectors.LegacyPicBase + 16)
            {
                // The 8259s are masked, so only their spurious IRQ 7/15 should get here.
                if (Pic8259.AcknowledgeIfGenuine(vector - InterruptVectors.LegacyPicBase)) UnexpectedCount++;
                else SpuriousCount++;
                return;
            }

            InterruptHandler? device = s_handlers is null ? null : s_handlers[vector];
            if (device is not null) device.Handle(frame);
            else UnexpectedCount++;
            LocalApic.EndOfInterrupt();
        }
    }
}
