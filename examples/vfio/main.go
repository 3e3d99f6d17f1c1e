// Command vfio is a libvirt qemu hook that binds a domain's PCI host devices to vfio-pci on prepare and
// gives them back to their host driver on release; see package vfio and README.md.
//
// Install it as /etc/libvirt/hooks/qemu or qemu.d/vfio. Its settings come from the optional JSON file
// configFile (set at build time with -ldflags "-X main.configFile=PATH"):
//
//	{"sysRoot": "/sys", "includeManaged": false, "stateDir": "/run/hookkit", "lockDir": "/run/lock/hookkit",
//	 "handOverConsole": false, "stopUnits": ["display-manager.service"]}
//
// handOverConsole is for single-GPU passthrough: when the boot GPU is passed through, the framebuffer
// console and the boot framebuffer are unbound from it (and stopUnits stopped) first, and given back after
// release.
package main

import (
	"github.com/hookkit-dev/hookkit/examples/hookconfig"
	"github.com/hookkit-dev/hookkit/examples/vfio/vfio"
	"github.com/hookkit-dev/hookkit/hookkit"
	"github.com/hookkit-dev/hookkit/hookkit/state"
)

// configFile is the path of the optional JSON settings file; set it with -ldflags "-X main.configFile=PATH".
var configFile = "/etc/hookkit/vfio.json"

// settings is the JSON settings file.
type settings struct {
	SysRoot        string `json:"sysRoot"`
	IncludeManaged bool   `json:"includeManaged"`
	StateDir       string `json:"stateDir"`
	LockDir        string `json:"lockDir"`
	// HandOverConsole and StopUnits configure vfio.ConsoleOptions.
	HandOverConsole bool     `json:"handOverConsole"`
	StopUnits       []string `json:"stopUnits"`
}

func main() {
	r := hookkit.New(hookkit.WithName("vfio"))
	var s settings
	if _, err := hookconfig.Load(configFile, &s); err != nil {
		r.Use(hookconfig.FailAll(err))
	}
	vfio.New(vfio.Options{
		SysRoot:        s.SysRoot,
		IncludeManaged: s.IncludeManaged,
		State:          state.Open(state.Options{Dir: s.StateDir}),
		LockDir:        s.LockDir,
		Console:        vfio.ConsoleOptions{HandOver: s.HandOverConsole, StopUnits: s.StopUnits},
	}).Register(r)
	r.Main()
}
