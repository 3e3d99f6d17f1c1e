package portforward

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Backend is the firewall tool that installs the forwards.
type Backend string

// The backends.
const (
	// NFT puts each domain's forwards in a table of its own, inet hookkit_pf_<uuid without dashes>, so
	// removing them is deleting that table.
	NFT Backend = "nft"
	// IPTables appends one DNAT rule to nat/PREROUTING and inserts one ACCEPT rule in filter/FORWARD per
	// forward (ip6tables for IPv6 guests), tagged with the comment hookkit-pf:<uuid>, and removes exactly
	// those rules with -D.
	IPTables Backend = "iptables"
)

// Validate reports whether b is a known backend.
func (b Backend) Validate() error {
	switch b {
	case NFT, IPTables:
		return nil
	}
	return fmt.Errorf("unknown firewall backend %q: want nft or iptables", string(b))
}

// step is one command and the command that undoes it (nil when undoing an earlier step covers it).
type step struct {
	do, undo []string
}

// TableName returns the nft table that holds the forwards of the domain with the given (normalized) UUID.
func TableName(uuid string) string {
	return "hookkit_pf_" + strings.ReplaceAll(uuid, "-", "")
}

// Comment returns the iptables comment that tags the rules of the domain with the given UUID.
func Comment(uuid string) string { return "hookkit-pf:" + uuid }

// plan returns the steps that install rules for the domain. Every value in them comes from a validated
// Rule or a normalized UUID.
func (b Backend) plan(uuid string, rules []Rule) []step {
	if b == NFT {
		return nftPlan(uuid, rules)
	}
	return iptablesPlan(uuid, rules)
}

// removal returns the commands that remove what plan installed.
func (b Backend) removal(uuid string, rules []Rule) [][]string {
	var out [][]string
	steps := b.plan(uuid, rules)
	for i := len(steps) - 1; i >= 0; i-- {
		if steps[i].undo != nil {
			out = append(out, steps[i].undo)
		}
	}
	return out
}

func nftPlan(uuid string, rules []Rule) []step {
	t := TableName(uuid)
	nft := func(args ...string) []string { return append([]string{"nft"}, args...) }
	steps := []step{
		{do: nft("add", "table", "inet", t), undo: nft("delete", "table", "inet", t)},
		{do: nft("add", "chain", "inet", t, "prerouting", "{", "type", "nat", "hook", "prerouting", "priority", "-100", ";", "policy", "accept", ";", "}")},
		{do: nft("add", "chain", "inet", t, "forward", "{", "type", "filter", "hook", "forward", "priority", "0", ";", "policy", "accept", ";", "}")},
	}
	for _, r := range rules {
		family, dnat := "ipv4", "ip"
		if r.IPv6() {
			family, dnat = "ipv6", "ip6"
		}
		pre := []string{"add", "rule", "inet", t, "prerouting"}
		if r.Interface != "" {
			pre = append(pre, "iifname", strconv.Quote(r.Interface))
		}
		pre = append(pre, "meta", "nfproto", family)
		if r.HostIP.IsValid() {
			pre = append(pre, dnat, "daddr", r.HostIP.String())
		}
		pre = append(pre, r.Proto, "dport", strconv.Itoa(int(r.HostPort)),
			"dnat", dnat, "to", netip.AddrPortFrom(r.Guest, r.GuestPort).String())
		fwd := []string{"add", "rule", "inet", t, "forward", "meta", "nfproto", family,
			dnat, "daddr", r.Guest.String(), r.Proto, "dport", strconv.Itoa(int(r.GuestPort)), "ct", "status", "dnat", "accept"}
		steps = append(steps, step{do: nft(pre...)}, step{do: nft(fwd...)})
	}
	return steps
}

func iptablesPlan(uuid string, rules []Rule) []step {
	comment := []string{"-m", "comment", "--comment", Comment(uuid)}
	var steps []step
	for _, r := range rules {
		tool := "iptables"
		if r.IPv6() {
			tool = "ip6tables"
		}
		// PREROUTING: -A to add, -D with the same rule spec to remove.
		match := []string{}
		if r.Interface != "" {
			match = append(match, "-i", r.Interface)
		}
		if r.HostIP.IsValid() {
			match = append(match, "-d", r.HostIP.String())
		}
		match = append(match, "-p", r.Proto, "-m", r.Proto, "--dport", strconv.Itoa(int(r.HostPort)))
		match = append(match, comment...)
		match = append(match, "-j", "DNAT", "--to-destination", netip.AddrPortFrom(r.Guest, r.GuestPort).String())
		steps = append(steps, step{
			do:   concat([]string{tool, "-w", "-t", "nat", "-A", "PREROUTING"}, match),
			undo: concat([]string{tool, "-w", "-t", "nat", "-D", "PREROUTING"}, match),
		})
		// FORWARD: inserted first, so libvirt's own reject rules for NAT networks do not drop the traffic.
		accept := []string{"-d", r.Guest.String(), "-p", r.Proto, "-m", r.Proto, "--dport", strconv.Itoa(int(r.GuestPort)),
			"-m", "conntrack", "--ctstate", "DNAT"}
		accept = append(accept, comment...)
		accept = append(accept, "-j", "ACCEPT")
		steps = append(steps, step{
			do:   concat([]string{tool, "-w", "-t", "filter", "-I", "FORWARD"}, accept),
			undo: concat([]string{tool, "-w", "-t", "filter", "-D", "FORWARD"}, accept),
		})
	}
	return steps
}

func concat(a, b []string) []string {
	return append(append(make([]string, 0, len(a)+len(b)), a...), b...)
}
