using Tessera.Memory;
using static Tessera.Memory.Errno;

namespace Tessera.Tests.Host.Memory;

/// <summary>
/// A deliberately simple reference for VmaSet: one entry per page of a small address space,
/// no areas at all. Every rule of the Linux calls is restated page by page (areas only
/// appear as "the run of mergeable pages around this one"), so a wrong split, merge, search
/// or index shift in the sorted array shows up as a difference.
/// </summary>
public sealed class PageModel
{
    private const ulong P = AddressSpaceLayout.PageSize;

    public readonly record struct Page(byte Prot, VmaKind Kind, byte Flags, ulong FileId, ulong FileOffset, ulong FileEnd);

    private readonly AddressSpaceLayout L;
    private readonly Page?[] _pages;

    public ulong StartBrk { get; private set; }
    public ulong Brk { get; private set; }

    public PageModel(AddressSpaceLayout layout)
    {
        L = layout;
        _pages = new Page?[layout.TaskSize / P];
    }

    // ---- pages and the areas they form ----------------------------------------------------

    private Page? At(ulong address) => address / P < (ulong)_pages.Length ? _pages[address / P] : null;
    private bool Mapped(ulong address) => At(address) is not null;
    private void Set(ulong address, Page? page) { if (address / P < (ulong)_pages.Length) _pages[address / P] = page; }

    private static bool Mergeable(Page a, Page b) =>
        a.Prot == b.Prot && a.Kind == b.Kind && a.Flags == b.Flags &&
        (a.Kind != VmaKind.File || (a.FileId == b.FileId && a.FileEnd == b.FileEnd && a.FileOffset + P == b.FileOffset));

    private ulong AreaStart(ulong address)
    {
        ulong a = address & ~(P - 1);
        while (a >= P && At(a - P) is Page below && Mergeable(below, At(a)!.Value)) a -= P;
        return a;
    }

    private ulong AreaEnd(ulong address)
    {
        ulong a = address & ~(P - 1);
        while (At(a + P) is Page above && Mergeable(At(a)!.Value, above)) a += P;
        return a + P;
    }

    private ulong? FirstMappedAtOrAbove(ulong address)
    {
        for (ulong a = address & ~(P - 1); a / P < (ulong)_pages.Length; a += P) if (Mapped(a)) return a;
        return null;
    }

    /// <summary>The canonical areas: maximal runs of mergeable pages.</summary>
    public List<Vma> Areas()
    {
        var list = new List<Vma>();
        for (ulong a = 0; a / P < (ulong)_pages.Length;)
        {
            if (At(a) is not Page p) { a += P; continue; }
            ulong end = AreaEnd(a);
            list.Add(new Vma
            {
                Start = a, End = end, Protection = p.Prot, Kind = p.Kind, Flags = p.Flags,
                FileId = p.Kind == VmaKind.File ? p.FileId : 0, FileOffset = p.Kind == VmaKind.File ? p.FileOffset : 0,
                FileEnd = p.Kind == VmaKind.File ? p.FileEnd : 0,
            });
            a = end;
        }
        return list;
    }

    private bool Free(ulong start, ulong end)
    {
        for (ulong a = start; a < end; a += P) if (Mapped(a)) return false;
        return true;
    }

    // The address below which the first area at or above `address` wants nothing new.
    private ulong StartGapAbove(ulong address)
    {
        ulong? p = FirstMappedAtOrAbove(address);
        if (p is null) return ulong.MaxValue;
        if (At(p.Value)!.Value.Kind != VmaKind.Stack) return p.Value;
        return p.Value > L.StackGuardGap ? p.Value - L.StackGuardGap : 0;
    }

    private bool FitsAt(ulong a, ulong len) => Free(a, a + len) && a + len <= StartGapAbove(a);

    private ulong LowLimit(ulong low) => Math.Max(low, L.MmapMinAddr);

    private long TopDown(ulong len, ulong low, ulong high)
    {
        if (high < len || high - len < low) return -ENOMEM;
        for (ulong s = (high - len) & ~(P - 1); ; s -= P)
        {
            if (s < low) return -ENOMEM;
            if (FitsAt(s, len)) return (long)s;
            if (s < P) return -ENOMEM;
        }
    }

