package vfio

import (
	"fmt"
	"regexp"
	"strconv"

	"libvirt.org/go/libvirtxml"
)

// Addr is a PCI address: domain, bus, slot (device) and function.
type Addr struct {
	Domain   uint16
	Bus      uint8
	Slot     uint8
	Function uint8
}

// String returns the address as sysfs names it: dddd:bb:ss.f, lower case hex.
func (a Addr) String() string {
	return fmt.Sprintf("%04x:%02x:%02x.%x", a.Domain, a.Bus, a.Slot, a.Function)
}

// MarshalText encodes the address as String does, for the state record.
func (a Addr) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText parses the address with ParseAddr.
func (a *Addr) UnmarshalText(b []byte) error {
	v, err := ParseAddr(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

var addrRE = regexp.MustCompile(`^([0-9a-fA-F]{4}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$`)

// ParseAddr parses dddd:bb:ss.f (hex, slot at most 1f, function at most 7). Nothing else is accepted, so
// an address can be joined to a sysfs path safely.
func ParseAddr(s string) (Addr, error) {
	m := addrRE.FindStringSubmatch(s)
	if m == nil {
		return Addr{}, fmt.Errorf("invalid PCI address %q: want dddd:bb:ss.f", s)
	}
	dom, _ := strconv.ParseUint(m[1], 16, 16)
	bus, _ := strconv.ParseUint(m[2], 16, 8)
	slot, _ := strconv.ParseUint(m[3], 16, 8)
	fn, _ := strconv.ParseUint(m[4], 16, 8)
	if slot > 0x1f {
		return Addr{}, fmt.Errorf("invalid PCI address %q: slot %#x is above 0x1f", s, slot)
	}
	return Addr{Domain: uint16(dom), Bus: uint8(bus), Slot: uint8(slot), Function: uint8(fn)}, nil
}

// addrFromXML validates the numbers libvirtxml decoded from a <source><address/>.
func addrFromXML(a *libvirtxml.DomainAddressPCI) (Addr, error) {
	if a == nil || a.Domain == nil || a.Bus == nil || a.Slot == nil || a.Function == nil {
		return Addr{}, fmt.Errorf("incomplete PCI address: want domain, bus, slot and function")
	}
	if *a.Domain > 0xffff || *a.Bus > 0xff || *a.Slot > 0x1f || *a.Function > 7 {
		return Addr{}, fmt.Errorf("PCI address out of range: domain %#x bus %#x slot %#x function %#x", *a.Domain, *a.Bus, *a.Slot, *a.Function)
	}
	return Addr{Domain: uint16(*a.Domain), Bus: uint8(*a.Bus), Slot: uint8(*a.Slot), Function: uint8(*a.Function)}, nil
}

// Hostdevs returns the host PCI addresses of the domain's <hostdev mode='subsystem' type='pci'> devices,
// in document order. Devices with managed='yes' are left out unless includeManaged is set: libvirt
// itself detaches and reattaches those, and expects the hook to handle only managed='no' devices (the
// default when the attribute is absent).
func Hostdevs(cfg *libvirtxml.Domain, includeManaged bool) ([]Addr, error) {
	if cfg.Devices == nil {
		return nil, nil
	}
	var out []Addr
	seen := map[Addr]bool{}
	for i, h := range cfg.Devices.Hostdevs {
		if h.SubsysPCI == nil {
			continue
		}
		if h.Managed == "yes" && !includeManaged {
			continue
		}
		var src *libvirtxml.DomainAddressPCI
		if h.SubsysPCI.Source != nil {
			src = h.SubsysPCI.Source.Address
		}
		a, err := addrFromXML(src)
		if err != nil {
			return nil, fmt.Errorf("hostdev %d: %w", i+1, err)
		}
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out, nil
}
