package portforward

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// Namespace is the XML namespace of the per-VM configuration under the domain's <metadata>.
const Namespace = "https://hookkit.dev/portforward/1"

// Config is the per-VM configuration as written in the domain's <metadata>:
//
//	<metadata>
//	  <pf:portforward xmlns:pf="https://hookkit.dev/portforward/1">
//	    <pf:forward proto="tcp" host-port="2222" guest="192.168.122.10" guest-port="22"/>
//	    <pf:forward proto="udp" host-port="5353" guest="fd00::10" guest-port="53" interface="eth0"/>
//	  </pf:portforward>
//	</metadata>
//
// Set it with virsh metadata (libvirt prefixes every child element with the key):
//
//	virsh metadata vm1 --uri https://hookkit.dev/portforward/1 --key pf --config \
//	  --set '<portforward><forward proto="tcp" host-port="2222" guest="192.168.122.10" guest-port="22"/></portforward>'
//
// Every value is a string here: Rules validates them all before any reaches a command.
type Config struct {
	XMLName  xml.Name  `xml:"portforward"`
	Forwards []Forward `xml:"forward"`
}

// Forward is one <forward> element: traffic to host-port on the host goes to guest:guest-port.
type Forward struct {
	// Proto is tcp or udp.
	Proto string `xml:"proto,attr"`
	// HostPort is the port the host listens on, 1-65535.
	HostPort string `xml:"host-port,attr"`
	// Guest is the guest's IPv4 or IPv6 address.
	Guest string `xml:"guest,attr"`
	// GuestPort is the guest's port, 1-65535; empty means HostPort.
	GuestPort string `xml:"guest-port,attr"`
	// HostIP, optional, restricts the forward to traffic addressed to this host address (same family as Guest).
	HostIP string `xml:"host-ip,attr"`
	// Interface, optional, restricts the forward to traffic arriving on this host interface.
	Interface string `xml:"interface,attr"`
}

// Rule is one validated forward: only values of these types reach nft or iptables.
type Rule struct {
	Proto     string     `json:"proto"`               // tcp or udp
	HostPort  uint16     `json:"hostPort"`            // 1-65535
	Guest     netip.Addr `json:"guest"`               // unicast, unzoned, IPv4 unmapped
	GuestPort uint16     `json:"guestPort"`           // 1-65535
	HostIP    netip.Addr `json:"hostIP,omitzero"`     // the zero Addr for any
	Interface string     `json:"interface,omitempty"` // "" for any
}

// IPv6 reports whether the rule forwards IPv6 traffic.
func (r Rule) IPv6() bool { return r.Guest.Is6() }

// Overlaps reports whether r and o can match the same incoming packet: same protocol, port and address
// family, and host addresses and interfaces that are equal or unrestricted.
func (r Rule) Overlaps(o Rule) bool {
	return r.Proto == o.Proto && r.HostPort == o.HostPort && r.IPv6() == o.IPv6() &&
		(!r.HostIP.IsValid() || !o.HostIP.IsValid() || r.HostIP == o.HostIP) &&
		(r.Interface == "" || o.Interface == "" || r.Interface == o.Interface)
}

// String describes the rule for logs and errors.
func (r Rule) String() string {
	s := fmt.Sprintf("%s %d -> %s", r.Proto, r.HostPort, netip.AddrPortFrom(r.Guest, r.GuestPort))
	if r.HostIP.IsValid() {
		s += " (to " + r.HostIP.String() + ")"
	}
	if r.Interface != "" {
		s += " (in " + r.Interface + ")"
	}
	return s
}

// MaxForwards bounds how many forwards one domain may ask for.
const MaxForwards = 256

// ifaceRE is what Linux accepts as an interface name, minus the characters a firewall tool could
// misread: IFNAMSIZ-1 bytes of letters, digits, '_', '.' and '-'.
var ifaceRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,15}$`)

// Rules validates every forward of c and returns them as rules. The error names the forward (1-based)
// and the attribute at fault. Duplicate host ports of one protocol are refused: the second could never
// match.
func (c *Config) Rules() ([]Rule, error) {
	if len(c.Forwards) > MaxForwards {
		return nil, fmt.Errorf("%d forwards: at most %d", len(c.Forwards), MaxForwards)
	}
	rules := make([]Rule, 0, len(c.Forwards))
	for i, f := range c.Forwards {
		r, err := f.Rule()
		if err != nil {
			return nil, fmt.Errorf("forward %d: %w", i+1, err)
		}
		// Overlapping, not only equal: after a forward of port 2222 on any interface, one of 2222 on eth0
		// can never match (the first DNAT rule takes every packet), as between two domains.
		for j, o := range rules {
			if r.Overlaps(o) {
				return nil, fmt.Errorf("forward %d: %s host port %d is already forwarded by forward %d", i+1, r.Proto, r.HostPort, j+1)
			}
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// Rule validates one forward.
func (f Forward) Rule() (Rule, error) {
	var r Rule
	switch p := strings.TrimSpace(f.Proto); p {
	case "tcp", "udp":
		r.Proto = p
	case "":
		return r, errors.New(`missing proto (tcp or udp)`)
	default:
		return r, fmt.Errorf("proto %q: want tcp or udp", f.Proto)
	}
	var err error
	if r.HostPort, err = ParsePort(f.HostPort); err != nil {
		return r, fmt.Errorf("host-port: %w", err)
	}
	r.GuestPort = r.HostPort
	if f.GuestPort != "" {
		if r.GuestPort, err = ParsePort(f.GuestPort); err != nil {
			return r, fmt.Errorf("guest-port: %w", err)
		}
	}
	if r.Guest, err = parseAddr(f.Guest); err != nil {
		return r, fmt.Errorf("guest: %w", err)
	}
	if f.HostIP != "" {
		if r.HostIP, err = parseAddr(f.HostIP); err != nil {
			return r, fmt.Errorf("host-ip: %w", err)
		}
		if r.HostIP.Is6() != r.Guest.Is6() {
			return r, fmt.Errorf("host-ip %s and guest %s are not of the same address family", r.HostIP, r.Guest)
		}
	}
	if f.Interface != "" {
		if !ifaceRE.MatchString(f.Interface) {
			return r, fmt.Errorf("interface %q: want 1-15 of [a-zA-Z0-9_.-]", f.Interface)
		}
		r.Interface = f.Interface
	}
	return r, nil
}

// ParsePort parses a decimal port number in 1-65535.
func ParsePort(s string) (uint16, error) {
	if s == "" {
		return 0, errors.New("missing")
	}
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%q is not a port number (1-65535)", s)
	}
	return uint16(n), nil
}

// parseAddr parses a unicast IPv4 or IPv6 address without a zone; IPv4-mapped IPv6 addresses are
// taken as IPv4.
func parseAddr(s string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, errors.New("missing")
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%q is not an IP address", s)
	}
	if a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%q: zoned addresses are not supported", s)
	}
	a = a.Unmap()
	if a.IsUnspecified() || a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return netip.Addr{}, fmt.Errorf("%q is not a unicast address", s)
	}
	return a, nil
}