    private long BottomUp(ulong len, ulong low, ulong high)
    {
        if (high < len || high - len < low) return -ENOMEM;
        for (ulong s = AddressSpaceLayout.PageAlign(low); s + len <= high; s += P)
            if (FitsAt(s, len)) return (long)s;
        return -ENOMEM;
    }

    private long GetUnmappedArea(ulong address, ulong len, int flags)
    {
        if (len > L.TaskSize) return -ENOMEM;
        ulong start;
        if ((flags & MapFlags.Fixed) != 0) start = address;
        else
        {
            long found = -ENOMEM;
            if (address != 0)
            {
                ulong hint = address & ~(P - 1);
                if (L.TaskSize - len >= hint && FitsAt(hint, len)) found = (long)hint;
            }
            bool below2G = (flags & MapFlags.Below2G) != 0;
            if (found < 0 && !below2G) found = TopDown(len, LowLimit(P), L.MmapBase);
            if (found < 0)
            {
                ulong begin = below2G ? 0x40000000 : L.LegacyBase, end = below2G ? 0x80000000 : L.TaskSize;
                if (len > end) return -ENOMEM;
                found = BottomUp(len, LowLimit(begin), end);
            }
            if (found < 0) return found;
            start = (ulong)found;
        }
        if (start > L.TaskSize - len) return -ENOMEM;
        if (start % P != 0) return -EINVAL;
        if (start < L.MmapMinAddr) return -EPERM;
        return (long)start;
    }

    private void Fill(ulong start, ulong len, Page template)
    {
        for (ulong k = 0; k < len; k += P)
            Set(start + k, template with { FileOffset = template.Kind == VmaKind.File ? template.FileOffset + k : 0 });
    }

    private void Clear(ulong start, ulong end) { for (ulong a = start; a < end && a / P < (ulong)_pages.Length; a += P) Set(a, null); }

    // ---- the calls -------------------------------------------------------------------------

    public void MapArea(Vma area) => Fill(area.Start, area.End - area.Start,
        new Page(area.Protection, area.Kind, area.Flags, area.FileId, area.FileOffset, area.FileEnd));

    public void InitBrk(ulong start) { StartBrk = start; Brk = start; }

    public long Mmap(ulong address, ulong length, int prot, int flags, ulong fileId, ulong offset)
    {
        if (offset % P != 0 || length == 0) return -EINVAL;
        if ((flags & MapFlags.FixedNoReplace) != 0) flags |= MapFlags.Fixed;
        bool isFixed = (flags & MapFlags.Fixed) != 0;
        if (!isFixed)
        {
            address &= ~(P - 1);
            if (address != 0 && address < L.MmapMinAddr) address = AddressSpaceLayout.PageAlign(L.MmapMinAddr);
        }
        ulong len = AddressSpaceLayout.PageAlign(length);
        if (len == 0) return -ENOMEM;
        bool anonymous = (flags & MapFlags.Anonymous) != 0;
        int type = flags & MapFlags.TypeMask;
        bool shared = type == MapFlags.Shared || (type == MapFlags.SharedValidate && !anonymous);
        long placed = GetUnmappedArea(address, len, flags);
        if (placed < 0) return placed;
        ulong start = (ulong)placed;
        if ((flags & MapFlags.FixedNoReplace) != 0 && !Free(start, start + len)) return -EEXIST;
        if (anonymous)
        {
            if (type == MapFlags.Shared) { if ((flags & MapFlags.GrowsDown) != 0) return -EINVAL; }
            else if (type != MapFlags.Private) return -EINVAL;
        }
        else
        {
            if (type == MapFlags.SharedValidate) { if ((flags & ~MapFlags.LegacyMask) != 0) return -EOPNOTSUPP; }
            else if (type != MapFlags.Shared && type != MapFlags.Private) return -EINVAL;
        }
        var page = anonymous
            ? new Page((byte)(prot & 7), (flags & MapFlags.GrowsDown) != 0 ? VmaKind.Stack : VmaKind.Anonymous, shared ? VmaFlags.Shared : (byte)0, 0, 0, 0)
            : new Page((byte)(prot & 7), VmaKind.File, shared ? VmaFlags.Shared : (byte)0, fileId, offset, ulong.MaxValue);
        Clear(start, start + len);
        Fill(start, len, page);
        return (long)start;
    }

