// User memory through the ExCache (docs/processor.md, docs/excache.md): the fault handler's
// side of the cache - everything ExCache.cs leaves to its caller: page tables, TLB, the
// lines' bytes and the RPCs to the memory component.
//
// A miss (Fault), in the order MissPlan.cs prescribes:
//   1. LRU only: sample the accessed bits of the set's lines when the set is full, so the
//      victim is the line least recently used as far as the page tables tell (clearing A and
//      invalidating the TLB entry, so the CPU sets it again on the next use).
//   2. OnMiss picks a line: a free way, or a victim by the policy.
//   3. A victim is unmapped from its owner's page table (INVLPG when that table is live); the
//      old PTE's dirty bit decides, with what the cache knew, whether it is written back.
//   4. Fetch: one PCACHE_MISS, with the dirty victim's page attached (copied out of the line
//      into the request before the reply overwrites the line). Zero-fill (a fresh page): the
//      dirty victim, if any, goes alone in a PCACHE_FLUSH, then the line is zeroed: no miss RPC.
//   5. The page is mapped user, writable only with PROT_WRITE and executable only with
//      PROT_EXEC as the miss reply says (fresh pages are read-write, no-execute). Write faults
//      on a present page are therefore always protection violations (SIGSEGV), and dirtiness
//      comes from the PTE's dirty bit, read when the line is unmapped.
//   6. The fault-to-mapped time goes into the miss-latency histogram.
// Kernel copies of user memory (UserAccess) read and write lines through the direct map,
// where the CPU sets no dirty bit: KernelAccess tells the cache instead.
//
// Address-space calls go to the process's memory component first; what changes locally
// follows its answer: mmap/brk/mremap announce fresh ranges and drop stale lines, munmap and
// brk shrinking drop lines without write-back (the memory is freed), mremap and
// madvise(MADV_DONTNEED) write dirty lines back and drop them (the data stays with the memory
// component), mprotect re-protects the cached pages in place (PROT_NONE: written back and
// dropped). Exit drops every line and tells the memory component.
//
// Forward progress. Every page one instruction touches must be mapped at once for it to
// complete: its code, its stack, its source and destination (up to two pages each when they
// straddle a page boundary). When more of them fall into one set than it has ways - with
// excache_ways=1, just a code page and a data page with the same set index - each fill evicts
// another of them and the instruction faults forever. So a page that faults a second time at
// the same instruction, with no fault elsewhere in between (Process.RepeatsInStreak), goes to
// the overflow set instead: OverflowLines more lines, fully associative, LRU, outside the
// configured geometry. Both caches follow the same rules (fresh pages, write-backs, range
// operations); a page is only ever in one of them, and the fresh records are kept identical.
//
// One CPU, one thread per process: nothing is in flight between two calls into the cache, so
// MissAction.Wait and NoLine (which need another miss or a pin in progress) cannot happen.
using System;
using Tessera.Core;
using Tessera.Core.Memory;
using Tessera.Processor.Cache;
using Tessera.Processor.Syscalls;

namespace Tessera.Processor
{
    public sealed unsafe class ExCacheMemory : UserPager
    {
        public const int ProtRead = 1, ProtWrite = 2, ProtExec = 4;
        public const int MadviseDontNeed = 4;
        private const int MapAnonymous = 0x20;
        private const int LineBytes = (int)ExCacheGeometry.LineSize;

        /// <summary>Lines of the overflow set (forward progress, see the header).</summary>
        public const int OverflowLines = 16;

        /// <summary>The ExCache as configured (excache=, excache_ways=, excache_policy=).</summary>
        public readonly ExCache Cache;
        /// <summary>The overflow set: one fully associative LRU set of OverflowLines lines; null without one.</summary>
        public readonly ExCache? Overflow;
        private readonly Process?[] _owners;

        /// <summary>Dirty pages that could not be written back (the memory component did not take them): data lost.</summary>
        public ulong LostWriteBacks;

