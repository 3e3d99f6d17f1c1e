//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"libvirt.org/go/libvirtxml"
)

// TestLibvirtd runs the scenarios of issue 4 against one real libvirtd, in order.
func TestLibvirtd(t *testing.T) {
	begin := time.Now()
	h := newHarness(t)
	scenarios := []struct {
		name string
		run  func(*testing.T, *harness)
	}{
		{"1-qemu-lifecycle", testQEMULifecycle},
		{"2-prepare-error", testPrepareError},
		{"3-prepare-panic", testPreparePanic},
		{"4-restore-filter", testRestoreFilter},
		{"5-network", testNetwork},
		{"6-daemon", testDaemon},
		{"7-lxc", testLXC},
		{"8-one-binary-and-chained-filters", testOneBinaryChain},
		{"9-detached-work", testDetach},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			start := time.Now()
			// Registered first, so it runs last: the timing includes the scenario's own cleanup.
			t.Cleanup(func() { t.Logf("timing: scenario %s %.1fs", s.name, time.Since(start).Seconds()) })
			s.run(t, h)
		})
	}
	t.Logf("timing: all scenarios %.1fs (harness included)", time.Since(begin).Seconds())
}

// qemuXML is a domain that runs under TCG without a disk (SeaBIOS spins, qemu stays up), tagged with its
// scenario in <metadata>.
func qemuXML(name, scenario, description, devices string) string {
	return fmt.Sprintf(`<domain type='qemu'>
  <name>%s</name>
  <description>%s</description>
  <metadata><e2e:scenario xmlns:e2e='%s' name='%s'/></metadata>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices><serial type='pty'/>%s<memballoon model='none'/></devices>
</domain>
`, name, description, MetadataNS, scenario, devices)
}

// lxcXML is a container that runs /bin/sleep.
func lxcXML(name, scenario string) string {
	return fmt.Sprintf(`<domain type='lxc'>
  <name>%s</name>
  <metadata><e2e:scenario xmlns:e2e='%s' name='%s'/></metadata>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type>exe</type><init>/bin/sleep</init><initarg>600</initarg></os>
  <devices><console type='pty'/></devices>
</domain>
`, name, MetadataNS, scenario)
}

// routes maps an op to the On... registration the recorder made for it.
var routes = map[string]string{
	"prepare": "OnDomainPrepare", "start": "OnDomainStart", "started": "OnDomainStarted",
	"stopped": "OnDomainStopped", "release": "OnDomainRelease", "restore": "OnDomainRestore",
	"reconnect": "OnDomainReconnect",
}

// assertDomainRecords checks what every domain hook call saw: libvirt's argv and environment, and the
// identity hookkit parsed from stdin.
func assertDomainRecords(t *testing.T, h *harness, recs []Record, driver, name, uuid, scenario string) {
	t.Helper()
	for _, r := range recs {
		call := r.Op + " " + r.SubOp
		assert.Equal(t, "/etc/libvirt/hooks/"+driver, r.Argv[0], call)
		assert.Len(t, r.Argv, 5, "%s: argv is <object> <op> <subop> <extra>", call)
		assert.Equal(t, "-", r.Argv[4], "%s: libvirt 9.0 passes no extra to domain hooks", call)
		assert.Empty(t, r.Extra, "%s: hookkit turns - into the empty string", call)
		assert.Equal(t, driver, r.Driver, call)
		assert.Equal(t, routes[r.Op], r.Route, call)
		assert.Equal(t, name, r.Name, "%s: name parsed from stdin", call)
		assert.Equal(t, uuid, r.UUID, "%s: UUID parsed from stdin", call)
		assert.Equal(t, scenario, r.Scenario, "%s: metadata decoded from stdin", call)
		assert.Empty(t, r.Error, call)
		assert.Equal(t, h.recorder, r.Executable, call)
		assert.Contains(t, r.Env, "LC_ALL=C", call)
		assert.Equal(t, "/", r.Cwd, "%s: hooks run in libvirtd's working directory", call)
	}
}