    public int Munmap(ulong address, ulong length)
    {
        if (address % P != 0 || address > L.TaskSize || length > L.TaskSize - address) return -EINVAL;
        ulong end = address + AddressSpaceLayout.PageAlign(length);
        if (end == address) return -EINVAL;
        Clear(address, end);
        return 0;
    }

    private int UnmapChecked(ulong address, ulong length)
    {
        if (address % P != 0 || address > L.TaskSize || length > L.TaskSize - address) return -EINVAL;
        Clear(address, address + AddressSpaceLayout.PageAlign(length));
        return 0;
    }

    public int Mprotect(ulong start, ulong length, int prot)
    {
        int grows = prot & (Prot.GrowsDown | Prot.GrowsUp);
        if (grows == (Prot.GrowsDown | Prot.GrowsUp)) return -EINVAL;
        prot &= ~(Prot.GrowsDown | Prot.GrowsUp);
        if (start % P != 0) return -EINVAL;
        if (length == 0) return 0;
        ulong end = start + AddressSpaceLayout.PageAlign(length);
        if (end <= start) return -ENOMEM;
        if ((prot & ~(Prot.Access | Prot.Sem)) != 0) return -EINVAL;
        ulong? first = FirstMappedAtOrAbove(start);
        if (first is null || first.Value >= end) return -ENOMEM;
        if ((grows & Prot.GrowsDown) != 0)
        {
            start = AreaStart(first.Value);
            if (At(start)!.Value.Kind != VmaKind.Stack) return -EINVAL;
        }
        else
        {
            if (!Mapped(start)) return -ENOMEM;
            if ((grows & Prot.GrowsUp) != 0) return -EINVAL;
        }
        for (ulong a = start; a < end; a += P)
        {
            if (At(a) is not Page p) return -ENOMEM;
            Set(a, p with { Prot = (byte)(prot & 7) });
        }
        return 0;
    }

    public long Mremap(ulong old, ulong oldLength, ulong newLength, int flags, ulong newAddress)
    {
        if ((flags & ~7) != 0) return -EINVAL;
        if ((flags & MremapFlags.Fixed) != 0 && (flags & MremapFlags.MayMove) == 0) return -EINVAL;
        if ((flags & MremapFlags.DontUnmap) != 0 && ((flags & MremapFlags.MayMove) == 0 || oldLength != newLength)) return -EINVAL;
        if (old % P != 0) return -EINVAL;
        ulong oldLen = AddressSpaceLayout.PageAlign(oldLength), newLen = AddressSpaceLayout.PageAlign(newLength);
        if (newLen == 0) return -EINVAL;
        if (!Mapped(old)) return -EFAULT;

        if ((flags & (MremapFlags.Fixed | MremapFlags.DontUnmap)) != 0)
        {
            if (newAddress % P != 0) return -EINVAL;
            if (newLen > L.TaskSize || newAddress > L.TaskSize - newLen) return -EINVAL;
            if (old + oldLen > newAddress && newAddress + newLen > old) return -EINVAL;
            bool isFixed = (flags & MremapFlags.Fixed) != 0;
            if (isFixed) { int r = UnmapChecked(newAddress, newLen); if (r < 0) return r; }
            if (oldLen > newLen) { int r = UnmapChecked(old + newLen, oldLen - newLen); if (r < 0) return r; oldLen = newLen; }
            long ok = Resizable(old, oldLen);
            if (ok < 0) return ok;
            long placed = GetUnmappedArea(newAddress, newLen, isFixed ? MapFlags.Fixed : 0);
            if (placed < 0) return placed;
            return Move(old, oldLen, newLen, (ulong)placed, flags);
        }
        if (oldLen >= newLen)
        {
            if (oldLen > newLen) { int r = UnmapChecked(old + newLen, oldLen - newLen); if (r < 0) return r; }
            return (long)old;
        }
        long resizable = Resizable(old, oldLen);
        if (resizable < 0) return resizable;
        ulong areaEnd = AreaEnd(old);
        if (oldLen == areaEnd - old)
        {
            ulong newEnd = areaEnd + (newLen - oldLen);
            if (newEnd > areaEnd && newEnd <= L.TaskSize && Free(areaEnd, newEnd))
            {
                Page last = At(areaEnd - P)!.Value;
                Fill(areaEnd, newEnd - areaEnd, last with { FileOffset = last.FileOffset + P });
                return (long)old;
            }
        }
        if ((flags & MremapFlags.MayMove) == 0) return -ENOMEM;
        long where = GetUnmappedArea(0, newLen, 0);
        if (where < 0) return where;
        return Move(old, oldLen, newLen, (ulong)where, flags);
    }

