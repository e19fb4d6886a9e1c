// The life of one ExCache line (docs/excache.md has the diagram):
//
//   Invalid --OnMiss (free way)--------------------------------> Filling
//   Clean/Dirty --OnMiss (chosen victim)--> Evicting --OnVictimUnmapped--> Filling
//   Filling --OnFillComplete--> Clean (read miss) or Dirty (write miss)
//   Filling --OnFillFailed--> Invalid
//   Clean --MarkDirty (write fault or PTE dirty bit)--> Dirty
//   Dirty --BeginWriteBack--> WritingBack --OnWriteBackComplete--> Clean
//   Clean/Dirty --InvalidateRange/InvalidateAddressSpace--> Invalid
//
// Filling, Evicting and WritingBack are "in flight": the line is never chosen as a victim,
// and a fault on a page it holds (or is about to hold, or is writing back) waits.
namespace Tessera.Processor.Cache
{
    public enum LineState : byte
    {
        /// <summary>Free: holds no page.</summary>
        Invalid,
        /// <summary>Allocated to a page whose contents are being fetched or zeroed (a miss in flight);
        /// may also carry the write-back of the victim it replaced.</summary>
        Filling,
        /// <summary>Mapped; its contents equal the memory component's copy (or zeros of a fresh page).</summary>
        Clean,
        /// <summary>Mapped; written since it was filled or last written back.</summary>
        Dirty,
        /// <summary>Still mapped (read-only), its data on its way to the memory component; stays resident.</summary>
        WritingBack,
        /// <summary>Chosen as a victim; the caller is unmapping the old page and flushing its TLB entry.</summary>
        Evicting,
    }

    /// <summary>What Find says about a page.</summary>
    public enum LineLookup : byte
    {
        /// <summary>No line holds the page.</summary>
        NotCached,
        /// <summary>A Clean or Dirty line holds it (it should be mapped).</summary>
        Resident,
        /// <summary>A line is filling it, writing it back or evicting it: wait for that to finish.</summary>
        InFlight,
    }
}