// testQEMULifecycle: start and destroy call prepare, start, started, stopped, release in that order, and
// every call parses the domain's name and UUID.
func testQEMULifecycle(t *testing.T, h *harness) {
	const name = "e2e-basic"
	h.define(t, qemuDriver, name, qemuXML(name, "qemu-lifecycle", "lifecycle", ""))
	uuid := strings.TrimSpace(h.mustVirsh(t, qemuDriver, "domuuid", name))

	m := h.mark(t)
	h.mustVirsh(t, qemuDriver, "start", name)
	require.Equal(t, "running", h.state(t, qemuDriver, name))
	id, err := strconv.Atoi(strings.TrimSpace(h.mustVirsh(t, qemuDriver, "domid", name)))
	require.NoError(t, err)
	h.mustVirsh(t, qemuDriver, "destroy", name)
	require.Equal(t, "shut off", h.state(t, qemuDriver, name))

	recs := of(h.waitFor(t, m, "release", func(r []Record) bool { return hasCall(r, name, "release") }), "qemu", name)
	assert.Equal(t, []string{"prepare begin", "start begin", "started begin", "stopped end", "release end"}, calls(recs))
	assertDomainRecords(t, h, recs, "qemu", name, uuid, "qemu-lifecycle")
	for _, r := range recs {
		assert.Equal(t, "qemu", r.Type)
		assert.Equal(t, "lifecycle", r.Description)
		if r.Op == "stopped" || r.Op == "release" {
			assert.Zero(t, r.ID, "%s: a stopped domain has no id", r.Op)
		} else {
			assert.Equal(t, id, r.ID, "%s: the domain id virsh reports", r.Op)
		}
	}
}

// hookStderr returns what a failed hook wrote on stderr, as virsh quotes it.
func hookStderr(t *testing.T, err error) string {
	t.Helper()
	require.Error(t, err)
	msg := err.Error()
	const marker = "unexpected exit status 1: "
	i := strings.Index(msg, marker)
	require.GreaterOrEqual(t, i, 0, "virsh does not quote a failed hook: %s", msg)
	return strings.TrimSpace(msg[i+len(marker):])
}

// testPrepareError: a handler error on prepare fails virsh start with the handler's one-line message; the
// VM does not run; stopped and release still arrive.
func testPrepareError(t *testing.T, h *harness) {
	const name = "e2e-fail"
	h.define(t, qemuDriver, name, qemuXML(name, "prepare-error", "fails", ""))
	uuid := strings.TrimSpace(h.mustVirsh(t, qemuDriver, "domuuid", name))

	m := h.mark(t)
	_, err := h.virsh(qemuDriver, "start", name)
	require.Error(t, err, "virsh start must fail when prepare fails")
	assert.Contains(t, err.Error(), "Hook script execution failed")
	assert.Equal(t, "qemu: qemu e2e-fail prepare begin: e2e refuses to prepare e2e-fail: quota exceeded", hookStderr(t, err),
		"the hook's stderr is exactly hookkit's one line")
	assert.Equal(t, "shut off", h.state(t, qemuDriver, name))

	recs := of(h.waitFor(t, m, "release", func(r []Record) bool { return hasCall(r, name, "release") }), "qemu", name)
	assert.Equal(t, []string{"prepare begin", "stopped end", "release end"}, calls(recs))
	assertDomainRecords(t, h, recs, "qemu", name, uuid, "prepare-error")
}

// testPreparePanic: a panic in a handler fails the start the same clean way; virsh shows no Go stack,
// the hook's log has it.
func testPreparePanic(t *testing.T, h *harness) {
	const name = "e2e-panic"
	h.define(t, qemuDriver, name, qemuXML(name, "prepare-panic", "panics", ""))
	uuid := strings.TrimSpace(h.mustVirsh(t, qemuDriver, "domuuid", name))

	m := h.mark(t)
	_, err := h.virsh(qemuDriver, "start", name)
	require.Error(t, err, "virsh start must fail when prepare panics")
	assert.Equal(t, "qemu: qemu e2e-panic prepare begin: panic: deliberate panic while preparing e2e-panic", hookStderr(t, err))
	assert.NotContains(t, err.Error(), "goroutine", "no Go stack in what the user sees")
	assert.NotContains(t, err.Error(), ".go:", "no Go stack in what the user sees")
	assert.Equal(t, "shut off", h.state(t, qemuDriver, name))

	recs := of(h.waitFor(t, m, "release", func(r []Record) bool { return hasCall(r, name, "release") }), "qemu", name)
	assert.Equal(t, []string{"prepare begin", "stopped end", "release end"}, calls(recs))
	assertDomainRecords(t, h, recs, "qemu", name, uuid, "prepare-panic")

	log, err := os.ReadFile(h.hookLog)
	require.NoError(t, err)
	assert.Contains(t, string(log), "handler panicked", "the panic is logged")
	assert.Contains(t, string(log), "goroutine", "the stack goes to the log")
}

