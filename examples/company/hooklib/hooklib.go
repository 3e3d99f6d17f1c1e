// Package hooklib is an example of a company's shared hook library: the hook logic a platform team
// writes once, reviews once, tests once, and composes into the one hook binary every hypervisor runs.
//
// Each piece of logic is a Module: a name and a function that registers handlers on a hookkit.Router.
// A hypervisor's hook is then a few lines (see ../cmd/hypervisor-hook):
//
//	r := hookkit.New(hookkit.WithName("hypervisor-hook"))
//	hooklib.Install(r,
//		hooklib.Audit(audit.Options{File: "/var/log/company/libvirt-audit.jsonl"}),
//		hooklib.RequireOwner(hooklib.OwnerPolicy{}),
//		hooklib.PortForward(portforward.Options{}),
//	)
//	r.Main()
//
// The modules here wrap the other examples (audit, portforward) and add a policy of the company's own
// (RequireOwner). Order matters as for http middleware: Audit first, so that it sees the result of
// everything after it; policies before the modules that change the host, so that a refused VM changes
// nothing.
//
// In this repository hooklib is a package of the hookkit module. A company would give it its own module
// and version it; see README.md.
package hooklib

import (
	"github.com/hookkit-dev/hookkit/examples/audit/audit"
	"github.com/hookkit-dev/hookkit/examples/portforward/portforward"
	"github.com/hookkit-dev/hookkit/hookkit"
)

// Version is the library's version. In a module of its own it would be the module's release tag
// (v1.4.0); binaries report it with runtime/debug.ReadBuildInfo.
const Version = "v0.1.0"

// Module is one reusable piece of hook logic.
type Module interface {
	// Name identifies the module in logs and docs ("audit", "require-owner").
	Name() string
	// Register adds the module's handlers and middleware to r.
	Register(r *hookkit.Router)
}

// Func makes a Module of a registration function.
func Func(name string, register func(r *hookkit.Router)) Module { return funcModule{name, register} }

type funcModule struct {
	name     string
	register func(*hookkit.Router)
}

func (m funcModule) Name() string               { return m.name }
func (m funcModule) Register(r *hookkit.Router) { m.register(r) }

// Install registers the modules on r, in order.
func Install(r *hookkit.Router, mods ...Module) {
	for _, m := range mods {
		m.Register(r)
	}
}

// Audit records every call, for every driver, as a JSON line (package audit). Install it first.
func Audit(opts audit.Options) Module {
	return Func("audit", audit.New(opts).Register)
}

// PortForward opens the port forwards a domain's metadata asks for (package portforward).
func PortForward(opts portforward.Options) Module {
	return Func("portforward", portforward.New(opts).Register)
}
