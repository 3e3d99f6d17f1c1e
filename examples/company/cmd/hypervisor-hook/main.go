// Command hypervisor-hook is the one libvirt hook every hypervisor of the example company runs, composed
// from the company's shared modules (package hooklib). Install it under every driver name; see
// ../../README.md. Site settings come from the optional JSON file configFile (set at build time with
// -ldflags "-X main.configFile=PATH"):
//
//	{"auditFile": "/var/log/company/libvirt-audit.jsonl", "stateDir": "/run/hookkit", "lockDir": "/run/lock/hookkit", "dryRun": false}
package main

import (
	"os"

	"github.com/hookkit-dev/hookkit/examples/audit/audit"
	"github.com/hookkit-dev/hookkit/examples/command"
	"github.com/hookkit-dev/hookkit/examples/company/hooklib"
	"github.com/hookkit-dev/hookkit/examples/hookconfig"
	"github.com/hookkit-dev/hookkit/examples/portforward/portforward"
	"github.com/hookkit-dev/hookkit/hookkit"
	"github.com/hookkit-dev/hookkit/hookkit/state"
)

// configFile is the path of the optional JSON settings file; set it with -ldflags "-X main.configFile=PATH".
var configFile = "/etc/company/hypervisor-hook.json"

type settings struct {
	AuditFile string `json:"auditFile"`
	StateDir  string `json:"stateDir"`
	LockDir   string `json:"lockDir"`
	DryRun    bool   `json:"dryRun"`
}

func main() {
	r := hookkit.New(hookkit.WithName("hypervisor-hook"))
	s := settings{AuditFile: "/var/log/company/libvirt-audit.jsonl"}
	if _, err := hookconfig.Load(configFile, &s); err != nil {
		r.Use(hookconfig.FailAll(err))
	}
	pf := portforward.Options{State: state.Open(state.Options{Dir: s.StateDir}), LockDir: s.LockDir}
	if s.DryRun {
		pf.Runner = &command.DryRun{W: os.Stdout}
	}

	hooklib.Install(r,
		hooklib.Audit(audit.Options{File: s.AuditFile, LockDir: s.LockDir}),
		hooklib.RequireOwner(hooklib.OwnerPolicy{Exempt: []string{"ci-*"}}),
		hooklib.PortForward(pf),
	)
	r.Main()
}