// liveXML returns the running domain's definition, parsed.
func liveXML(t *testing.T, h *harness, name string) *libvirtxml.Domain {
	t.Helper()
	var d libvirtxml.Domain
	require.NoError(t, d.Unmarshal(h.mustVirsh(t, qemuDriver, "dumpxml", name)))
	return &d
}

// stable clears what legitimately differs between two runs of the same domain: its id, and the pty
// each serial port and console got.
func stable(d *libvirtxml.Domain) *libvirtxml.Domain {
	c := *d
	c.ID = nil
	if c.Devices != nil {
		devs := *c.Devices
		devs.Serials = slices.Clone(devs.Serials)
		for i := range devs.Serials {
			if s := devs.Serials[i].Source; s != nil && s.Pty != nil {
				src := *s
				src.Pty = &libvirtxml.DomainChardevSourcePty{}
				devs.Serials[i].Source = &src
			}
		}
		devs.Consoles = slices.Clone(devs.Consoles)
		for i := range devs.Consoles {
			if s := devs.Consoles[i].Source; s != nil && s.Pty != nil {
				src := *s
				src.Pty = &libvirtxml.DomainChardevSourcePty{}
				devs.Consoles[i].Source = &src
			}
			devs.Consoles[i].TTY = ""
		}
		c.Devices = &devs
	}
	return &c
}

// saveAndRestore saves a running domain to a file, then restores it, and returns the records of the
// restore.
func saveAndRestore(t *testing.T, h *harness, name string) []Record {
	t.Helper()
	save := filepath.Join(h.dir, name+".save")
	m := h.mark(t)
	h.mustVirsh(t, qemuDriver, "save", name, save)
	require.Equal(t, "shut off", h.state(t, qemuDriver, name))
	recs := of(h.waitFor(t, m, "release", func(r []Record) bool { return hasCall(r, name, "release") }), "qemu", name)
	assert.Equal(t, []string{"stopped end", "release end"}, calls(recs), "save stops the domain")

	m = h.mark(t)
	h.mustVirsh(t, qemuDriver, "restore", save)
	require.Equal(t, "running", h.state(t, qemuDriver, name))
	require.NoError(t, os.Remove(save))
	return h.waitFor(t, m, "started", func(r []Record) bool { return hasCall(r, name, "started") })
}

// testRestoreFilter: the restore filter's rewrite of <description> is what libvirt runs, and nothing
// else changed.
func testRestoreFilter(t *testing.T, h *harness) {
	const name = "e2e-restore"
	h.define(t, qemuDriver, name, qemuXML(name, "restore-filter", "before save", ""))
	uuid := strings.TrimSpace(h.mustVirsh(t, qemuDriver, "domuuid", name))
	h.mustVirsh(t, qemuDriver, "start", name)
	before := liveXML(t, h, name)

	recs := of(saveAndRestore(t, h, name), "qemu", name)
	assert.Equal(t, []string{"restore begin", "prepare begin", "start begin", "started begin"}, calls(recs))
	assertDomainRecords(t, h, recs, "qemu", name, uuid, "restore-filter")
	if assert.NotEmpty(t, recs) {
		assert.Equal(t, "before save", recs[0].Description, "the filter gets the saved XML")
		for _, r := range recs[1:] {
			assert.Equal(t, RestoredDescription, r.Description, "%s gets the filtered XML", r.Op)
		}
	}

	after := liveXML(t, h, name)
	assert.Equal(t, RestoredDescription, after.Description, "virsh dumpxml shows the filter's change")
	before.Description, after.Description = "", ""
	assert.Equal(t, stable(before), stable(after), "the filter changed nothing but the description")

	qemuLog, err := os.ReadFile(filepath.Join(h.dir, "log-libvirt", "qemu", name+".log"))
	require.NoError(t, err)
	assert.Contains(t, string(qemuLog), "tainted: hook-script", "libvirt knows a hook rewrote the XML")
}

