// Self-tests of what every image shares: the runtime (allocation, strings,
// statics, virtual and interface calls, casts, spans), the boot information, memory,
// interrupts and time, PCI, RPC and the kernel heap.
namespace Tessera.Core
{
    public static class CoreSelfTests
    {
        public static void RunAll()
        {
            SelfTest.Run(new AllocationSelfTest());
            SelfTest.Run(new StringSelfTest());
            SelfTest.Run(new StaticsSelfTest());
            SelfTest.Run(new VirtualCallSelfTest());
            SelfTest.Run(new InterfaceCallSelfTest());
            SelfTest.Run(new InterfaceDispatchSelfTest());
            SelfTest.Run(new GenericInterfaceDispatchSelfTest());
            SelfTest.Run(new CastSelfTest());
            SelfTest.Run(new SpanSelfTest());
            SelfTest.Run(new MemmoveSelfTest());
            SelfTest.Run(new BootInfoSelfTest());
            SelfTest.Run(new CommandLineSelfTest());
            SelfTest.Run(new ClockSelfTest());
            SelfTest.Run(new BreakpointHandlerSelfTest());
            SelfTest.Run(new DivideErrorHandlerSelfTest());
            SelfTest.Run(new PageFaultHandlerSelfTest());
            SelfTest.Run(new NmiStackSelfTest());
            SelfTest.Run(new SelfIpiSelfTest());
            SelfTest.Run(new IoApicSelfTest());
            SelfTest.Run(new SpinLockSelfTest());
            SelfTest.Run(new MonotonicClockSelfTest());
            SelfTest.Run(new ApicTimerPeriodicSelfTest());
            SelfTest.Run(new ApicTimerOneShotSelfTest());
            SelfTest.Run(new TimerCallbacksSelfTest());
            SelfTest.Run(new SleepSelfTest());
            SelfTest.Run(new FrameAllocatorSelfTest());
            SelfTest.Run(new KernelLayoutSelfTest());
            SelfTest.Run(new DirectMapSelfTest());
            SelfTest.Run(new AddressSpaceSelfTest());
            SelfTest.Run(new KernelStacksSelfTest());
            SelfTest.Run(new PciEnumerationSelfTest());
            SelfTest.Run(new PciBarSelfTest());
            SelfTest.Run(new PciMsiXSelfTest());
            SelfTest.Run(new RpcSelfTest());
            SelfTest.Run(new HeapReuseSelfTest());
            SelfTest.Run(new HeapLargeBlockSelfTest());
            SelfTest.Run(new HeapObjectFreeSelfTest());
            SelfTest.Run(new HeapPoisoningSelfTest());
        }
    }
}