        public ExCacheMemory(ExCache cache, ExCache? overflow)
        {
            Cache = cache;
            Overflow = overflow;
            int ids = overflow is null || overflow.MaxAddressSpaces >= cache.MaxAddressSpaces ? cache.MaxAddressSpaces : overflow.MaxAddressSpaces;
            _owners = new Process?[ids];
        }

        /// <summary>The other cache of the pair (null without an overflow set).</summary>
        private ExCache? Other(ExCache cache) => Overflow is null ? null : cache == Cache ? Overflow : Cache;

        /// <summary>Forgets page of asid as fresh in both caches: its data has left the processor.</summary>
        private void NotFresh(int asid, ulong page)
        {
            Cache.FreshOf(asid)?.Remove(page, 1);
            Overflow?.FreshOf(asid)?.Remove(page, 1);
        }

        /// <summary>Zeroes the counters of both caches (at program start, so the summary is the program's own).</summary>
        public void ClearCounters()
        {
            Cache.Counters.Clear();
            Overflow?.Counters.Clear();
        }

        /// <summary>The cache's summary; then the overflow set's counters, when it was used.</summary>
        public void WriteSummary(AsciiText text)
        {
            Cache.WriteSummary(text);
            if (Overflow is null || Overflow.Counters.Misses == 0) return;
            text.Append("excache overflow: ").Append(Overflow.Geometry.Lines)
                .Append(" lines for instructions whose pages conflict in a set\n");
            Overflow.Counters.WriteTo(text, "excache overflow: ");
        }

        /// <summary>Gives p an address-space id in the cache; false when all are taken.</summary>
        public bool Attach(Process p)
        {
            for (int i = 0; i < _owners.Length; i++)
            {
                if (_owners[i] is not null) continue;
                _owners[i] = p;
                p.Asid = i;
                return true;
            }
            return false;
        }

        /// <summary>Pages the memory component declared fresh (EXECVE's ranges): zero-filled here on a miss.</summary>
        public void AnnounceFresh(Process p, ulong firstPage, ulong pageCount)
        {
            if (pageCount == 0) return;
            Cache.AnnounceFresh(p.Asid, firstPage, pageCount);
            Overflow?.AnnounceFresh(p.Asid, firstPage, pageCount);
        }

        // ---------------- misses ----------------

        public override int Fault(Process p, ulong address, FaultAccess access, ulong ip)
        {
            ulong page = address >> 12;
            bool repeated = ip != 0 && p.RepeatsInStreak(ip, page);
            return Fill(repeated && Overflow is not null ? Overflow : Cache, p, address, access);
        }