// testNetwork: network start/started, port-created/port-deleted for a VM's NIC, updated on net-update,
// stopped; the port's owner and bridge are parsed from <networkport>.
func testNetwork(t *testing.T, h *harness) {
	const (
		net    = "e2e-net"
		bridge = "virbr-e2e"
		vm     = "e2e-nic"
	)
	path := filepath.Join(h.dir, net+".xml")
	require.NoError(t, os.WriteFile(path, []byte(fmt.Sprintf(
		`<network><name>%s</name><bridge name='%s' stp='off' delay='0'/></network>`, net, bridge)), 0o600))

	m := h.mark(t)
	h.mustVirsh(t, qemuDriver, "net-define", path)
	t.Cleanup(func() { h.removeNetwork(t, net) })
	h.mustVirsh(t, qemuDriver, "net-start", net)
	netUUID := strings.TrimSpace(h.mustVirsh(t, qemuDriver, "net-uuid", net))
	assert.True(t, h.hasLink(t, bridge), "the bridge exists in libvirtd's network namespace")

	h.define(t, qemuDriver, vm, qemuXML(vm, "network", "has a NIC",
		fmt.Sprintf(`<interface type='network'><source network='%s'/><model type='e1000'/></interface>`, net)))
	vmUUID := strings.TrimSpace(h.mustVirsh(t, qemuDriver, "domuuid", vm))
	h.mustVirsh(t, qemuDriver, "start", vm)
	mac := liveXML(t, h, vm).Devices.Interfaces[0].MAC.Address
	h.mustVirsh(t, qemuDriver, "net-update", net, "add", "portgroup", "<portgroup name='pg1'/>", "--live", "--config")
	h.mustVirsh(t, qemuDriver, "destroy", vm)
	h.mustVirsh(t, qemuDriver, "net-destroy", net)
	assert.False(t, h.hasLink(t, bridge), "net-destroy removed the bridge")

	recs := of(h.waitFor(t, m, "network stopped", func(r []Record) bool { return hasCall(r, net, "stopped") }), "network", net)
	assert.Equal(t, []string{"start begin", "started begin", "port-created begin", "updated begin", "port-deleted begin", "stopped end"}, calls(recs))
	wantRoute := map[string]string{"start": "OnNetworkStart", "started": "OnNetworkStarted", "updated": "OnNetworkUpdated",
		"stopped": "OnNetworkStopped", "port-created": "OnNetworkPortCreated", "port-deleted": "OnNetworkPortDeleted"}
	var ports []string
	for _, r := range recs {
		call := r.Op + " " + r.SubOp
		assert.Equal(t, "/etc/libvirt/hooks/network", r.Argv[0], call)
		assert.Equal(t, "network", r.Driver, call)
		assert.Equal(t, wantRoute[r.Op], r.Route, call)
		assert.Equal(t, net, r.Network, "%s: network name parsed from <hookData>", call)
		assert.Equal(t, netUUID, r.NetworkUUID, call)
		assert.Equal(t, bridge, r.Bridge, "%s: bridge parsed from <network>", call)
		if strings.HasPrefix(r.Op, "port-") {
			assert.Equal(t, vm, r.OwnerName, "%s: port owner parsed from <networkport>", call)
			assert.Equal(t, vmUUID, r.OwnerUUID, call)
			assert.Equal(t, mac, r.MAC, call)
			assert.Equal(t, "network", r.PlugType, call)
			assert.Equal(t, bridge, r.PlugBridge, call)
			assert.NotEmpty(t, r.PortUUID, call)
			ports = append(ports, r.PortUUID)
		}
	}
	if assert.Len(t, ports, 2) {
		assert.Equal(t, ports[0], ports[1], "port-deleted names the port port-created made")
	}
}

