// Pending timers ordered by deadline: the data structure behind Timers. Pure
// logic (no clock, no interrupts), host-tested against a model
// (tests/Tessera.Tests/Host/TimerQueueTests.cs).
//
// A fixed-capacity array kept sorted by deadline (ties in insertion order):
// kernel timers number in the tens, so an O(n) insert is cheaper than a heap's
// bookkeeping, and the earliest deadline is always element 0. Each timer gets a
// unique id for Cancel; a periodic timer keeps its id across firings.
namespace Tessera.Core
{
    public sealed class TimerQueue
    {
        private readonly ulong[] _deadline;
        private readonly ulong[] _period;
        private readonly int[] _id;
        private readonly int[] _payload;
        private int _count;
        private int _lastId;

        public TimerQueue(int capacity)
        {
            _deadline = new ulong[capacity];
            _period = new ulong[capacity];
            _id = new int[capacity];
            _payload = new int[capacity];
        }

        public int Count => _count;
        public int Capacity => _id.Length;

        /// <summary>
        /// Adds a timer due at deadline, repeating every period when period is not 0; payload is
        /// the caller's (e.g. a callback slot). Returns its id (always positive), or 0 when full.
        /// </summary>
        public int Add(ulong deadline, ulong period, int payload)
        {
            if (_count == _id.Length) return 0;
            _lastId = _lastId == int.MaxValue ? 1 : _lastId + 1;
            while (IndexOf(_lastId) >= 0) _lastId = _lastId == int.MaxValue ? 1 : _lastId + 1;
            Insert(deadline, period, _lastId, payload);
            return _lastId;
        }

        /// <summary>Removes timer id; false (and payload 0) when no such timer is pending.</summary>
        public bool Cancel(int id, out int payload)
        {
            payload = 0;
            int index = IndexOf(id);
            if (index < 0) return false;
            payload = _payload[index];
            RemoveAt(index);
            return true;
        }

        public bool Contains(int id) => IndexOf(id) >= 0;

        /// <summary>The earliest deadline, when any timer is pending.</summary>
        public bool TryPeekDeadline(out ulong deadline)
        {
            deadline = _count > 0 ? _deadline[0] : 0;
            return _count > 0;
        }

        /// <summary>
        /// Takes the earliest timer if it is due (deadline &lt;= now). A one-shot timer leaves the
        /// queue; a periodic one goes back with its next deadline on its own grid (deadline +
        /// k * period, the first one after now), so a late tick does not shift later ones and
        /// missed periods are skipped rather than fired in a burst.
        /// </summary>
        public bool TryTakeDue(ulong now, out int id, out int payload, out ulong deadline, out bool periodic)
        {
            id = 0; payload = 0; deadline = 0; periodic = false;
            if (_count == 0 || _deadline[0] > now) return false;
            id = _id[0];
            payload = _payload[0];
            deadline = _deadline[0];
            ulong period = _period[0];
            periodic = period != 0;
            RemoveAt(0);
            if (periodic)
            {
                ulong missed = (now - deadline) / period;
                ulong next = deadline + (missed + 1) * period;
                if (next < deadline) next = ulong.MaxValue;      // saturate instead of wrapping
                Insert(next, period, id, payload);
            }
            return true;
        }

        private int IndexOf(int id)
        {
            for (int i = 0; i < _count; i++) if (_id[i] == id) return i;
            return -1;
        }

        private void Insert(ulong deadline, ulong period, int id, int payload)
        {
            int at = _count;
            while (at > 0 && _deadline[at - 1] > deadline)
            {
                _deadline[at] = _deadline[at - 1];
                _period[at] = _period[at - 1];
                _id[at] = _id[at - 1];
                _payload[at] = _payload[at - 1];
                at--;
            }
            _deadline[at] = deadline;
            _period[at] = period;
            _id[at] = id;
            _payload[at] = payload;
            _count++;
        }

        private void RemoveAt(int index)
        {
            for (int i = index; i < _count - 1; i++)
            {
                _deadline[i] = _deadline[i + 1];
                _period[i] = _period[i + 1];
                _id[i] = _id[i + 1];
                _payload[i] = _payload[i + 1];
            }
            _count--;
        }
    }
}
