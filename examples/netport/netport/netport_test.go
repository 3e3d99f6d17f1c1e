package netport

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookkit-dev/hookkit/examples/command"
	"github.com/hookkit-dev/hookkit/hookkit"
	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/hookkit/hookkittest"
	"github.com/hookkit-dev/hookkit/hookkit/state"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"libvirt.org/go/libvirtxml"
)

const portUUID = "fbcedb06-523f-45ab-a490-287c5e9e24bf"

func testdata(t *testing.T, name string) []byte {
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	require.NoError(t, err)
	return b
}

func TestSettingsFrom(t *testing.T) {
	tests := []struct {
		name    string
		xml     string
		want    string
		wantErr string
	}{
		{"nothing", ``, "{Inbound:<nil> Outbound:<nil> VLANs:[]}", ""},
		{"access port", `<vlan><tag id='10'/></vlan>`, "{Inbound:<nil> Outbound:<nil> VLANs:[{ID:10 PVID:true Untagged:true}]}", ""},
		{"trunk", `<vlan trunk='yes'><tag id='10' nativeMode='tagged'/><tag id='20'/></vlan>`,
			"{Inbound:<nil> Outbound:<nil> VLANs:[{ID:10 PVID:true Untagged:false} {ID:20 PVID:false Untagged:false}]}", ""},
		{"bandwidth, burst defaults to average", `<bandwidth><inbound average='1000' burst='64'/><outbound average='500' peak='900'/></bandwidth>`,
			"{Inbound:&{Average:1000 Burst:64} Outbound:&{Average:500 Burst:500} VLANs:[]}", ""},
		{"floor only is libvirt's", `<bandwidth><inbound floor='100'/></bandwidth>`, "{Inbound:<nil> Outbound:<nil> VLANs:[]}", ""},
		{"vlan 0", `<vlan><tag id='0'/></vlan>`, "", "vlan: tag 0 is not a VLAN ID (1-4094)"},
		{"vlan 4095", `<vlan><tag id='4095'/></vlan>`, "", "vlan: tag 4095"},
		{"duplicate tag", `<vlan trunk='yes'><tag id='5'/><tag id='5'/></vlan>`, "", "tag 5 given twice"},
		{"bad native mode", `<vlan trunk='yes'><tag id='5' nativeMode='both'/></vlan>`, "", `nativeMode "both"`},
		{"zero average", `<bandwidth><inbound average='0'/></bandwidth>`, "", "bandwidth inbound: average 0"},
		{"huge average", `<bandwidth><outbound average='99999999'/></bandwidth>`, "", "bandwidth outbound: average 99999999"},
		{"huge burst", `<bandwidth><inbound average='10' burst='99999999'/></bandwidth>`, "", "burst 99999999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p libvirtxml.NetworkPort
			require.NoError(t, p.Unmarshal("<networkport><uuid>"+portUUID+"</uuid>"+tt.xml+"</networkport>"))
			s, err := SettingsFrom(&p)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, fmtSettings(s))
		})
	}
}

func TestValidateDevice(t *testing.T) {
	for _, ok := range []string{"vnet0", "tap-a.1", "macvtap_15", "abcdefghijklmno"} {
		assert.NoError(t, ValidateDevice(ok), ok)
	}
	for _, bad := range []string{"", ".", "..", "abcdefghijklmnop", "vnet0;x", "a b", "eth0/..", "vnet\n"} {
		assert.Error(t, ValidateDevice(bad), bad)
	}
}

type env struct {
	rec    *command.Recorder
	store  *state.Store
	sys    string
	router *hookkit.Router
}

func newEnv(t *testing.T) *env {
	dir := t.TempDir()
	e := &env{rec: &command.Recorder{}, store: state.Open(state.Options{Dir: filepath.Join(dir, "state")}), sys: filepath.Join(dir, "sys")}
	require.NoError(t, os.MkdirAll(filepath.Join(e.sys, "class", "net"), 0o755))
	e.router = hookkit.New(hookkit.WithLogger(slog.New(slog.DiscardHandler)))
	New(Options{Runner: e.rec, State: e.store, SysRoot: e.sys, LockDir: filepath.Join(dir, "lock")}).Register(e.router)
	return e
}

// addDevice makes a device appear under class/net with the given MAC.
func (e *env) addDevice(t *testing.T, name, mac string) {
	require.NoError(t, os.MkdirAll(filepath.Join(e.sys, "class", "net", name), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(e.sys, "class", "net", name, "address"), []byte(mac+"\n"), 0o644))
}

func (e *env) record(t *testing.T) (Record, bool) {
	var rec Record
	found, err := e.store.Load(portUUID, StateKey, &rec)
	require.NoError(t, err)
	return rec, found
}

var (
	applyVnet7 = []string{
		"tc qdisc replace dev vnet7 root tbf rate 1000kbps burst 1024kb latency 50ms",
		"tc qdisc replace dev vnet7 ingress",
		"tc filter replace dev vnet7 parent ffff: protocol all prio 1 u32 match u32 0 0 police rate 500kbps burst 500kb drop flowid :1",
		"bridge vlan add dev vnet7 vid 42 pvid untagged",
		"bridge vlan add dev vnet7 vid 47",
	}
	removeVnet7 = []string{
		"bridge vlan del dev vnet7 vid 47",
		"bridge vlan del dev vnet7 vid 42",
		"tc qdisc del dev vnet7 ingress",
		"tc qdisc del dev vnet7 root",
	}
)

