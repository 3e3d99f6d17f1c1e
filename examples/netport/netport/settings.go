package netport

import (
	"fmt"
	"regexp"
	"strconv"

	"libvirt.org/go/libvirtxml"
)

// Settings is what the hook applies to a port's host device, taken from the <networkport>'s <bandwidth>
// and <vlan>, validated.
type Settings struct {
	// Inbound shapes traffic to the guest (egress of the host device).
	Inbound *Rate `json:"inbound,omitempty"`
	// Outbound polices traffic from the guest (ingress of the host device).
	Outbound *Rate `json:"outbound,omitempty"`
	// VLANs are the bridge VLANs of the port.
	VLANs []VLAN `json:"vlans,omitempty"`
}

// Empty reports whether there is nothing to apply.
func (s Settings) Empty() bool { return s.Inbound == nil && s.Outbound == nil && len(s.VLANs) == 0 }

// Rate is a bandwidth limit in libvirt's units.
type Rate struct {
	// Average is in kilobytes per second (tc's "kbps").
	Average uint32 `json:"average"`
	// Burst is in kilobytes; libvirt's default, when absent, is Average.
	Burst uint32 `json:"burst"`
}

// VLAN is one bridge VLAN of a port.
type VLAN struct {
	ID uint16 `json:"id"`
	// PVID marks the VLAN untagged frames from the guest are put in (and, with Untagged, sent untagged).
	PVID     bool `json:"pvid,omitempty"`
	Untagged bool `json:"untagged,omitempty"`
}

// Limits of the values accepted from the XML.
const (
	// MaxRate is the largest average or burst accepted, in kilobytes (per second): 32 Gbit/s.
	MaxRate = 4 << 20
	// MaxVLANs bounds the number of VLAN tags of one port.
	MaxVLANs = 64
)

// SettingsFrom validates the port's bandwidth and VLAN configuration. Peak and floor are left to libvirt.
func SettingsFrom(p *libvirtxml.NetworkPort) (Settings, error) {
	var s Settings
	var err error
	if bw := p.Bandwidth; bw != nil {
		if s.Inbound, err = rateFrom(bw.Inbound); err != nil {
			return s, fmt.Errorf("bandwidth inbound: %w", err)
		}
		if s.Outbound, err = rateFrom(bw.Outbound); err != nil {
			return s, fmt.Errorf("bandwidth outbound: %w", err)
		}
	}
	if v := p.VLAN; v != nil && len(v.Tags) > 0 {
		if len(v.Tags) > MaxVLANs {
			return s, fmt.Errorf("vlan: %d tags, at most %d", len(v.Tags), MaxVLANs)
		}
		trunk := v.Trunk == "yes" || len(v.Tags) > 1
		seen := map[uint]bool{}
		for _, t := range v.Tags {
			if t.ID < 1 || t.ID > 4094 {
				return s, fmt.Errorf("vlan: tag %d is not a VLAN ID (1-4094)", t.ID)
			}
			if seen[t.ID] {
				return s, fmt.Errorf("vlan: tag %d given twice", t.ID)
			}
			seen[t.ID] = true
			vl := VLAN{ID: uint16(t.ID)}
			switch {
			case !trunk: // an access port: the one VLAN, untagged
				vl.PVID, vl.Untagged = true, true
			case t.NativeMode == "untagged":
				vl.PVID, vl.Untagged = true, true
			case t.NativeMode == "tagged":
				vl.PVID = true
			case t.NativeMode != "":
				return s, fmt.Errorf("vlan: tag %d: nativeMode %q: want tagged or untagged", t.ID, t.NativeMode)
			}
			s.VLANs = append(s.VLANs, vl)
		}
	}
	return s, nil
}

func rateFrom(p *libvirtxml.NetworkBandwidthParams) (*Rate, error) {
	if p == nil || p.Average == nil {
		return nil, nil // floor-only or peak-only: libvirt's business
	}
	if *p.Average < 1 || *p.Average > MaxRate {
		return nil, fmt.Errorf("average %d: want 1-%d KiB/s", *p.Average, MaxRate)
	}
	r := &Rate{Average: uint32(*p.Average), Burst: uint32(*p.Average)}
	if p.Burst != nil {
		if *p.Burst < 1 || *p.Burst > MaxRate {
			return nil, fmt.Errorf("burst %d: want 1-%d KiB", *p.Burst, MaxRate)
		}
		r.Burst = uint32(*p.Burst)
	}
	return r, nil
}

// devRE is a Linux interface name that no tool can misread: 1-15 of [a-zA-Z0-9_.-].
var devRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,15}$`)

// ValidateDevice reports whether name is a usable host interface name.
func ValidateDevice(name string) error {
	if !devRE.MatchString(name) || name == "." || name == ".." {
		return fmt.Errorf("invalid device name %q: want 1-15 of [a-zA-Z0-9_.-]", name)
	}
	return nil
}

// plan returns the commands that apply s to dev, each with the command that undoes it (nil when nothing
// needs undoing).
func (s Settings) plan(dev string) [][2][]string {
	var out [][2][]string
	add := func(do, undo []string) { out = append(out, [2][]string{do, undo}) }
	if r := s.Inbound; r != nil {
		add([]string{"tc", "qdisc", "replace", "dev", dev, "root", "tbf",
			"rate", kbps(r.Average), "burst", kb(r.Burst), "latency", "50ms"},
			[]string{"tc", "qdisc", "del", "dev", dev, "root"})
	}
	if r := s.Outbound; r != nil {
		add([]string{"tc", "qdisc", "replace", "dev", dev, "ingress"},
			[]string{"tc", "qdisc", "del", "dev", dev, "ingress"})
		add([]string{"tc", "filter", "replace", "dev", dev, "parent", "ffff:", "protocol", "all", "prio", "1",
			"u32", "match", "u32", "0", "0", "police", "rate", kbps(r.Average), "burst", kb(r.Burst), "drop", "flowid", ":1"}, nil)
	}
	for _, v := range s.VLANs {
		do := []string{"bridge", "vlan", "add", "dev", dev, "vid", strconv.Itoa(int(v.ID))}
		if v.PVID {
			do = append(do, "pvid")
		}
		if v.Untagged {
			do = append(do, "untagged")
		}
		add(do, []string{"bridge", "vlan", "del", "dev", dev, "vid", strconv.Itoa(int(v.ID))})
	}
	return out
}

func kbps(n uint32) string { return strconv.FormatUint(uint64(n), 10) + "kbps" }
func kb(n uint32) string   { return strconv.FormatUint(uint64(n), 10) + "kb" }
