// Command migrate-rewrite is a libvirt migrate/restore filter that maps disk source paths by prefix and
// sets a metadata value, changing no other byte of the XML; see package rewrite and README.md.
//
// Install it as /etc/libvirt/hooks/qemu.d/migrate-rewrite (or libxl.d/). The rules are read on every call
// from rulesFile, /etc/hookkit/migrate-rewrite.json unless set at build time with
// -ldflags "-X main.rulesFile=PATH". Without a rules file the hook changes nothing.
package main

import (
	"github.com/hookkit-dev/hookkit/examples/hookconfig"
	"github.com/hookkit-dev/hookkit/examples/migrate-rewrite/rewrite"
	"github.com/hookkit-dev/hookkit/hookkit"
)

// rulesFile is the path of the rules file; set it with -ldflags "-X main.rulesFile=PATH".
var rulesFile = "/etc/hookkit/migrate-rewrite.json"

func main() {
	r := hookkit.New(hookkit.WithName("migrate-rewrite"))
	rewrite.Register(r, func() (*rewrite.Rules, error) {
		var rules rewrite.Rules
		_, err := hookconfig.Load(rulesFile, &rules)
		return &rules, err
	})
	r.Main()
}
