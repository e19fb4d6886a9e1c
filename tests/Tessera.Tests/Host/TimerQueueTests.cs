using FsCheck.Xunit;
using Tessera.Core;
using Xunit;

namespace Tessera.Tests.Host;

/// <summary>The timer queue behind Timers, checked step by step against a plain list model.</summary>
public sealed class TimerQueueTests
{
    [Fact]
    public void TakesInDeadlineOrderAndOnlyWhenDue()
    {
        var q = new TimerQueue(8);
        int late = q.Add(300, 0, 1);
        int early = q.Add(100, 0, 2);
        int middle = q.Add(200, 0, 3);
        Assert.True(q.TryPeekDeadline(out ulong next));
        Assert.Equal(100UL, next);
        Assert.False(q.TryTakeDue(99, out _, out _, out _, out _));
        Assert.True(q.TryTakeDue(250, out int id1, out int p1, out ulong d1, out bool periodic1));
        Assert.True(q.TryTakeDue(250, out int id2, out _, out _, out _));
        Assert.False(q.TryTakeDue(250, out _, out _, out _, out _));
        Assert.Equal((early, 2, 100UL, false), (id1, p1, d1, periodic1));
        Assert.Equal(middle, id2);
        Assert.True(q.Contains(late));
        Assert.Equal(1, q.Count);
    }

    [Fact]
    public void PeriodicTimerStaysOnItsGridAndSkipsMissedPeriods()
    {
        var q = new TimerQueue(4);
        int id = q.Add(1000, 100, 7);
        Assert.True(q.TryTakeDue(1050, out int taken, out _, out ulong deadline, out bool periodic));
        Assert.Equal((id, 1000UL, true), (taken, deadline, periodic));
        Assert.True(q.TryPeekDeadline(out ulong next));
        Assert.Equal(1100UL, next);
        // Three periods late: the next deadline is the first grid point after now, not a burst.
        Assert.True(q.TryTakeDue(1420, out _, out _, out _, out _));
        Assert.True(q.TryPeekDeadline(out next));
        Assert.Equal(1500UL, next);
        Assert.True(q.Cancel(id, out int payload));
        Assert.Equal(7, payload);
        Assert.Equal(0, q.Count);
    }

    [Fact]
    public void FullQueueRefusesAndCancelOfUnknownIdFails()
    {
        var q = new TimerQueue(2);
        Assert.NotEqual(0, q.Add(1, 0, 0));
        Assert.NotEqual(0, q.Add(2, 0, 0));
        Assert.Equal(0, q.Add(3, 0, 0));
        Assert.False(q.Cancel(12345, out _));
    }

    private sealed record Entry(int Id, ulong Deadline, ulong Period, int Payload, long Order);

    /// <summary>
    /// Random add / cancel / advance-and-take sequences. The model is a list searched for the
    /// smallest (deadline, insertion order); a periodic entry goes back with its next grid
    /// deadline as a new insertion.
    /// </summary>
    [Property(MaxTest = 300)]
    public void MatchesListModel((byte Kind, ushort A, byte B)[] operations)
    {
        const int capacity = 16;
        var queue = new TimerQueue(capacity);
        var model = new List<Entry>();
        ulong now = 0;
        long order = 0;
        foreach (var (kind, a, b) in operations)
        {
            switch (kind % 3)
            {
                case 0:
                {
                    ulong deadline = now + (ulong)(a % 500);
                    ulong period = b % 4 == 0 ? (ulong)(b % 50 + 1) : 0;
                    int id = queue.Add(deadline, period, a);
                    if (model.Count == capacity) { Assert.Equal(0, id); break; }
                    Assert.True(id > 0);
                    Assert.DoesNotContain(model, e => e.Id == id);
                    model.Add(new Entry(id, deadline, period, a, order++));
                    break;
                }
                case 1:
                {
                    int id = model.Count > 0 && b % 5 != 0 ? model[a % model.Count].Id : a + 100000;
                    var entry = model.Find(e => e.Id == id);
                    Assert.Equal(entry is not null, queue.Cancel(id, out int payload));
                    if (entry is not null) { Assert.Equal(entry.Payload, payload); model.Remove(entry); }
                    break;
                }
                default:
                {
                    now += (ulong)(a % 200);
                    while (true)
                    {
                        var first = model.OrderBy(e => e.Deadline).ThenBy(e => e.Order).FirstOrDefault();
                        bool due = first is not null && first.Deadline <= now;
                        Assert.Equal(due, queue.TryTakeDue(now, out int id, out int payload, out ulong deadline, out bool periodic));
                        if (!due) break;
                        Assert.Equal((first!.Id, first.Payload, first.Deadline, first.Period != 0), (id, payload, deadline, periodic));
                        model.Remove(first);
                        if (first.Period != 0)
                        {
                            ulong next = first.Deadline + ((now - first.Deadline) / first.Period + 1) * first.Period;
                            Assert.True(next > now);
                            model.Add(first with { Deadline = next, Order = order++ });
                        }
                    }
                    break;
                }
            }
            Assert.Equal(model.Count, queue.Count);
            bool any = queue.TryPeekDeadline(out ulong peek);
            Assert.Equal(model.Count > 0, any);
            if (any) Assert.Equal(model.Min(e => e.Deadline), peek);
        }
    }
}
