// The PAGE opcode: a tiny request (an 8-byte little-endian page number) answered with a
// 4 KiB page. It has the shape of the processor's PCACHE_MISS (DESIGN §1: a miss asks the
// memory component for one page and gets 4 KiB back), without an address space behind it, so
// `./build.sh bench rpc` can measure page fetches before the memory component serves real
// ones. An ECHO of 4 KiB moves a page in both directions, twice what a miss moves.
//
// The reply is copied from a page the service keeps (as a real server copies from its page
// store), with the page number in its first 8 bytes so the client can tell the reply is for
// the page it asked for.
// Pure logic: compiled into the kernels and the host tests.
using System;

namespace Tessera.Core.Rpc
{
    public sealed class PageService : RpcHandler
    {
        public const int PageSize = 4096;
        public const int RequestSize = 8;

        private readonly byte[] _page = new byte[PageSize];

        public PageService()
        {
            // Not all zero, so a reply that lost bytes in transit does not pass for a page.
            for (int i = 0; i < PageSize; i++) _page[i] = (byte)(i * 31 + 7);
        }

        /// <summary>The byte at offset of page number's contents (offset ≥ 8; the first 8 bytes hold the number).</summary>
        public static byte ContentAt(int offset) => (byte)(offset * 31 + 7);

        public override int Handle(ushort source, ReadOnlySpan<byte> request, Span<byte> reply, out int replyLength)
        {
            replyLength = 0;
            if (request.Length != RequestSize) return RpcStatus.EINVAL;
            if (reply.Length < PageSize) return RpcStatus.EMSGSIZE;
            new ReadOnlySpan<byte>(_page).CopyTo(reply);
            for (int i = 0; i < RequestSize; i++) reply[i] = request[i];
            replyLength = PageSize;
            return RpcStatus.Ok;
        }
    }
}
