package e2e

import (
	"os"
	"path/filepath"

	"github.com/hookkit-dev/hookkit/hookkit"
)

// NewRecord returns the record of call c as the hook program named hook sees it: argv, environment,
// working directory, the binary behind argv[0], and the invocation hookkit parsed.
func NewRecord(hook, route string, c *hookkit.Call) Record {
	exe, _ := os.Executable()
	if p, err := filepath.EvalSymlinks(exe); err == nil {
		exe = p
	}
	cwd, _ := os.Getwd()
	return Record{
		Hook: hook, Route: route, PID: os.Getpid(), Argv: os.Args, Executable: exe, Env: os.Environ(), Cwd: cwd,
		Driver: string(c.Driver), Object: c.Object, Op: c.Op, SubOp: c.SubOp, Extra: c.Extra,
	}
}

// scenarioMeta is the element e2e domains carry under <metadata> in MetadataNS.
type scenarioMeta struct {
	Name string `xml:"name,attr"`
}

// FillDomain adds what hookkit parsed from a <domain> payload to r.
func FillDomain(r *Record, dom *hookkit.Domain) {
	r.Name, r.UUID, r.Type = dom.Name(), dom.UUID(), dom.Type()
	if id, ok := dom.ID(); ok {
		r.ID = id
	}
	if cfg, err := dom.Config(); err == nil {
		r.Description = cfg.Description
	} else {
		r.Error = err.Error()
	}
	var m scenarioMeta
	if found, err := dom.Metadata(MetadataNS, &m); err != nil {
		r.Error = err.Error()
	} else if found {
		r.Scenario = m.Name
	}
}

// FillNetwork adds what hookkit parsed from the <network> of a network payload to r.
func FillNetwork(r *Record, n *hookkit.Network) {
	r.Network, r.NetworkUUID, r.Bridge = n.Name(), n.UUID(), n.Bridge()
}

// FillPort adds what hookkit parsed from the <networkport> and <network> of a port payload to r.
func FillPort(r *Record, p *hookkit.NetworkPort) {
	r.PortUUID, r.OwnerName, r.OwnerUUID, r.MAC = p.UUID(), p.OwnerName(), p.OwnerUUID(), p.MAC()
	r.PlugType, r.PlugBridge = p.Plug().Type, p.Plug().Bridge
	if n, err := p.Network(); err == nil {
		FillNetwork(r, n)
	}
}
