using Tessera.Core.Rpc;
using Tessera.Storage;
using Tessera.Storage.Ext2;
using Tessera.Tests.Host.Ext2;
using Tessera.Tools.Storage;
using Xunit;

namespace Tessera.Tests.Host.Storage;

/// <summary>The file service called directly, as the RPC endpoint calls it, from one client node.</summary>
public sealed class DirectFileTransport(FileService service, ushort node) : FileTransport
{
    public override int Call(ushort opcode, ReadOnlySpan<byte> request, Span<byte> reply, out int replyLength)
    {
        // The endpoint's reply buffer is MaxPayload bytes; so is this one.
        if (request.Length > RpcMessage.MaxPayload) { replyLength = 0; return RpcStatus.EMSGSIZE; }
        return service.Handle(opcode, node, request, reply[..RpcMessage.MaxPayload], out replyLength);
    }
}

/// <summary>
/// An ext2 image made by mke2fs in a scratch folder, mounted and served by a FileService on the
/// host, with a FileClient for node 100 (the processor's part), and a host scratch folder
/// beside it for the same operations on Linux.
/// </summary>
public sealed class ServedVolume : IDisposable
{
    public const ushort ClientNode = 100;
    public readonly Ext2Scratch Scratch = new();
    public Ext2FileSystem Fs = null!;
    public FileService Service = null!;
    public FileClient Client = null!;
    public string HostRoot => Path.Combine(Scratch.Folder, "host");

    public static async Task<ServedVolume> CreateAsync(long size = 16L << 20, int blockSize = 1024, bool populate = false, int? inodes = null)
    {
        var v = new ServedVolume();
        Directory.CreateDirectory(v.HostRoot);
        // mke2fs makes lost+found (mode 0700) in every image; the host's folder gets one too.
        Directory.CreateDirectory(Path.Combine(v.HostRoot, "lost+found"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await v.Scratch.MakeAsync(size, blockSize, populate, inodes: inodes);
        v.Serve();
        return v;
    }

    /// <summary>Mounts the image (again) and serves it.</summary>
    public void Serve()
    {
        Fs = Ext2Scratch.Mount(Scratch.Device());
        Service = new FileService(Fs, Errno.EIO, 3, 0x1234);
        Client = ClientFor(ClientNode);
    }

    public FileClient ClientFor(ushort node) => new(new DirectFileTransport(Service, node));

    /// <summary>Unmounts and asserts e2fsck -fn finds the image clean.</summary>
    public async Task UnmountAndCheckAsync()
    {
        Assert.Equal(0, Service.Table.Count);
        await Scratch.UnmountAndCheckAsync(Fs);
    }

    public void Dispose() => Scratch.Dispose();
}