// hasLink reports whether libvirtd's network namespace has the interface.
func (h *harness) hasLink(t *testing.T, name string) bool {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/dev", h.pid()))
	require.NoError(t, err)
	for line := range strings.SplitSeq(string(b), "\n") {
		if before, _, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(before) == name {
			return true
		}
	}
	return false
}

// testDaemon: daemon start at libvirtd start, reload on SIGHUP, shutdown on SIGTERM, and reconnect for a
// VM that keeps running across a libvirtd restart.
func testDaemon(t *testing.T, h *harness) {
	daemonCalls := func(recs []Record) []Record {
		return filter(recs, func(r Record) bool { return r.Hook == "recorder" && r.Driver == "daemon" })
	}
	assertDaemon := func(r Record, op, subop, extra, route string) {
		t.Helper()
		assert.Equal(t, []string{"/etc/libvirt/hooks/daemon", "-", op, subop, extra}, r.Argv)
		assert.Equal(t, "daemon", r.Driver)
		assert.Empty(t, r.Object)
		assert.Equal(t, route, r.Route)
		assert.Equal(t, strings.Trim(extra, "-"), r.Extra)
	}

	all := daemonCalls(h.allRecords(t))
	require.NotEmpty(t, all, "libvirtd start called the daemon hook")
	assertDaemon(all[0], "start", "-", "start", "OnDaemonStart")

	m := h.mark(t)
	require.NoError(t, syscall.Kill(h.pid(), syscall.SIGHUP))
	recs := daemonCalls(h.waitFor(t, m, "reload", func(r []Record) bool { return hasCall(r, "", "reload") }))
	if assert.Len(t, recs, 1) {
		assertDaemon(recs[0], "reload", "begin", "SIGHUP", "OnDaemonReload")
	}

	const name, failing = "e2e-reconnect", "e2e-reconnect-fail"
	h.define(t, qemuDriver, name, qemuXML(name, "daemon", "survives a restart", ""))
	h.define(t, qemuDriver, failing, qemuXML(failing, "daemon", "its reconnect hook fails", ""))
	uuid := strings.TrimSpace(h.mustVirsh(t, qemuDriver, "domuuid", name))
	h.mustVirsh(t, qemuDriver, "start", name)
	h.mustVirsh(t, qemuDriver, "start", failing)
	m = h.mark(t)
	h.restart(t)
	got := h.waitFor(t, m, "reconnect", func(r []Record) bool { return hasCall(r, name, "reconnect") })
	recs = daemonCalls(got)
	if assert.Len(t, recs, 2) {
		assertDaemon(recs[0], "shutdown", "-", "shutdown", "OnDaemonShutdown")
		assertDaemon(recs[1], "start", "-", "start", "OnDaemonStart")
	}
	assert.Equal(t, "running", h.state(t, qemuDriver, name), "the VM survived the restart")
	dom := of(got, "qemu", name)
	assert.Equal(t, []string{"reconnect begin"}, calls(dom))
	assertDomainRecords(t, h, dom, "qemu", name, uuid, "daemon")

	// A failing reconnect hook makes libvirt kill the running VM: stopped and release follow at once
	// (what hookkit run --sequence reconnect replays).
	failed := of(h.waitFor(t, m, "release", func(r []Record) bool { return hasCall(r, failing, "release") }), "qemu", failing)
	assert.Equal(t, []string{"reconnect begin", "stopped end", "release end"}, calls(failed))
	assert.Equal(t, "shut off", h.state(t, qemuDriver, failing), "libvirt killed the VM whose reconnect hook failed")

	m = h.mark(t)
	h.mustVirsh(t, qemuDriver, "destroy", name)
	dom = of(h.waitFor(t, m, "release", func(r []Record) bool { return hasCall(r, name, "release") }), "qemu", name)
	assert.Equal(t, []string{"stopped end", "release end"}, calls(dom), "the new libvirtd runs the VM's hooks")
}

