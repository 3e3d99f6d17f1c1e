package templates_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookkit-dev/hookkit/templates"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

const hk = "github.com/hookkit-dev/hookkit"

var (
	qemu  = templates.Driver{Name: "qemu", Const: "QEMU"}
	lxc   = templates.Driver{Name: "lxc", Const: "LXC"}
	libxl = templates.Driver{Name: "libxl", Const: "Libxl"}
	bhyve = templates.Driver{Name: "bhyve", Const: "Bhyve"}
	netw  = templates.Driver{Name: "network", Const: "Network"}
	dmn   = templates.Driver{Name: "daemon", Const: "Daemon"}
)

var (
	prepare = templates.Handler{Package: "main", Hookkit: hk, Event: "qemu:prepare", Driver: "qemu", Op: "prepare",
		Method: "OnQEMUPrepare", Func: "onQEMUPrepare", Kind: "domain", Drivers: []templates.Driver{qemu},
		Argv: "<domain name> prepare begin -", When: "before resources are allocated for a starting VM",
		Failure: "the start is aborted; stopped and release hooks still run"}
	release = templates.Handler{Package: "main", Hookkit: hk, Event: "domain:release", Driver: "domain", Op: "release",
		Method: "OnDomainRelease", Func: "onDomainRelease", Kind: "domain", Drivers: []templates.Driver{qemu, lxc, libxl, bhyve},
		Argv: "<domain name> release end <reason>"}
	migrate = templates.Handler{Package: "main", Hookkit: hk, Event: "qemu:migrate", Driver: "qemu", Op: "migrate",
		Method: "OnQEMUMigrate", Func: "onQEMUMigrate", Kind: "filter", Doc: true, Drivers: []templates.Driver{qemu},
		Argv: "<domain name> migrate begin -", When: "on the destination, before the incoming migration is prepared; stdin carries secrets",
		Failure: "the incoming migration is cancelled"}
	started = templates.Handler{Package: "main", Hookkit: hk, Event: "network:started", Driver: "network", Op: "started",
		Method: "OnNetworkStarted", Func: "onNetworkStarted", Kind: "network", Drivers: []templates.Driver{netw},
		Argv: "<network name> started begin -", When: "after the network started",
		Failure: "the network is shut down again, with no stopped hook"}
	plugged = templates.Handler{Package: "main", Hookkit: hk, Event: "network:plugged", Driver: "network", Op: "plugged",
		Method: "OnNetworkPlugged", Func: "onNetworkPlugged", Kind: "network", Drivers: []templates.Driver{netw},
		Argv: "<network name> plugged begin -", When: "libvirt 1.2.2 to 5.4 only: a VM's interface was plugged into the network (now port-created)",
		Failure: "the interface attach or the VM start fails", Legacy: true}
	port = templates.Handler{Package: "main", Hookkit: hk, Event: "network:port-created", Driver: "network", Op: "port-created",
		Method: "OnNetworkPortCreated", Func: "onNetworkPortCreated", Kind: "port", Drivers: []templates.Driver{netw},
		Argv: "<network name> port-created begin -", When: "when a VM's interface gets a port on the network",
		Failure: "the port allocation fails, so the interface attach or the VM start fails"}
	reload = templates.Handler{Package: "main", Hookkit: hk, Event: "daemon:reload", Driver: "daemon", Op: "reload",
		Method: "OnDaemonReload", Func: "onDaemonReload", Kind: "daemon", Drivers: []templates.Driver{dmn},
		Argv: "- reload begin SIGHUP", When: "on SIGHUP; libvirt also re-checks which drivers have hooks",
		Failure: "ignored: the reload still happens"}
)

var project = templates.Project{
	Module: "example.com/vmhooks", Name: "vmhooks", GoVersion: "1.26", Hookkit: hk,
	HookkitVersion: "v0.0.0-00010101000000-000000000000", Replace: "/src/hookkit",
	Indirect: []templates.Module{{Path: "github.com/spf13/pflag", Version: "v1.1.0"}, {Path: "libvirt.org/go/libvirtxml", Version: "v1.12008.0"}},
	Drivers:  []string{"qemu", "network"},
	Handlers: []templates.Handler{prepare, port},
}

