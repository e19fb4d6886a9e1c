// Decoding of the error codes exceptions push. Pure logic, host-tested
// (tests/Tessera.Tests/Host/ExceptionErrorCodeTests.cs); the report prints
// the pieces, so nothing here allocates.
namespace Tessera.Core
{
    /// <summary>
    /// The #PF error code (Intel SDM Vol. 3A §4.7 "Page-Fault Exceptions", Figure 4-12):
    /// bit 0 P, 1 W/R, 2 U/S, 3 RSVD, 4 I/D, 5 PK, 6 SS, 15 SGX.
    /// </summary>
    public readonly struct PageFaultErrorCode
    {
        public readonly ulong Value;
        public PageFaultErrorCode(ulong value) { Value = value; }

        /// <summary>0: the page was not present; 1: a protection violation on a present page.</summary>
        public bool ProtectionViolation => (Value & 1) != 0;
        public bool Write => (Value & 2) != 0;
        public bool UserMode => (Value & 4) != 0;
        public bool ReservedBit => (Value & 8) != 0;
        public bool InstructionFetch => (Value & 16) != 0;
        public bool ProtectionKey => (Value & 32) != 0;
        public bool ShadowStack => (Value & 64) != 0;
        public bool Sgx => (Value & 0x8000) != 0;

        public string Mode => UserMode ? "user" : "supervisor";
        public string Access => InstructionFetch ? "instruction fetch" : Write ? "write" : "read";

        /// <summary>What the access hit, most specific reason first; reads after "read of " / "write of ".</summary>
        public string Cause =>
            ReservedBit ? "a page whose paging-structure entry has a reserved bit set"
            : ProtectionKey ? "a page its protection key forbids"
            : ShadowStack ? "a page the shadow-stack rules forbid"
            : Sgx ? "a page SGX access control forbids"
            : ProtectionViolation ? "a present page that does not allow it"
            : "a not-present page";
    }

    /// <summary>
    /// The selector error code of #TS, #NP, #SS and #GP (SDM Vol. 3A §6.13, Figure 6-6):
    /// bit 0 EXT (an external event caused it), bit 1 IDT, bit 2 TI (LDT when IDT is 0),
    /// bits 3-15 the descriptor index. An error code of 0 means no selector was involved
    /// (e.g. #GP for a non-canonical address).
    /// </summary>
    public readonly struct SelectorErrorCode
    {
        public readonly ulong Value;
        public SelectorErrorCode(ulong value) { Value = value; }

        public bool External => (Value & 1) != 0;
        public bool IdtEntry => (Value & 2) != 0;
        public bool Ldt => !IdtEntry && (Value & 4) != 0;
        public int Index => (int)((Value >> 3) & 0x1FFF);
        /// <summary>The selector as software writes it (index and TI; RPL is not reported).</summary>
        public ushort Selector => (ushort)(Value & 0xFFFC);
        public bool NamesSelector => (Value & 0xFFFF) != 0;

        public string Table => IdtEntry ? "IDT" : Ldt ? "LDT" : "GDT";
    }
}
