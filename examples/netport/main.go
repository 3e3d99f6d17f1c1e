// Command netport is a libvirt network (and qemu) hook that applies per-port bandwidth limits and bridge
// VLANs from each <networkport> and removes them when the port is deleted; see package netport and
// README.md. It logs every action as a JSON line to its log file.
//
// Install the one binary as /etc/libvirt/hooks/network.d/netport and /etc/libvirt/hooks/qemu.d/netport.
// Its settings come from the optional JSON file configFile (set at build time with
// -ldflags "-X main.configFile=PATH"):
//
//	{"logFile": "/var/log/hookkit/netport.jsonl", "dryRun": false, "sysRoot": "/sys", "stateDir": "/run/hookkit", "lockDir": "/run/lock/hookkit"}
package main

import (
	"log/slog"
	"os"
	"path/filepath"

	"github.com/hookkit-dev/hookkit/examples/command"
	"github.com/hookkit-dev/hookkit/examples/hookconfig"
	"github.com/hookkit-dev/hookkit/examples/netport/netport"
	"github.com/hookkit-dev/hookkit/hookkit"
	"github.com/hookkit-dev/hookkit/hookkit/state"
)

// configFile is the path of the optional JSON settings file; set it with -ldflags "-X main.configFile=PATH".
var configFile = "/etc/hookkit/netport.json"

// settings is the JSON settings file.
type settings struct {
	LogFile  string `json:"logFile"`
	DryRun   bool   `json:"dryRun"`
	SysRoot  string `json:"sysRoot"`
	StateDir string `json:"stateDir"`
	LockDir  string `json:"lockDir"`
}

func main() {
	s := settings{LogFile: "/var/log/hookkit/netport.jsonl"}
	_, cfgErr := hookconfig.Load(configFile, &s)
	opts := []hookkit.Option{hookkit.WithName("netport")}
	// JSON lines, appended: one O_APPEND write per record. When the file cannot be opened the hook logs
	// to syslog instead rather than failing the port.
	if err := os.MkdirAll(filepath.Dir(s.LogFile), 0o750); err == nil {
		if f, err := os.OpenFile(s.LogFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640); err == nil {
			// Not closed: r.Main exits the process, which closes it.
			opts = append(opts, hookkit.WithLogger(slog.New(slog.NewJSONHandler(f, nil))))
		}
	}
	r := hookkit.New(opts...)
	if cfgErr != nil {
		r.Use(hookconfig.FailAll(cfgErr))
	}
	o := netport.Options{SysRoot: s.SysRoot, State: state.Open(state.Options{Dir: s.StateDir}), LockDir: s.LockDir}
	if s.DryRun {
		o.Runner = &command.DryRun{W: os.Stdout}
	}
	netport.New(o).Register(r)
	r.Main()
}
