// Where a program's standard output and standard error go. On a rig: the second and third
// serial ports (COM2 -> the host's stdout file, COM3 -> stderr; RigLauncher wires them), so
// program output never mixes with the kernel log on COM1. A processor booted without those
// ports (a plain `./build.sh boot processor`) has them absent, and the output goes to the
// kernel console instead, so it is still seen. Self-tests capture it in memory.
using System;
using Tessera.Core;
using Tessera.Drivers;

namespace Tessera.Processor
{
    public abstract class OutputSink
    {
        public abstract void Write(ReadOnlySpan<byte> bytes);
    }

    /// <summary>Bytes to a 16550 UART, unchanged (no CR added: the host file gets exactly what the program wrote).</summary>
    public sealed class SerialSink : OutputSink
    {
        private readonly ushort _port;
        public SerialSink(ushort port) { _port = port; }

        /// <summary>The sink for a port: the UART when it is present, else the kernel console.</summary>
        public static OutputSink For(ushort port) =>
            Serial16550.Initialize(port) ? new SerialSink(port) : new ConsoleSink();

        public override void Write(ReadOnlySpan<byte> bytes)
        {
            for (int i = 0; i < bytes.Length; i++) Serial16550.Write(_port, bytes[i]);
        }
    }

    /// <summary>Bytes to the kernel console (COM1), as text.</summary>
    public sealed class ConsoleSink : OutputSink
    {
        public override void Write(ReadOnlySpan<byte> bytes)
        {
            for (int i = 0; i < bytes.Length; i++) Console.Write((char)bytes[i]);
        }
    }

    /// <summary>Keeps the first Capacity bytes written (self-tests read them back).</summary>
    public sealed class BufferSink : OutputSink
    {
        private readonly byte[] _buffer;
        public int Length;
        public BufferSink(int capacity) { _buffer = new byte[capacity]; }

        public ReadOnlySpan<byte> Bytes => new ReadOnlySpan<byte>(_buffer, 0, Length);

        public override void Write(ReadOnlySpan<byte> bytes)
        {
            for (int i = 0; i < bytes.Length && Length < _buffer.Length; i++) _buffer[Length++] = bytes[i];
        }

        public bool Equals(string text)
        {
            if (text.Length != Length) return false;
            for (int i = 0; i < Length; i++) if (_buffer[i] != text[i]) return false;
            return true;
        }
    }
}