// testLXC: an LXC container's start and destroy call prepare, start, started, stopped, release (libvirt
// may run the last two twice).
func testLXC(t *testing.T, h *harness) {
	const name = "e2e-lxc"
	h.define(t, lxcDriver, name, lxcXML(name, "lxc"))
	uuid := strings.TrimSpace(h.mustVirsh(t, lxcDriver, "domuuid", name))

	m := h.mark(t)
	h.mustVirsh(t, lxcDriver, "start", name)
	require.Equal(t, "running", h.state(t, lxcDriver, name))
	h.mustVirsh(t, lxcDriver, "destroy", name)
	require.Equal(t, "shut off", h.state(t, lxcDriver, name))

	// Wait for as many releases as stopped calls: see below.
	teardownDone := func(r []Record) bool {
		c := calls(of(r, "lxc", name))
		released := countOf(c, "release end")
		return released > 0 && released == countOf(c, "stopped end")
	}
	recs := of(h.waitFor(t, m, "release", teardownDone), "lxc", name)
	got := calls(recs)
	require.GreaterOrEqual(t, len(got), 5, "%v", got)
	assert.Equal(t, []string{"prepare begin", "start begin", "started begin"}, got[:3])
	// libvirt 9.0's lxc driver cleans up from the destroy call and from the container's exit; when they
	// race it runs stopped and release twice (seen: stopped, stopped, release, release). The event table
	// says so; here each teardown hook must come once or twice, stopped first and release last.
	teardown := got[3:]
	stopped := countOf(teardown, "stopped end")
	assert.Equal(t, len(teardown), 2*stopped, "only stopped and release after started: %v", got)
	assert.Equal(t, "stopped end", teardown[0], "%v", got)
	assert.Equal(t, "release end", teardown[len(teardown)-1], "%v", got)
	assert.LessOrEqual(t, stopped, 2, "%v", got)
	if stopped == 2 {
		t.Logf("libvirt ran the teardown hooks twice: %v", got)
	}
	assertDomainRecords(t, h, recs, "lxc", name, uuid, "lxc")
	for _, r := range recs {
		assert.Equal(t, "lxc", r.Type)
	}
}

