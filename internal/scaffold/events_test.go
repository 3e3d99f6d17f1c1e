package scaffold_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookkit-dev/hookkit/hookkit"
	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/internal/scaffold"
)

func TestParseEvent(t *testing.T) {
	tests := []struct {
		in, method, fn, file, kind string
		drivers                    []event.Driver
	}{
		{"qemu:prepare", "OnQEMUPrepare", "onQEMUPrepare", "on_qemu_prepare", "domain", []event.Driver{event.QEMU}},
		{"network:port-created", "OnNetworkPortCreated", "onNetworkPortCreated", "on_network_port_created", "port", []event.Driver{event.Network}},
		{"domain:start", "OnDomainStart", "onDomainStart", "on_domain_start", "domain", []event.Driver{event.QEMU, event.LXC, event.Libxl, event.Bhyve}},
		{"domain:migrate", "OnDomainMigrate", "onDomainMigrate", "on_domain_migrate", "filter", []event.Driver{event.QEMU, event.Libxl}},
		{"qemu:restore", "OnQEMURestore", "onQEMURestore", "on_qemu_restore", "filter", []event.Driver{event.QEMU}},
		{"lxc:reconnect", "OnLXCReconnect", "onLXCReconnect", "on_lxc_reconnect", "domain", []event.Driver{event.LXC}},
		{"libxl:started", "OnLibxlStarted", "onLibxlStarted", "on_libxl_started", "domain", []event.Driver{event.Libxl}},
		{"network:plugged", "OnNetworkPlugged", "onNetworkPlugged", "on_network_plugged", "network", []event.Driver{event.Network}},
		{"daemon:reload", "OnDaemonReload", "onDaemonReload", "on_daemon_reload", "daemon", []event.Driver{event.Daemon}},
		{" network:updated ", "OnNetworkUpdated", "onNetworkUpdated", "on_network_updated", "network", []event.Driver{event.Network}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			e, err := scaffold.ParseEvent(tt.in)
			require.NoError(t, err)
			assert.Equal(t, strings.TrimSpace(tt.in), e.String())
			assert.Equal(t, tt.method, e.Method())
			assert.Equal(t, tt.fn, e.Func())
			assert.Equal(t, tt.file, e.FileBase())
			assert.Equal(t, tt.kind, e.Kind())
			assert.Equal(t, tt.drivers, e.Drivers())
		})
	}
}

func TestParseEventErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"qemu", "want driver:op"},
		{":prepare", "want driver:op"},
		{"qemu:", "want driver:op"},
		{"xen:start", `"xen" is not a hook driver`},
		{"lxc:migrate", "the lxc ops are prepare, start, started, stopped, release, reconnect"},
		{"domain:port-created", "the domain ops are prepare, start"},
		{"network:prepare", "the network ops are start, started"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := scaffold.ParseEvent(tt.in)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

func TestParseEvents(t *testing.T) {
	evs, err := scaffold.ParseEvents("qemu:prepare, network:port-created,,qemu:prepare")
	require.NoError(t, err)
	require.Len(t, evs, 2)
	assert.Equal(t, "qemu:prepare", evs[0].String())
	assert.Equal(t, "network:port-created", evs[1].String())
	_, err = scaffold.ParseEvents("qemu:prepare,qemu:nope")
	assert.ErrorContains(t, err, `"qemu:nope"`)
}

// TestMethodsMatchRouter keeps the naming rule of this package and the methods hookkit generates from the
// event table (hookkit/internal/eventgen) from drifting: every event names a method of *hookkit.Router
// that takes the handler type of its kind, and every On... method is reachable from an event.
func TestMethodsMatchRouter(t *testing.T) {
	param := map[string]reflect.Type{
		"domain":  reflect.TypeFor[func(*hookkit.Domain) error](),
		"filter":  reflect.TypeFor[func(*hookkit.Domain) error](),
		"network": reflect.TypeFor[func(*hookkit.Network) error](),
		"port":    reflect.TypeFor[func(*hookkit.NetworkPort) error](),
		"daemon":  reflect.TypeFor[func(*hookkit.Daemon) error](),
	}
	rt := reflect.TypeFor[*hookkit.Router]()
	named := map[string]bool{}
	for _, e := range scaffold.AllEvents() {
		m, ok := rt.MethodByName(e.Method())
		if !assert.True(t, ok, "%s: *hookkit.Router has no method %s", e, e.Method()) {
			continue
		}
		named[e.Method()] = true
		assert.Equal(t, param[e.Kind()], m.Type.In(1), "%s: %s takes the wrong handler type", e, e.Method())
	}
	for i := range rt.NumMethod() {
		n := rt.Method(i).Name
		if strings.HasPrefix(n, "On") {
			assert.True(t, named[n], "*hookkit.Router.%s has no event here", n)
		}
	}
	assert.Len(t, scaffold.AllEvents(), len(named), "two events map to one method")
}