func (e *env) run(t *testing.T, driver event.Driver, op, file string) hookkittest.Result {
	c := hookkittest.Event(driver, op).WithStdin(testdata(t, file))
	return hookkittest.Run(e.router, c)
}

// A domain start: the port is created before its tap, so the settings wait for qemu started.
func TestPendingUntilStarted(t *testing.T) {
	e := newEnv(t)
	res := e.run(t, event.Network, "port-created", "port-created.xml")
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Empty(t, e.rec.Calls())
	rec, found := e.record(t)
	require.True(t, found)
	assert.Equal(t, "", rec.Device)
	assert.Equal(t, "hooknet", rec.Network)
	assert.Equal(t, "hooktest-net", rec.Owner)

	e.addDevice(t, "vnet7", "fe:54:00:f9:f1:15")
	res = e.run(t, event.QEMU, "started", "owner-started.xml")
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Equal(t, applyVnet7, e.rec.Calls())
	rec, _ = e.record(t)
	assert.Equal(t, "vnet7", rec.Device)

	e.rec.Reset()
	res = e.run(t, event.QEMU, "reconnect", "owner-started.xml")
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Empty(t, e.rec.Calls(), "already applied to that device")

	res = e.run(t, event.Network, "port-deleted", "port-deleted.xml")
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Equal(t, removeVnet7, e.rec.Calls())
	_, found = e.record(t)
	assert.False(t, found)
}

// libvirtd restarts and announces existing ports again: the tap exists, the settings apply at once.
func TestExistingDeviceAppliesAtOnce(t *testing.T) {
	e := newEnv(t)
	// A bridge whose only port is the tap carries the tap's MAC too (found on a real kernel): not a port.
	e.addDevice(t, "br0", "fe:54:00:f9:f1:15")
	require.NoError(t, os.MkdirAll(filepath.Join(e.sys, "class", "net", "br0", "bridge"), 0o755))
	e.addDevice(t, "virbr-hook", "52:54:00:f0:b0:e4")
	e.addDevice(t, "vnet7", "FE:54:00:F9:F1:15")
	res := e.run(t, event.Network, "port-created", "port-created.xml")
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Equal(t, applyVnet7, e.rec.Calls())
	rec, _ := e.record(t)
	assert.Equal(t, "vnet7", rec.Device)

	// The device went away with the domain: nothing to remove, the record goes.
	require.NoError(t, os.RemoveAll(filepath.Join(e.sys, "class", "net", "vnet7")))
	e.rec.Reset()
	res = e.run(t, event.Network, "port-deleted", "port-deleted.xml")
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Empty(t, e.rec.Calls())
	_, found := e.record(t)
	assert.False(t, found)
}

func TestApplyFailureRollsBack(t *testing.T) {
	e := newEnv(t)
	e.addDevice(t, "vnet7", "fe:54:00:f9:f1:15")
	e.rec.Fail = func(argv []string) error {
		if argv[0] == "bridge" && argv[6] == "47" {
			return errors.New("bridge vlan add dev vnet7 vid 47: exit status 255: RTNETLINK answers: Operation not supported")
		}
		return nil
	}
	res := e.run(t, event.Network, "port-created", "port-created.xml")
	require.Equal(t, 1, res.Code)
	assert.Equal(t, "network: network hooknet port-created begin: netport: vnet7 (rolled back): bridge vlan add dev vnet7 vid 47: exit status 255: RTNETLINK answers: Operation not supported\n", res.Stderr)
	assert.Equal(t, append(applyVnet7, removeVnet7[1:]...), e.rec.Calls())
	_, found := e.record(t)
	assert.False(t, found)
}

func TestInvalidInputFails(t *testing.T) {
	e := newEnv(t)
	bad := strings.Replace(string(testdata(t, "port-created.xml")), "tag id='47'", "tag id='4096'", 1)
	res := hookkittest.Run(e.router, hookkittest.Event(event.Network, "port-created").WithStdin([]byte(bad)))
	require.Equal(t, 1, res.Code)
	assert.Contains(t, res.Stderr, "netport: port "+portUUID+": vlan: tag 4096 is not a VLAN ID (1-4094)")

	require.Equal(t, 0, e.run(t, event.Network, "port-created", "port-created.xml").Code)
	dom := strings.Replace(string(testdata(t, "owner-started.xml")), "dev='vnet7'", "dev='vnet7;reboot'", 1)
	res = hookkittest.Run(e.router, hookkittest.Event(event.QEMU, "started").WithStdin([]byte(dom)))
	require.Equal(t, 1, res.Code)
	assert.Contains(t, res.Stderr, `invalid device name "vnet7;reboot"`)
	assert.Empty(t, e.rec.Calls())
}

func TestPortWithoutSettingsIsIgnored(t *testing.T) {
	e := newEnv(t)
	for _, op := range []string{"port-created", "port-deleted"} {
		res := hookkittest.Run(e.router, hookkittest.Event(event.Network, op))
		require.Equal(t, 0, res.Code, res.Stderr)
	}
	require.Equal(t, 0, hookkittest.Run(e.router, hookkittest.Event(event.QEMU, "started")).Code)
	assert.Empty(t, e.rec.Calls())
	_, found := e.record(t)
	assert.False(t, found)
}
