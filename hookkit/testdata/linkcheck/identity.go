//go:build ignore

// A hook that reads only the identity and a metadata value: it must link none of libvirtxml
// (TestLinkedCode).
package main

import "github.com/hookkit-dev/hookkit/hookkit"

type cfg struct {
	Owner string `xml:"owner,attr"`
}

func main() {
	r := hookkit.New()
	r.OnDomainPrepare(func(d *hookkit.Domain) error {
		var c cfg
		_, err := d.Metadata("urn:x", &c)
		_ = d.Name() + d.UUID()
		return err
	})
	r.Main()
}