        private int Fill(ExCache cache, Process p, ulong address, FaultAccess access)
        {
            ulong started = Clock.Ticks;
            ulong page = address >> 12;
            if (cache.Policy == ReplacementPolicy.Lru) SampleSet(cache, cache.SetOf(p.Asid, page));
            MissPlan plan = cache.OnMiss(p.Asid, page, access == FaultAccess.Write);
            if (plan.Action == MissAction.Resident)
            {
                // The line holds the page; a present PTE means a stale TLB entry, now gone.
                if (p.Space.Query(address, out _)) return 0;
                Log.Error("excache: a resident line without its page-table entry");
                return -Errno.EIO;
            }
            if (plan.Action != MissAction.Fill)
            {
                Log.Error("excache: no line to fill (every way in flight or pinned)");
                return -Errno.EIO;
            }

            Process? victimOwner = null;
            if (plan.HasVictim)
            {
                victimOwner = plan.VictimAsid >= 0 && plan.VictimAsid < _owners.Length ? _owners[plan.VictimAsid] : null;
                ulong old = victimOwner is null ? 0 : victimOwner.Space.Unmap(plan.VictimPage << 12);
                cache.OnVictimUnmapped(ref plan, PageFlags.IsDirty(old));
                if (plan.WriteBackVictim) NotFresh(plan.VictimAsid, plan.VictimPage);
            }

            byte* line = DirectMap.ToVirtual(plan.LineAddress);
            var bytes = new Span<byte>(line, LineBytes);
            bool writeBackAlone = plan.WriteBackVictim &&
                (plan.Source == FillSource.ZeroFill || victimOwner is null || victimOwner.Memory != p.Memory);
            if (writeBackAlone) WriteBack(victimOwner, plan.VictimPage, bytes);

            bool zeroReply = false;
            int protection;
            if (plan.Source == FillSource.Fetch)
            {
                bool combined = plan.WriteBackVictim && !writeBackAlone;
                int status = p.Memory!.Miss((uint)p.Pid, page << 12, access, combined, combined ? (uint)victimOwner!.Pid : 0,
                    plan.VictimPage << 12, bytes, bytes, out zeroReply, out protection);
                if (status != 0)
                {
                    // An error reply still stored an attached victim (MemoryProtocol.cs); a lost
                    // message may not have: the process ends either way.
                    if (combined && status == Tessera.Core.Rpc.RpcStatus.ETIMEDOUT) LostWriteBacks++;
                    cache.OnFillFailed(plan.Line);
                    return status;
                }
                if (zeroReply) new Span<ulong>(line, 512).Clear();
            }
            else
            {
                new Span<ulong>(line, 512).Clear();
                protection = ProtRead | ProtWrite;
            }

            if (cache.OnFillComplete(plan.Line, zeroReply))
            {
                MapResult mapped = p.Space.Map(page << 12, plan.LineAddress, PageFlagsFor(protection));
                if (mapped != MapResult.Mapped)
                {
                    // No frame for a page table: give the line back (nothing written to it yet).
                    cache.InvalidateRange(p.Asid, page, 1);
                    return -Errno.ENOMEM;
                }
            }
            cache.RecordMissLatency(Clock.TicksToNanoseconds(Clock.Ticks - started));
            return 0;
        }

        /// <summary>
        /// PTE flags for an area's protection: user, writable only with PROT_WRITE, no-execute
        /// without PROT_EXEC (x86 cannot express write-only or execute-only: any present page is
        /// readable). 0 means the memory component did not say; the page is then mapped
        /// read-write-execute, having passed its access check.
        /// </summary>
        public static ulong PageFlagsFor(int protection)
        {
            if (protection == 0) return PageFlags.User | PageFlags.Writable;
            ulong flags = PageFlags.User;
            if ((protection & ProtWrite) != 0) flags |= PageFlags.Writable;
            if ((protection & ProtExec) == 0) flags |= PageFlags.NoExecute;
            return flags;
        }

        /// <summary>LRU: before a full set picks its victim, harvest its pages' accessed bits.</summary>
        private void SampleSet(ExCache cache, int set)
        {
            int first = cache.FirstLineOfSet(set);
            int ways = cache.Geometry.Ways;
            for (int w = 0; w < ways; w++)
                if (cache.StateOf(first + w) == LineState.Invalid) return;     // a free way: no victim
            for (int w = 0; w < ways; w++)
            {
                int line = first + w;
                LineState state = cache.StateOf(line);
                if (state != LineState.Clean && state != LineState.Dirty) continue;
                int asid = cache.OwnerOf(line);
                Process? owner = asid >= 0 && asid < _owners.Length ? _owners[asid] : null;
                if (owner is null) continue;
                ulong va = cache.PageOf(line) << 12;
                if (!PageFlags.IsAccessed(owner.Space.Table.EntryOf(va))) continue;
                owner.Space.ClearAccessedDirty(va, PageFlags.Accessed);
                cache.ObserveAccessed(line);
            }
        }