    private long Resizable(ulong old, ulong oldLen)
    {
        if (!Mapped(old)) return -EFAULT;
        if (oldLen == 0) return -EINVAL;
        if (oldLen > AreaEnd(old) - old) return -EFAULT;
        return 0;
    }

    private long Move(ulong old, ulong oldLen, ulong newLen, ulong to, int flags)
    {
        Page template = At(old)!.Value;
        if ((flags & MremapFlags.DontUnmap) == 0) { int r = UnmapChecked(old, oldLen); if (r < 0) return r; }
        Fill(to, newLen, template);
        return (long)to;
    }

    public ulong DoBrk(ulong requested)
    {
        if (requested < StartBrk) return Brk;
        ulong newBrk = AddressSpaceLayout.PageAlign(requested), oldBrk = AddressSpaceLayout.PageAlign(Brk);
        if (newBrk == oldBrk) { Brk = requested; return Brk; }
        if (requested <= Brk)
        {
            ulong? m = FirstMappedAtOrAbove(newBrk);
            if (m is null || m.Value >= oldBrk) return Brk;
            Clear(newBrk, oldBrk);
            Brk = requested;
            return Brk;
        }
        if (newBrk <= oldBrk || newBrk > L.TaskSize || oldBrk < L.MmapMinAddr) return Brk;
        // The first area ending above oldBrk: the one holding it, else the next one up.
        ulong gap = Mapped(oldBrk) ? 0 : StartGapAbove(oldBrk);
        if (newBrk + P > gap) return Brk;
        Fill(oldBrk, newBrk - oldBrk, new Page(Prot.Read | Prot.Write, VmaKind.Heap, 0, 0, 0, 0));
        Brk = requested;
        return Brk;
    }

    private static bool Allows(Page p, FaultAccess access) => access switch
    {
        FaultAccess.Write => (p.Prot & Prot.Write) != 0,
        FaultAccess.Execute => (p.Prot & Prot.Exec) != 0,
        _ => (p.Prot & Prot.Access) != 0,
    };

    public FaultVerdict CheckFault(ulong address, FaultAccess access)
    {
        if (address >= L.TaskSize) return FaultVerdict.Unmapped;
        if (At(address) is Page here) return Allows(here, access) ? FaultVerdict.Allowed : FaultVerdict.Forbidden;
        ulong? above = FirstMappedAtOrAbove(address);
        if (above is null) return FaultVerdict.Unmapped;
        Page stack = At(above.Value)!.Value;
        if (stack.Kind != VmaKind.Stack || address < L.MmapMinAddr) return FaultVerdict.Unmapped;
        ulong newStart = address & ~(P - 1);
        if (AreaEnd(above.Value) - newStart > L.StackLimit) return FaultVerdict.Unmapped;
        for (ulong a = newStart; a >= P; a -= P)
        {
            if (At(a - P) is not Page below) continue;
            if (below.Kind != VmaKind.Stack && (below.Prot & Prot.Access) != 0 && newStart - a < L.StackGuardGap) return FaultVerdict.Unmapped;
            break;
        }
        Fill(newStart, above.Value - newStart, stack);
        return Allows(stack, access) ? FaultVerdict.Allowed : FaultVerdict.Forbidden;
    }
}
