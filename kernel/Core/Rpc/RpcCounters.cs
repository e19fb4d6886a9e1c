// What an endpoint counts: enough to see every malformed, duplicated or lost message.
namespace Tessera.Core.Rpc
{
    public sealed class RpcCounters
    {
        public ulong FramesReceived;
        public ulong FramesSent;
        public ulong SendFailures;
        public ulong Ignored;               // other EtherTypes on the segment
        public ulong[] Rejected = new ulong[16]; // by RpcDecodeError
        public ulong RequestsServed;
        public ulong DuplicatesAnswered;    // request seen before: reply resent from the cache
        public ulong StaleDropped;          // request older than the cache: dropped
        public ulong UnknownOpcode;         // answered with -ENOSYS
        public ulong CallsMade;
        public ulong Retransmissions;
        public ulong Timeouts;
        public ulong StaleReplies;          // replies to a request we no longer wait for
        public ulong[] ServedByOpcode = new ulong[RpcOpcode.Limit];
        public ulong[] CalledByOpcode = new ulong[RpcOpcode.Limit];

        public ulong RejectedTotal
        {
            get
            {
                ulong sum = 0;
                for (int i = 0; i < Rejected.Length; i++) sum += Rejected[i];
                return sum;
            }
        }
    }
}
