package simulate

import (
	"bytes"
	"crypto/sha256"
	"encoding/xml"
	"fmt"
)

// port is the network port libvirt allocates for one <interface type='network'> of a domain; the network
// driver's port-created and port-deleted hooks receive it.
type port struct {
	network, bridge, mac, portID, ownerName, ownerUUID string
}

// domainPorts returns the ports a domain's network interfaces get, in device order.
func domainPorts(doc []byte) []port {
	var dom struct {
		Name       string `xml:"name"`
		UUID       string `xml:"uuid"`
		Interfaces []struct {
			Type string `xml:"type,attr"`
			MAC  struct {
				Address string `xml:"address,attr"`
			} `xml:"mac"`
			Source struct {
				Network string `xml:"network,attr"`
				Bridge  string `xml:"bridge,attr"`
				PortID  string `xml:"portid,attr"`
			} `xml:"source"`
		} `xml:"devices>interface"`
	}
	if err := xml.Unmarshal(doc, &dom); err != nil {
		return nil
	}
	var ports []port
	for i, nic := range dom.Interfaces {
		if nic.Type != "network" || nic.Source.Network == "" {
			continue
		}
		p := port{network: nic.Source.Network, bridge: nic.Source.Bridge, mac: nic.MAC.Address,
			portID: nic.Source.PortID, ownerName: dom.Name, ownerUUID: dom.UUID}
		if p.bridge == "" {
			p.bridge = "virbr0"
		}
		if p.mac == "" {
			p.mac = fmt.Sprintf("52:54:00:00:00:%02x", i)
		}
		if p.portID == "" {
			p.portID = fakeUUID("port " + dom.UUID + " " + p.mac)
		}
		ports = append(ports, p)
	}
	return ports
}

// fakeUUID derives a stable UUID-shaped string from seed.
func fakeUUID(seed string) string {
	s := sha256.Sum256([]byte(seed))
	return fmt.Sprintf("%x-%x-%x-%x-%x", s[0:4], s[4:6], s[6:8], s[8:10], s[10:16])
}

// payload formats the <hookData> libvirt writes for the port (virNetworkPortDefFormatBuf after the
// network's definition), trimmed to what identifies the network and the port.
func (p port) payload() []byte {
	var b bytes.Buffer
	esc := func(s string) string {
		var e bytes.Buffer
		_ = xml.EscapeText(&e, []byte(s))
		return e.String()
	}
	fmt.Fprintf(&b, "<hookData>\n  <network connections='1'>\n    <name>%s</name>\n    <uuid>%s</uuid>\n", esc(p.network), fakeUUID("network "+p.network))
	fmt.Fprintf(&b, "    <bridge name='%s' stp='on' delay='0'/>\n  </network>\n", esc(p.bridge))
	fmt.Fprintf(&b, "  <networkport>\n    <uuid>%s</uuid>\n    <owner>\n      <name>%s</name>\n      <uuid>%s</uuid>\n    </owner>\n",
		esc(p.portID), esc(p.ownerName), esc(p.ownerUUID))
	fmt.Fprintf(&b, "    <mac address='%s'/>\n    <plug type='network' bridge='%s'/>\n  </networkport>\n</hookData>\n", esc(p.mac), esc(p.bridge))
	return b.Bytes()
}