        private void WriteBack(Process? owner, ulong page, ReadOnlySpan<byte> data)
        {
            int status = owner is null || owner.Memory is null ? -Errno.ESRCH : owner.Memory.Flush((uint)owner.Pid, page << 12, data);
            if (status == 0) return;
            LostWriteBacks++;
            if (Log.Begin(LogLevel.Error))
            {
                Console.Write("excache: write-back of page ");
                Console.WriteHex(page << 12);
                Console.Write(" failed (");
                Console.WriteDecimal((long)status);
                Console.WriteLine("): its data is lost");
            }
        }

        public override void KernelAccess(Process p, ulong address, ulong physical, bool write)
        {
            ExCache cache = Cache;
            if (!cache.TryLineOfAddress(physical, out int line))
            {
                if (Overflow is null || !Overflow.TryLineOfAddress(physical, out line)) return;
                cache = Overflow;
            }
            cache.ObserveAccessed(line);
            if (write) cache.MarkDirty(line);
        }

        // ---------------- ranges ----------------

        /// <summary>
        /// Unmaps the cached pages of [firstPage, firstPage + pageCount) and frees their lines;
        /// with writeBack, dirty ones are written to the memory component first.
        /// </summary>
        private void DropRange(Process p, ulong firstPage, ulong pageCount, bool writeBack)
        {
            if (pageCount == 0) return;
            DropRange(Cache, p, firstPage, pageCount, writeBack);
            if (Overflow is not null) DropRange(Overflow, p, firstPage, pageCount, writeBack);
        }

        private void DropRange(ExCache cache, Process p, ulong firstPage, ulong pageCount, bool writeBack)
        {
            RangeWalk walk = cache.WalkRange(p.Asid, firstPage, pageCount);
            while (cache.Next(ref walk, out int line))
            {
                if (!OwnResident(cache, p, line, firstPage, pageCount, out ulong page)) continue;
                ulong old = p.Space.Unmap(page << 12);
                if (!writeBack) continue;
                if (PageFlags.IsDirty(old)) cache.MarkDirty(line);
                if (cache.StateOf(line) != LineState.Dirty || !cache.BeginWriteBack(line)) continue;
                NotFresh(p.Asid, page);
                WriteBack(p, page, new ReadOnlySpan<byte>(DirectMap.ToVirtual(cache.LineAddress(line)), LineBytes));
                cache.OnWriteBackComplete(line);
            }
            cache.InvalidateRange(p.Asid, firstPage, pageCount);
        }

        private static bool OwnResident(ExCache cache, Process p, int line, ulong firstPage, ulong pageCount, out ulong page)
        {
            page = cache.PageOf(line);
            LineState state = cache.StateOf(line);
            return cache.OwnerOf(line) == p.Asid && page >= firstPage && page - firstPage < pageCount &&
                (state == LineState.Clean || state == LineState.Dirty);
        }

        private static ulong Pages(ulong length) => (length + 4095) >> 12;

        // ---------------- address-space calls ----------------

        public override long Brk(Process p, ulong address)
        {
            ulong old = p.Brk;
            long result = p.Memory!.Brk((uint)p.Pid, address, out bool fresh);
            if (Errno.IsError(result)) return result;
            ulong now = (ulong)result;
            ulong oldEnd = Pages(old), newEnd = Pages(now);
            if (newEnd < oldEnd) DropRange(p, newEnd, oldEnd - newEnd, writeBack: false);
            else if (newEnd > oldEnd && fresh) AnnounceFresh(p, oldEnd, newEnd - oldEnd);
            p.Brk = now;
            return result;
        }

        public override long Mmap(Process p, ulong address, ulong length, int prot, int flags, int fd, ulong offset)
        {
            // Files come with the storage component: the console descriptors cannot be mapped,
            // and no other descriptor exists.
            if ((flags & MapAnonymous) == 0) return fd >= 0 && fd <= 2 ? -Errno.ENODEV : -Errno.EBADF;
            long result = p.Memory!.Mmap((uint)p.Pid, address, length, prot, flags, fd, offset, out bool fresh);
            if (Errno.IsError(result)) return result;
            ulong first = (ulong)result >> 12, count = Pages(length);
            // MAP_FIXED may have replaced pages this cache still holds.
            DropRange(p, first, count, writeBack: false);
            if (fresh) AnnounceFresh(p, first, count);
            return result;
        }