// testOneBinaryChain: the one recorder binary, installed under every driver name and in qemu.d/, tells
// the drivers apart by where it was run from; two tagfilter copies in qemu.d/ chain like libvirt chains
// them: each gets the previous output, libvirt runs the last one's.
func testOneBinaryChain(t *testing.T, h *harness) {
	dDir := filepath.Join(h.hooksDir, "qemu.d")
	require.NoError(t, os.Mkdir(dDir, 0o755))
	t.Cleanup(func() { _ = os.RemoveAll(dDir) })
	// libvirt re-lists qemu.d on every call once the qemu hook exists: no reload needed.
	for link, target := range map[string]string{"10-recorder": h.recorder, "20-tag-a": h.tagfilter, "30-tag-b": h.tagfilter} {
		require.NoError(t, os.Symlink(target, filepath.Join(dDir, link)))
	}

	const name = "e2e-chain"
	h.define(t, qemuDriver, name, qemuXML(name, "chain", "chain", ""))
	h.mustVirsh(t, qemuDriver, "start", name)
	recs := saveAndRestore(t, h, name)

	restores := filter(recs, func(r Record) bool { return r.Object == name && r.Op == "restore" })
	var ran []string
	for _, r := range restores {
		ran = append(ran, r.Hook+" "+r.Argv[0])
	}
	assert.Equal(t, []string{
		"recorder /etc/libvirt/hooks/qemu",
		"recorder /etc/libvirt/hooks/qemu.d/10-recorder",
		"tagfilter /etc/libvirt/hooks/qemu.d/20-tag-a",
		"tagfilter /etc/libvirt/hooks/qemu.d/30-tag-b",
	}, ran, "the main hook first, then qemu.d in byte order")
	want := map[string][2]string{ // description in, description out
		"20-tag-a": {"chain", "chain +20-tag-a"},
		"30-tag-b": {"chain +20-tag-a", "chain +20-tag-a +30-tag-b"},
	}
	for _, r := range restores {
		if w, ok := want[filepath.Base(r.Argv[0])]; ok {
			assert.Equal(t, w[0], r.Description, "%s gets the previous filter's output", r.Argv[0])
			assert.Equal(t, w[1], r.DescriptionOut, r.Argv[0])
		} else {
			assert.Equal(t, "chain", r.Description, "%s gets the saved XML", r.Argv[0])
		}
	}
	final := "chain +20-tag-a +30-tag-b"
	assert.Equal(t, final, liveXML(t, h, name).Description, "libvirt runs the last filter's output")
	for _, r := range filter(recs, func(r Record) bool { return r.Op == "prepare" }) {
		assert.Equal(t, final, r.Description, "%s prepare gets the filtered XML", r.Argv[0])
	}

	// A transient network, so that this scenario sees the network driver even when run alone.
	path := filepath.Join(h.dir, "e2e-chainnet.xml")
	require.NoError(t, os.WriteFile(path, []byte(`<network><name>e2e-chainnet</name><bridge name='virbr-e2e8' stp='off' delay='0'/></network>`), 0o600))
	m := h.mark(t)
	h.mustVirsh(t, qemuDriver, "net-create", path)
	t.Cleanup(func() { h.removeNetwork(t, "e2e-chainnet") })
	h.mustVirsh(t, qemuDriver, "net-destroy", "e2e-chainnet")
	h.waitFor(t, m, "network stopped", func(r []Record) bool { return hasCall(r, "e2e-chainnet", "stopped") })

	seen := map[string]bool{}
	for _, r := range filter(h.allRecords(t), func(r Record) bool { return r.Hook == "recorder" }) {
		want := filepath.Base(r.Argv[0])
		if dir := filepath.Dir(r.Argv[0]); dir != "/etc/libvirt/hooks" {
			want = strings.TrimSuffix(filepath.Base(dir), ".d")
		}
		assert.Equal(t, want, r.Driver, "driver of %s", r.Argv[0])
		assert.Equal(t, h.recorder, r.Executable, "%s is the one recorder binary", r.Argv[0])
		seen[r.Argv[0]] = true
	}
	for _, p := range []string{"daemon", "qemu", "network", "qemu.d/10-recorder"} {
		assert.True(t, seen["/etc/libvirt/hooks/"+p], "the recorder ran as /etc/libvirt/hooks/%s", p)
	}
}

// testDetach: a started handler schedules a virsh call on its own domain through package detach. virsh
// start returns; the work runs after the hook exited, in its own session, with no pipe of libvirt's
// open, and its virsh call (which inline would wait for the start job the hook runs under) succeeds.
func testDetach(t *testing.T, h *harness) {
	const name = "e2e-detach"
	h.define(t, qemuDriver, name, qemuXML(name, "detach", "detached work", ""))

	m := h.mark(t)
	h.mustVirsh(t, qemuDriver, "start", name)
	recs := h.waitFor(t, m, "the detached work", func(r []Record) bool { return hasCall(r, name, "set-title") })

	startedAt := slices.IndexFunc(recs, func(r Record) bool { return r.Hook == "recorder" && r.Object == name && r.Op == "started" })
	workAt := slices.IndexFunc(recs, func(r Record) bool { return r.Hook == "detached" })
	require.GreaterOrEqual(t, startedAt, 0, "the started hook ran")
	require.Greater(t, workAt, startedAt, "the work ran after the started hook")
	work := recs[workAt]
	assert.Empty(t, work.Error, "the detached virsh call failed: %s", work.Output)
	assert.Equal(t, work.PID, work.Session, "the work leads its own session")
	assert.NotEqual(t, recs[startedAt].PID, work.PID)
	log := filepath.Join(h.dir, "detached.log")
	assert.Equal(t, []string{"/dev/null", log, log}, work.Stdio, "stdin on /dev/null, output to its log: no pipe of libvirt's")

	assert.Equal(t, "running", h.state(t, qemuDriver, name))
	assert.Equal(t, DetachedTitle, liveXML(t, h, name).Title, "virsh dumpxml shows what the detached virsh call set")
}
