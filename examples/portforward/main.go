// Command portforward is a libvirt hook that opens host port forwards to a guest when it starts and
// removes them when it stops; see package portforward and README.md.
//
// Install it as /etc/libvirt/hooks/qemu (or qemu.d/portforward, lxc, ...). Its settings come from the
// optional JSON file configFile (set at build time with -ldflags "-X main.configFile=PATH"):
//
//	{"backend": "nft", "applyOn": "start", "dryRun": false, "stateDir": "/run/hookkit", "lockDir": "/run/lock/hookkit"}
package main

import (
	"os"

	"github.com/hookkit-dev/hookkit/examples/command"
	"github.com/hookkit-dev/hookkit/examples/hookconfig"
	"github.com/hookkit-dev/hookkit/examples/portforward/portforward"
	"github.com/hookkit-dev/hookkit/hookkit"
	"github.com/hookkit-dev/hookkit/hookkit/state"
)

// configFile is the path of the optional JSON settings file; set it with -ldflags "-X main.configFile=PATH".
var configFile = "/etc/hookkit/portforward.json"

// settings is the JSON settings file.
type settings struct {
	Backend  portforward.Backend `json:"backend"`
	ApplyOn  string              `json:"applyOn"`
	DryRun   bool                `json:"dryRun"`
	StateDir string              `json:"stateDir"`
	LockDir  string              `json:"lockDir"`
}

func main() {
	r := hookkit.New(hookkit.WithName("portforward"))
	var s settings
	if _, err := hookconfig.Load(configFile, &s); err != nil {
		r.Use(hookconfig.FailAll(err))
	}
	opts := portforward.Options{
		Backend: s.Backend,
		ApplyOn: s.ApplyOn,
		State:   state.Open(state.Options{Dir: s.StateDir}),
		LockDir: s.LockDir,
	}
	if s.DryRun {
		// libvirt does not read the stdout of these ops; by hand (hookkit run) it shows the commands.
		opts.Runner = &command.DryRun{W: os.Stdout}
	}
	portforward.New(opts).Register(r)
	r.Main()
}
