// The kernel's PCI view: enumerate once at boot through configuration mechanism #1,
// print what was found, and let drivers look devices up and map their MSI-X tables.
using System;
using Tessera.Core;

namespace Tessera.Drivers.Pci
{
    public static unsafe class Pci
    {
        public static PciDevice[] Devices = new PciDevice[0];
        public static bool Initialized;

        /// <summary>Finds every function, sizes its BARs and prints the list (one line a function, one a BAR).</summary>
        public static void Initialize()
        {
            Devices = PciEnumerator.Enumerate(PciConfigPorts.Instance, probeBars: true);
            Initialized = true;
            for (int i = 0; i < Devices.Length; i++) Print(Devices[i]);
            if (Log.Begin(LogLevel.Info))
            {
                Console.Write("pci: ");
                Console.WriteDecimal((ulong)Devices.Length);
                Console.WriteLine(" functions");
            }
        }

        /// <summary>The index-th function with this vendor and device ID, or null.</summary>
        public static PciDevice? Find(ushort vendorId, ushort deviceId, int index = 0)
        {
            for (int i = 0; i < Devices.Length; i++)
                if (Devices[i].VendorId == vendorId && Devices[i].DeviceId == deviceId && index-- == 0) return Devices[i];
            return null;
        }

        /// <summary>The index-th function of this class and subclass, or null.</summary>
        public static PciDevice? FindClass(byte classCode, byte subclass, int index = 0)
        {
            for (int i = 0; i < Devices.Length; i++)
                if (Devices[i].ClassCode == classCode && Devices[i].Subclass == subclass && index-- == 0) return Devices[i];
            return null;
        }

        /// <summary>
        /// Maps a function's MSI-X table and turns on memory decoding so it can be reached;
        /// null when the table's BAR is not a memory BAR or the table lies outside it.
        /// </summary>
        public static MsiXTable? MapMsiXTable(PciDevice device, MsiXCapability capability)
        {
            if (!capability.IsPresent) return null;
            PciBar bar = device.Bar(capability.TableBar);
            if (!bar.IsMemory || bar.Address == 0) return null;
            if (capability.TableOffset + capability.TableBytes > bar.Size) return null;
            byte* table = MapDeviceMemory(bar.Address + capability.TableOffset, capability.TableBytes);
            if (table == null) return null;
            device.EnableMemorySpace();
            return new MsiXTable(table, capability.TableSize);
        }

        // Device memory is reached through the direct map, uncached (kernel/Core/Memory/DirectMap.cs).
        private static byte* MapDeviceMemory(ulong physical, ulong length) =>
            physical == 0 ? null : Tessera.Core.Memory.DirectMap.MapDevice(physical, length);

        private static void Print(PciDevice d)
        {
            if (!Log.Begin(LogLevel.Info)) return;
            Console.Write("pci: ");
            WriteAddress(d.Address);
            Console.Write(' ');
            WriteHexDigits(d.VendorId, 4);
            Console.Write(':');
            WriteHexDigits(d.DeviceId, 4);
            Console.Write(" class ");
            WriteHexDigits(d.ClassCode, 2);
            Console.Write('/');
            WriteHexDigits(d.Subclass, 2);
            Console.Write('/');
            WriteHexDigits(d.ProgIf, 2);
            Console.Write(' ');
            Console.Write(PciClassNames.Describe(d.ClassCode, d.Subclass, d.ProgIf));
            if (d.HasLegacyInterrupt)
            {
                Console.Write(", INT");
                Console.Write((char)('A' + d.InterruptPin - 1));
                Console.Write(" line ");
                Console.WriteDecimal((ulong)d.InterruptLine);
            }
            if (d.IsBridge)
            {
                Console.Write(", buses ");
                Console.WriteDecimal((ulong)d.SecondaryBus);
                Console.Write('-');
                Console.WriteDecimal((ulong)d.SubordinateBus);
            }
            MsiXCapability msix = MsiXCapability.Read(d);
            if (msix.IsPresent)
            {
                Console.Write(", msi-x ");
                Console.WriteDecimal((ulong)msix.TableSize);
                Console.Write(" vectors in bar");
                Console.WriteDecimal((ulong)msix.TableBar);
                Console.Write('+');
                Console.WriteHex(msix.TableOffset, 4);
            }
            Console.WriteLine();
            for (int i = 0; i < d.Bars.Length; i++)
            {
                PciBar bar = d.Bars[i];
                if (!bar.IsPresent || !Log.Begin(LogLevel.Info)) continue;
                Console.Write("pci:   bar");
                Console.WriteDecimal((ulong)bar.Index);
                Console.Write(bar.Kind == PciBarKind.Io ? " io    " : bar.Kind == PciBarKind.Memory32 ? " mem32 " : " mem64 ");
                Console.WriteHex(bar.Address, bar.Kind == PciBarKind.Io ? 4 : bar.Kind == PciBarKind.Memory32 ? 8 : 16);
                Console.Write(' ');
                Console.WriteSize(bar.Size);
                if (bar.Prefetchable) Console.Write(" prefetchable");
                Console.WriteLine();
            }
        }

        private static void WriteAddress(PciAddress address)
        {
            Span<char> text = stackalloc char[PciAddress.FormattedLength];
            address.Format(text);
            for (int i = 0; i < text.Length; i++) Console.Write(text[i]);
        }

        private static void WriteHexDigits(ulong value, int digits)
        {
            for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4)
            {
                int nibble = (int)((value >> shift) & 0xF);
                Console.Write((char)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10));
            }
        }
    }
}