        public override long Munmap(Process p, ulong address, ulong length)
        {
            long result = p.Memory!.Munmap((uint)p.Pid, address, length);
            if (result != 0) return result;
            DropRange(p, address >> 12, Pages(length), writeBack: false);
            p.Space.FreeEmptyTables(address & ~4095UL, (address & ~4095UL) + (Pages(length) << 12));
            return 0;
        }

        public override long Mprotect(Process p, ulong address, ulong length, int prot)
        {
            long result = p.Memory!.Mprotect((uint)p.Pid, address, length, prot);
            if (result != 0) return result;
            ulong first = address >> 12, count = Pages(length);
            if ((prot & (ProtRead | ProtWrite | ProtExec)) == 0)
            {
                DropRange(p, first, count, writeBack: true);
                return 0;
            }
            ulong flags = PageFlagsFor(prot & (ProtRead | ProtWrite | ProtExec));
            Protect(Cache, p, first, count, flags);
            if (Overflow is not null) Protect(Overflow, p, first, count, flags);
            return 0;
        }

        private static void Protect(ExCache cache, Process p, ulong first, ulong count, ulong flags)
        {
            RangeWalk walk = cache.WalkRange(p.Asid, first, count);
            while (cache.Next(ref walk, out int line))
                if (OwnResident(cache, p, line, first, count, out ulong page)) p.Space.Protect(page << 12, flags);
            cache.OnProtect(p.Asid, first, count);
        }

        public override long Mremap(Process p, ulong oldAddress, ulong oldLength, ulong newLength, int flags, ulong newAddress)
        {
            if ((oldAddress & 4095) != 0) return -Errno.EINVAL;
            // The memory component moves the frames: it must have the latest data of the old range.
            DropRange(p, oldAddress >> 12, Pages(oldLength), writeBack: true);
            long result = p.Memory!.Mremap((uint)p.Pid, oldAddress, oldLength, newLength, flags, newAddress, out bool fresh);
            if (Errno.IsError(result)) return result;
            ulong first = (ulong)result >> 12;
            DropRange(p, first, Pages(newLength), writeBack: false);
            if (fresh && Pages(newLength) > Pages(oldLength))
                AnnounceFresh(p, first + Pages(oldLength), Pages(newLength) - Pages(oldLength));
            return result;
        }

        /// <summary>
        /// MADV_DONTNEED writes the range's dirty lines back and drops them; other advice is
        /// accepted and ignored. Unlike Linux, anonymous pages keep their data after DONTNEED
        /// (the memory component is not told to discard them): a later read sees the old bytes.
        /// </summary>
        public override long Madvise(Process p, ulong address, ulong length, int advice)
        {
            if ((address & 4095) != 0 || !UserMode.IsUserRange(address, length)) return -Errno.EINVAL;
            if (advice == MadviseDontNeed) DropRange(p, address >> 12, Pages(length), writeBack: true);
            return 0;
        }

        public override void Release(Process p)
        {
            if (p.Asid < 0) return;
            Cache.InvalidateAddressSpace(p.Asid);
            Overflow?.InvalidateAddressSpace(p.Asid);
            if (p.Memory is not null)
            {
                int status = p.Memory.Exit((uint)p.Pid);
                if (status != 0 && Log.Begin(LogLevel.Warn))
                {
                    Console.Write("excache: EXIT for process ");
                    Console.WriteDecimal((ulong)p.Pid);
                    Console.Write(" failed (");
                    Console.WriteDecimal((long)status);
                    Console.WriteLine(")");
                }
            }
            _owners[p.Asid] = null;
            p.Asid = -1;
        }
    }
}
