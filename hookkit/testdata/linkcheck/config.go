//go:build ignore

// A hook that calls Config: it must link libvirtxml's decoding code (TestLinkedCode).
package main

import "github.com/hookkit-dev/hookkit/hookkit"

func main() {
	r := hookkit.New()
	r.OnDomainPrepare(func(d *hookkit.Domain) error {
		_, err := d.Config()
		return err
	})
	r.Main()
}
