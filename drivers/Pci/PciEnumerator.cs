// Finds every PCI function, the way the PCI-to-PCI Bridge Architecture Spec 1.2
// (§3.2.5) lays the hierarchy out: start at bus 0 (or, when the host bridge at
// 00:00.0 is multi-function, at bus N for each host bridge function N), look at
// function 0 of every device, at functions 1-7 only when function 0 says it is
// multi-function (header type bit 7), and descend into the secondary bus of every
// PCI-to-PCI bridge. A function that is absent reads vendor 0xFFFF. Each bus is
// scanned at most once, so a misconfigured bridge cannot make the walk loop.
// Pure logic over IPciConfigSpace, host-tested.
namespace Tessera.Drivers.Pci
{
    public sealed class PciEnumerator
    {
        private readonly IPciConfigSpace _config;
        private readonly bool[] _scanned = new bool[256];
        private PciDevice[] _found = new PciDevice[16];
        private int _count;

        private PciEnumerator(IPciConfigSpace config) { _config = config; }

        /// <summary>Every function, in bus order of discovery; BARs sized when probeBars is set.</summary>
        public static PciDevice[] Enumerate(IPciConfigSpace config, bool probeBars)
        {
            var e = new PciEnumerator(config);
            var root = new PciAddress(0, 0, 0);
            byte rootHeader = config.Read8(root, PciRegisters.HeaderType);
            if (config.Read16(root, PciRegisters.VendorId) != PciRegisters.NoVendor && (rootHeader & PciRegisters.HeaderMultiFunction) != 0)
            {
                for (int function = 0; function < 8; function++)
                    if (config.Read16(new PciAddress(0, 0, function), PciRegisters.VendorId) != PciRegisters.NoVendor)
                        e.ScanBus(function);
            }
            else e.ScanBus(0);

            var result = new PciDevice[e._count];
            for (int i = 0; i < e._count; i++)
            {
                result[i] = e._found[i];
                if (probeBars) result[i].ProbeBars();
            }
            return result;
        }

        private void ScanBus(int bus)
        {
            if (_scanned[bus]) return;
            _scanned[bus] = true;
            for (int device = 0; device < 32; device++)
            {
                var first = new PciAddress(bus, device, 0);
                if (_config.Read16(first, PciRegisters.VendorId) == PciRegisters.NoVendor) continue;
                bool multi = (_config.Read8(first, PciRegisters.HeaderType) & PciRegisters.HeaderMultiFunction) != 0;
                for (int function = 0; function < (multi ? 8 : 1); function++)
                {
                    var address = new PciAddress(bus, device, function);
                    if (_config.Read16(address, PciRegisters.VendorId) == PciRegisters.NoVendor) continue;
                    PciDevice found = PciDevice.Read(_config, address);
                    Add(found);
                    // Bus 0 is never a secondary bus; an unconfigured bridge reports 0.
                    if (found.IsBridge && found.SecondaryBus != 0) ScanBus(found.SecondaryBus);
                }
            }
        }

        private void Add(PciDevice device)
        {
            if (_count == _found.Length)
            {
                var bigger = new PciDevice[_found.Length * 2];
                for (int i = 0; i < _count; i++) bigger[i] = _found[i];
                _found = bigger;
            }
            _found[_count++] = device;
        }
    }
}
