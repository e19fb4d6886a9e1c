// Who this node is and who its peers are, from the kernel command line (DESIGN §1):
//   node=2 role=memory peers=1:processor,2:memory,3:storage
// Never from a rebuild: the same image serves as any node of its role.
// Pure logic: compiled into the kernels and the host tests.
using System;
using Tessera.Core.Boot;

namespace Tessera.Core.Cluster
{
    public enum NodeRole : byte { Unknown = 0, Processor = 1, Memory = 2, Storage = 3 }

    public struct Peer
    {
        public ushort Node;
        public NodeRole Role;
    }

    public sealed class ClusterConfig
    {
        public const int MaxPeers = 64;

        public ushort Node;
        public NodeRole Role;
        public readonly Peer[] Peers = new Peer[MaxPeers];
        public int PeerCount;
        /// <summary>Empty when the command line was fine; otherwise what was wrong with it.</summary>
        public string Problem = "";

        public bool IsClustered => Node != 0;

        public static NodeRole ParseRole(ReadOnlySpan<byte> text)
        {
            if (Equals(text, "processor")) return NodeRole.Processor;
            if (Equals(text, "memory")) return NodeRole.Memory;
            if (Equals(text, "storage")) return NodeRole.Storage;
            return NodeRole.Unknown;
        }

        public static string RoleName(NodeRole role) =>
            role == NodeRole.Processor ? "processor" : role == NodeRole.Memory ? "memory" : role == NodeRole.Storage ? "storage" : "unknown";

        /// <summary>Reads node=, role= and peers=. A node without node= is standalone (not clustered).</summary>
        public static ClusterConfig Parse(CommandLine commandLine, NodeRole ownRole)
        {
            var config = new ClusterConfig { Role = ownRole };
            if (!commandLine.TryGetValue("node", out ReadOnlySpan<byte> nodeText)) return config;
            if (!TryParseNumber(nodeText, out uint node) || node == 0 || node > 0xFFFF)
            {
                config.Problem = "node= needs a number from 1 to 65535";
                return config;
            }
            config.Node = (ushort)node;
            if (commandLine.TryGetValue("role", out ReadOnlySpan<byte> roleText) && ParseRole(roleText) != ownRole)
                config.Problem = "role= does not match this image";

            if (!commandLine.TryGetValue("peers", out ReadOnlySpan<byte> peers)) return config;
            int start = 0;
            while (start <= peers.Length)
            {
                int end = start;
                while (end < peers.Length && peers[end] != ',') end++;
                ReadOnlySpan<byte> item = peers.Slice(start, end - start);
                if (item.Length > 0 && !config.AddPeer(item)) return config;
                start = end + 1;
            }
            return config;
        }

        private bool AddPeer(ReadOnlySpan<byte> item)
        {
            int colon = 0;
            while (colon < item.Length && item[colon] != ':') colon++;
            if (colon == item.Length || !TryParseNumber(item.Slice(0, colon), out uint id) || id == 0 || id > 0xFFFF)
            {
                Problem = "peers= entries look like 2:memory";
                return false;
            }
            NodeRole role = ParseRole(item.Slice(colon + 1));
            if (role == NodeRole.Unknown) { Problem = "peers= names an unknown role"; return false; }
            if (id == Node) return true; // the list may include this node itself
            if (PeerCount == MaxPeers) { Problem = "too many peers"; return false; }
            for (int i = 0; i < PeerCount; i++)
                if (Peers[i].Node == id) { Problem = "a peer is listed twice"; return false; }
            Peers[PeerCount++] = new Peer { Node = (ushort)id, Role = role };
            return true;
        }

        private static bool TryParseNumber(ReadOnlySpan<byte> text, out uint value)
        {
            value = 0;
            if (text.Length == 0 || text.Length > 9) return false;
            for (int i = 0; i < text.Length; i++)
            {
                if (text[i] < '0' || text[i] > '9') return false;
                value = value * 10 + (uint)(text[i] - '0');
            }
            return true;
        }

        private static bool Equals(ReadOnlySpan<byte> text, string s)
        {
            if (text.Length != s.Length) return false;
            for (int i = 0; i < s.Length; i++) if (text[i] != s[i]) return false;
            return true;
        }
    }
}
