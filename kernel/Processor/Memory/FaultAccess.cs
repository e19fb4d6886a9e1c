// The kind of access that missed: from the #PF error code (W/R and I/D bits, Intel SDM Vol. 3A
// §4.7), or what a kernel copy of user memory needs. Pure: kernel and host tests.
namespace Tessera.Processor
{
    public enum FaultAccess : byte { Read, Write, Execute }
}
