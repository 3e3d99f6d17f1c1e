// Command audit is a libvirt hook for every driver that appends one JSON line per call to an audit file;
// see package audit and README.md.
//
// Install the one binary under every driver name (hookkit install ./audit --all --as-d 00-audit, or
// symlinks /etc/libvirt/hooks/{qemu,lxc,network,daemon,libxl,bhyve}.d/00-audit). Where it writes is
// decided, in order, by:
//
//   - the "file" key of the optional JSON file configFile (default /etc/hookkit/audit.json);
//   - auditFile, set at build time with -ldflags "-X main.auditFile=/var/log/mycorp/libvirt-audit.jsonl";
//   - /var/log/hookkit/audit.jsonl.
//
// The config file may also set "lockDir" and "required" (fail the call when its line cannot be written).
package main

import (
	"github.com/hookkit-dev/hookkit/examples/audit/audit"
	"github.com/hookkit-dev/hookkit/examples/hookconfig"
	"github.com/hookkit-dev/hookkit/hookkit"
)

// auditFile is the built-in audit file path; set it with -ldflags "-X main.auditFile=PATH".
var auditFile = audit.DefaultFile

// configFile is the path of the optional JSON settings file; set it with -ldflags "-X main.configFile=PATH".
var configFile = "/etc/hookkit/audit.json"

// settings is the JSON settings file.
type settings struct {
	File     string `json:"file"`
	LockDir  string `json:"lockDir"`
	Required bool   `json:"required"`
}

func main() {
	r := hookkit.New(hookkit.WithName("audit"))
	s := settings{File: auditFile}
	if _, err := hookconfig.Load(configFile, &s); err != nil {
		r.Use(hookconfig.FailAll(err))
	}
	audit.New(audit.Options{File: s.File, LockDir: s.LockDir, Required: s.Required}).Register(r)
	r.Main()
}