var portforward = templates.Config{
	Package: "main", Hookkit: hk, NS: "https://example.com/xmlns/portforward/1.0", Type: "PortForward", Elem: "portforward",
	Structs: []templates.Struct{
		{Name: "PortForward", Doc: "is the configuration the domain keeps in its <metadata>.", Fields: []templates.Field{
			{Name: "Enabled", Type: "bool", Tag: `xml:"enabled,attr"`},
			{Name: "Interface", Type: "string", Tag: `xml:"interface"`},
			{Name: "Rule", Type: "[]PortForwardRule", Tag: `xml:"rule"`},
		}},
		{Name: "PortForwardRule", Doc: "is a <rule> element of PortForward.", Fields: []templates.Field{
			{Name: "Proto", Type: "string", Tag: `xml:"proto,attr"`},
			{Name: "Host", Type: "int", Tag: `xml:"host,attr"`},
			{Name: "Guest", Type: "int", Tag: `xml:"guest,attr"`},
		}},
	},
}

var cases = []struct {
	golden string
	tmpl   string
	data   any
}{
	{"go.mod", templates.GoModTmpl, project},
	{"go.mod-published", templates.GoModTmpl, templates.Project{Module: "example.com/h", GoVersion: "1.26", Hookkit: hk, HookkitVersion: "v1.2.3"}},
	{"main.go", templates.MainTmpl, project},
	{"Makefile", templates.MakefileTmpl, project},
	{"README.md", templates.ReadmeTmpl, project},
	{"routes.go", templates.RoutesTmpl, templates.Routes{Package: "main", Hookkit: hk, Handlers: []templates.Handler{prepare, release, migrate, port}, XMLDoc: true}},
	{"routes-empty.go", templates.RoutesTmpl, templates.Routes{Package: "main", Hookkit: hk}},
	{"handler_domain.go", templates.HandlerDomainTmpl, prepare},
	{"handler_domain-all.go", templates.HandlerDomainTmpl, release},
	{"handler_filter.go", templates.HandlerFilterTmpl, migrate},
	{"handler_network.go", templates.HandlerNetworkTmpl, started},
	{"handler_network-legacy.go", templates.HandlerNetworkTmpl, plugged},
	{"handler_port.go", templates.HandlerPortTmpl, port},
	{"handler_daemon.go", templates.HandlerDaemonTmpl, reload},
	{"handler_test.go", templates.HandlerTestTmpl, prepare},
	{"handler_test-all.go", templates.HandlerTestTmpl, release},
	{"handler_test-filter.go", templates.HandlerTestTmpl, migrate},
	{"config.go", templates.ConfigTmpl, portforward},
}

func TestGolden(t *testing.T) {
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.tmpl] = true
		t.Run(c.golden, func(t *testing.T) {
			got, err := templates.Render(c.tmpl, c.data)
			require.NoError(t, err)
			path := filepath.Join("testdata", "golden", c.golden+".golden")
			if *update {
				require.NoError(t, os.WriteFile(path, got, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test ./templates -update to create it")
			assert.Equal(t, string(want), string(got), "run go test ./templates -update after checking the diff")
		})
	}
	for _, n := range templates.Names() {
		assert.True(t, covered[n], "template %s has no golden test", n)
	}
}

func TestHandlerTemplate(t *testing.T) {
	for kind, want := range map[string]string{"domain": templates.HandlerDomainTmpl, "filter": templates.HandlerFilterTmpl,
		"network": templates.HandlerNetworkTmpl, "port": templates.HandlerPortTmpl, "daemon": templates.HandlerDaemonTmpl} {
		got, err := templates.HandlerTemplate(kind)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	_, err := templates.HandlerTemplate("bogus")
	assert.ErrorContains(t, err, `"bogus"`)
}

func TestRenderErrors(t *testing.T) {
	_, err := templates.Render("nope.tmpl", nil)
	assert.ErrorContains(t, err, `no template "nope.tmpl"`)
	// A name that is not a Go identifier yields invalid Go: Render refuses it instead of writing it.
	bad := prepare
	bad.Func = "on qemu"
	_, err = templates.Render(templates.HandlerDomainTmpl, bad)
	assert.ErrorContains(t, err, "renders invalid Go")
}
