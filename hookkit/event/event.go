// Package event is the table of every hook invocation libvirt makes: the single source of truth from which
// hookkit generates its typed On... registration methods, the CLI's event list and docs/events.md.
//
// The facts come from libvirt's src/util/virhook.c, the drivers that call virHookCall and docs/hooks.rst.
// The package has no dependencies so that the hook runtime, the generator and the CLI can all import it.
package event

import (
	"sort"
	"strings"
)

// Driver is the name of a libvirt hook driver: the basename of the main hook script
// (/etc/libvirt/hooks/<driver>) and of its extra-script directory (<driver>.d).
type Driver string

// The drivers that run hooks, in the order of libvirt's virHookDriver enum.
const (
	Daemon  Driver = "daemon"
	QEMU    Driver = "qemu"
	LXC     Driver = "lxc"
	Network Driver = "network"
	Libxl   Driver = "libxl"
	Bhyve   Driver = "bhyve"
)

// Drivers lists every hook driver libvirt knows.
var Drivers = []Driver{Daemon, QEMU, LXC, Network, Libxl, Bhyve}

// IsDomain reports whether d is a driver whose hooks receive a <domain> document.
func (d Driver) IsDomain() bool { return d == QEMU || d == LXC || d == Libxl || d == Bhyve }

// Valid reports whether d is one of the drivers libvirt runs hooks for.
func (d Driver) Valid() bool {
	for _, x := range Drivers {
		if x == d {
			return true
		}
	}
	return false
}

// Payload says what libvirt writes on the hook's stdin.
type Payload int

// The payload kinds.
const (
	// PayloadNone: stdin is /dev/null (daemon hooks).
	PayloadNone Payload = iota
	// PayloadDomain: a <domain> document.
	PayloadDomain
	// PayloadNetwork: <hookData><network/></hookData>.
	PayloadNetwork
	// PayloadNetworkPort: <hookData><network/><networkport/></hookData>.
	PayloadNetworkPort
	// PayloadNetworkDomain: <hookData><network/><domain/></hookData>, the legacy plugged/unplugged format
	// of libvirt 1.2.2 to 5.4.
	PayloadNetworkDomain
)

// String returns the payload as docs/events.md names it.
func (p Payload) String() string {
	switch p {
	case PayloadNone:
		return "none"
	case PayloadDomain:
		return "<domain>"
	case PayloadNetwork:
		return "<hookData><network/>"
	case PayloadNetworkPort:
		return "<hookData><network/><networkport/>"
	case PayloadNetworkDomain:
		return "<hookData><network/><domain/>"
	}
	return "unknown"
}

// Root returns the name of the root element libvirt writes for the payload, or "" for PayloadNone.
func (p Payload) Root() string {
	switch p {
	case PayloadDomain:
		return "domain"
	case PayloadNetwork, PayloadNetworkPort, PayloadNetworkDomain:
		return "hookData"
	}
	return ""
}

// Failure says what libvirt does when the hook fails (non-zero exit, signal or exec failure).
type Failure int

// The failure effects.
const (
	// Ignored: libvirt logs the failure and carries on.
	Ignored Failure = iota
	// Aborts: the operation (start, restore, migration, network start, port allocation...) is aborted.
	Aborts
	// Kills: something already running is killed or torn down (a started VM, a reconnected VM).
	Kills
	// ErrorsAfterApplying: the API call returns an error but the change has already been applied.
	ErrorsAfterApplying
	// NeverCalled: libvirt still documents the event but no code path calls it any more.
	NeverCalled
)

// String returns a short name for the failure effect.
func (f Failure) String() string {
	switch f {
	case Ignored:
		return "ignored"
	case Aborts:
		return "aborts"
	case Kills:
		return "kills"
	case ErrorsAfterApplying:
		return "errors-after-applying"
	case NeverCalled:
		return "never-called"
	}
	return "unknown"
}

// Spec describes one hook invocation: the argv libvirt passes, what stdin carries and what a failure does.
type Spec struct {
	Driver Driver
	// Op is argv[2], e.g. "prepare" or "port-created".
	Op string
	// SubOp is argv[3] as libvirt passes it: "begin", "end" or "-".
	SubOp string
	// Extra is argv[4] as libvirt passes it; "<reason>" stands for the release shutoff reason.
	Extra string
	// Object describes argv[1]: "<domain name>", "<network name>" or "-".
	Object  string
	Payload Payload
	// Filter is true when stdout replaces the XML (qemu/libxl migrate, qemu restore).
	Filter bool
	// Failure is what libvirt does when the hook fails; FailureText says it in a sentence.
	Failure     Failure
	FailureText string
	// Since is the libvirt version that added the invocation.
	Since string
	// Legacy marks invocations that current libvirt no longer makes.
	Legacy bool
	// When says, in a sentence, at which point libvirt makes the call.
	When string
}

// Key identifies an invocation by driver and op; the subop is implied by the op for every libvirt hook.
type Key struct {
	Driver Driver
	Op     string
}

// Key returns the spec's key.
func (s Spec) Key() Key { return Key{s.Driver, s.Op} }

// Table lists every hook invocation libvirt makes, grouped by driver in the order of Drivers.
var Table = []Spec{
	// daemon (remote_daemon.c)
	{Driver: Daemon, Op: "start", SubOp: "-", Extra: "start", Object: "-", Payload: PayloadNone,
		Failure: Ignored, FailureText: "ignored: the daemon starts anyway", Since: "0.8.0",
		When: "at daemon start, before the drivers and sockets exist"},
	{Driver: Daemon, Op: "shutdown", SubOp: "-", Extra: "shutdown", Object: "-", Payload: PayloadNone,
		Failure: Ignored, FailureText: "ignored: the daemon shuts down anyway", Since: "0.8.0",
		When: "when the daemon's event loop returns, before the drivers are cleaned up"},
	{Driver: Daemon, Op: "reload", SubOp: "begin", Extra: "SIGHUP", Object: "-", Payload: PayloadNone,
		Failure: Ignored, FailureText: "ignored: the reload still happens", Since: "0.8.0",
		When: "on SIGHUP; libvirt also re-checks which drivers have hooks"},

	// qemu (qemu_process.c, qemu_migration.c, qemu_driver.c)
	{Driver: QEMU, Op: "prepare", SubOp: "begin", Extra: "-", Object: "<domain name>", Payload: PayloadDomain,
		Failure: Aborts, FailureText: "the start is aborted; stopped and release hooks still run", Since: "0.9.0",
		When: "before resources are allocated for a starting VM"},
	{Driver: QEMU, Op: "start", SubOp: "begin", Extra: "-", Object: "<domain name>", Payload: PayloadDomain,
		Failure: Aborts, FailureText: "the start is aborted; stopped and release hooks still run", Since: "0.8.0",
		When: "after TAP devices are created, before QEMU is executed"},
	{Driver: QEMU, Op: "started", SubOp: "begin", Extra: "-", Object: "<domain name>", Payload: PayloadDomain,
		Failure: Kills, FailureText: "QEMU is killed; stopped and release hooks run", Since: "0.9.13",
		When: "after QEMU started, also on a migration destination in the Prepare phase (CPUs paused)"},
	{Driver: QEMU, Op: "stopped", SubOp: "end", Extra: "-", Object: "<domain name>", Payload: PayloadDomain,
		Failure: Ignored, FailureText: "ignored", Since: "0.8.0",
		When: "after QEMU stopped, before security labels are restored"},
	{Driver: QEMU, Op: "release", SubOp: "end", Extra: "<reason>", Object: "<domain name>", Payload: PayloadDomain,
		Failure: Ignored, FailureText: "ignored", Since: "0.9.0",
		When: "after all resources are released; extra is the shutoff reason since libvirt 10.5.0 (\"-\" before)"},
	{Driver: QEMU, Op: "migrate", SubOp: "begin", Extra: "-", Object: "<domain name>", Payload: PayloadDomain,
		Filter: true, Failure: Aborts, FailureText: "the incoming migration is cancelled", Since: "0.9.11",
		When: "on the destination, before the incoming migration is prepared; stdin carries secrets"},
	{Driver: QEMU, Op: "restore", SubOp: "begin", Extra: "-", Object: "<domain name>", Payload: PayloadDomain,
		Filter: true, Failure: Aborts, FailureText: "the restore is aborted", Since: "1.2.9",
		When: "before a saved or managed-saved VM is restored"},
	{Driver: QEMU, Op: "reconnect", SubOp: "begin", Extra: "-", Object: "<domain name>", Payload: PayloadDomain,
		Failure: Kills, FailureText: "the running VM is KILLED", Since: "0.9.13",
		When: "when the daemon restarts, once for each running VM"},
	{Driver: QEMU, Op: "attach", SubOp: "begin", Extra: "-", Object: "<domain name>", Payload: PayloadDomain,
		Failure: NeverCalled, FailureText: "none: current libvirt never makes this call", Since: "0.9.13", Legacy: true,
		When: "when an external QEMU process was attached (the API is gone from current libvirt)"},

	// lxc (lxc_process.c)
	{Driver: LXC, Op: "prepare", SubOp: "begin", Extra: "-", Object: "<domain name>", Payload: PayloadDomain,
		Failure: Aborts, FailureText: "the start is aborted; stopped and release hooks still run", Since: "0.9.13",
		When: "before resources are allocated for a starting container"},
	{Driver: LXC, Op: "start", SubOp: "begin", Extra: "-", Object: "<domain name>", Payload: PayloadDomain,
		Failure: Aborts, FailureText: "the start is aborted; stopped and release hooks still run", Since: "0.8.0",
		When: "before the container's init is started"},
	{Driver: LXC, Op: "started", SubOp: "begin", Extra: "-", Object: "<domain name>", Payload: PayloadDomain,
		Failure: Kills, FailureText: "the container is stopped; stopped and release hooks run", Since: "0.9.13",
		When: "after the container started"},
	{Driver: LXC, Op: "stopped", SubOp: "end", Extra: "-", Object: "<domain name>", Payload: PayloadDomain,
		Failure: Ignored, FailureText: "ignored", Since: "0.8.0",
		When: "after the container stopped; libvirt 9.0 was seen calling stopped and release twice (stopped, stopped, release, release) when a destroy raced with the container's exit, so keep both handlers idempotent"},
	{Driver: LXC, Op: "release", SubOp: "end", Extra: "<reason>", Object: "<domain name>", Payload: PayloadDomain,
		Failure: Ignored, FailureText: "ignored", Since: "0.9.13",
		When: "after all resources are released; extra is the shutoff reason since libvirt 10.5.0 (\"-\" before)"},
	{Driver: LXC, Op: "reconnect", SubOp: "begin", Extra: "-", Object: "<domain name>", Payload: PayloadDomain,
		Failure: Kills, FailureText: "the running container is STOPPED", Since: "0.9.13",
		When: "when the daemon restarts, once for each running container"},

	// network (bridge_driver.c)
	{Driver: Network, Op: "start", SubOp: "begin", Extra: "-", Object: "<network name>", Payload: PayloadNetwork,
		Failure: Aborts, FailureText: "the network start is aborted", Since: "1.2.2",
		When: "before the network's bridge is created"},
	{Driver: Network, Op: "started", SubOp: "begin", Extra: "-", Object: "<network name>", Payload: PayloadNetwork,
		Failure: Kills, FailureText: "the network is shut down again, with no stopped hook", Since: "1.2.2",
		When: "after the network started"},
	{Driver: Network, Op: "stopped", SubOp: "end", Extra: "-", Object: "<network name>", Payload: PayloadNetwork,
		Failure: Ignored, FailureText: "ignored", Since: "1.2.2",
		When: "after the network stopped"},
	{Driver: Network, Op: "port-created", SubOp: "begin", Extra: "-", Object: "<network name>", Payload: PayloadNetworkPort,
		Failure: Aborts, FailureText: "the port allocation fails, so the interface attach or the VM start fails", Since: "5.5.0",
		When: "when a VM's interface gets a port on the network; again for every existing port at daemon start (result ignored there)"},
	{Driver: Network, Op: "port-deleted", SubOp: "begin", Extra: "-", Object: "<network name>", Payload: PayloadNetworkPort,
		Failure: Ignored, FailureText: "ignored", Since: "5.5.0",
		When: "when a VM's port on the network is released"},
	{Driver: Network, Op: "updated", SubOp: "begin", Extra: "-", Object: "<network name>", Payload: PayloadNetwork,
		Failure: ErrorsAfterApplying, FailureText: "the update API returns an error, but the change is already applied", Since: "1.2.2",
		When: "after virNetworkUpdate changed a live or persistent definition"},
	{Driver: Network, Op: "plugged", SubOp: "begin", Extra: "-", Object: "<network name>", Payload: PayloadNetworkDomain,
		Failure: Aborts, FailureText: "the interface attach or the VM start fails", Since: "1.2.2", Legacy: true,
		When: "libvirt 1.2.2 to 5.4 only: a VM's interface was plugged into the network (now port-created)"},
	{Driver: Network, Op: "unplugged", SubOp: "begin", Extra: "-", Object: "<network name>", Payload: PayloadNetworkDomain,
		Failure: Ignored, FailureText: "ignored", Since: "1.2.2", Legacy: true,
		When: "libvirt 1.2.2 to 5.4 only: a VM's interface was unplugged from the network (now port-deleted)"},

	// libxl (libxl_domain.c, libxl_migration.c, libxl_driver.c)
	{Driver: Libxl, Op: "prepare", SubOp: "begin", Extra: "-", Object: "<domain name>", Payload: PayloadDomain,
		Failure: Aborts, FailureText: "the start is aborted, with no stopped or release hooks", Since: "2.1.0",
		When: "before resources are allocated for a starting VM"},
	{Driver: Libxl, Op: "start", SubOp: "begin", Extra: "-", Object: "<domain name>", Payload: PayloadDomain,
		Failure: Aborts, FailureText: "the start is aborted; stopped and release hooks run", Since: "2.1.0",
		When: "before the domain is started"},
	{Driver: Libxl, Op: "started", SubOp: "begin", Extra: "-", Object: "<domain name>", Payload: PayloadDomain,
		Failure: Kills, FailureText: "the domain is destroyed; stopped and release hooks run", Since: "2.1.0",
		When: "after the domain started"},
	{Driver: Libxl, Op: "stopped", SubOp: "end", Extra: "-", Object: "<domain name>", Payload: PayloadDomain,
		Failure: Ignored, FailureText: "ignored", Since: "2.1.0",
		When: "after the domain stopped"},
	{Driver: Libxl, Op: "release", SubOp: "end", Extra: "-", Object: "<domain name>", Payload: PayloadDomain,
		Failure: Ignored, FailureText: "ignored", Since: "2.1.0",
		When: "after all resources are released; extra stays \"-\" (no shutoff reason for libxl)"},
	{Driver: Libxl, Op: "migrate", SubOp: "begin", Extra: "-", Object: "<domain name>", Payload: PayloadDomain,
		Filter: true, Failure: Aborts, FailureText: "the incoming migration is aborted", Since: "2.1.0",
		When: "on the destination, before the incoming migration is prepared; stdin carries secrets; no ABI check"},
	{Driver: Libxl, Op: "reconnect", SubOp: "begin", Extra: "-", Object: "<domain name>", Payload: PayloadDomain,
		Failure: Kills, FailureText: "the running domain is cleaned up (KILLED)", Since: "2.1.0",
		When: "when the daemon restarts, once for each running domain except Domain-0"},

	// bhyve (bhyve_process.c)
	{Driver: Bhyve, Op: "prepare", SubOp: "begin", Extra: "-", Object: "<domain name>", Payload: PayloadDomain,
		Failure: Aborts, FailureText: "the start is aborted", Since: "6.1.0",
		When: "before resources are allocated for a starting VM"},
	{Driver: Bhyve, Op: "start", SubOp: "begin", Extra: "-", Object: "<domain name>", Payload: PayloadDomain,
		Failure: Aborts, FailureText: "the start is aborted, with no stopped or release hooks", Since: "6.1.0",
		When: "before bhyve is executed"},
	{Driver: Bhyve, Op: "started", SubOp: "begin", Extra: "-", Object: "<domain name>", Payload: PayloadDomain,
		Failure: Kills, FailureText: "the VM is destroyed, with no stopped or release hooks", Since: "6.1.0",
		When: "after bhyve started"},
	{Driver: Bhyve, Op: "stopped", SubOp: "end", Extra: "-", Object: "<domain name>", Payload: PayloadDomain,
		Failure: Ignored, FailureText: "ignored", Since: "6.1.0",
		When: "after the VM stopped"},
	{Driver: Bhyve, Op: "release", SubOp: "end", Extra: "-", Object: "<domain name>", Payload: PayloadDomain,
		Failure: Ignored, FailureText: "ignored", Since: "6.1.0",
		When: "after all resources are released"},
}

// Lookup returns the spec for driver d and op, or nil when libvirt makes no such call. It scans the
// table: a map built at package init cost every hook process about 40 us, more than a scan of 40 rows.
func Lookup(d Driver, op string) *Spec {
	for i := range Table {
		if Table[i].Driver == d && Table[i].Op == op {
			return &Table[i]
		}
	}
	return nil
}

// Ops returns the distinct ops of the table in first-seen order, restricted to drivers for which keep returns true.
func Ops(keep func(Driver) bool) []string {
	seen := map[string]bool{}
	var ops []string
	for _, s := range Table {
		if keep(s.Driver) && !seen[s.Op] {
			seen[s.Op] = true
			ops = append(ops, s.Op)
		}
	}
	return ops
}

// DriversFor returns, sorted in table order, the drivers whose hooks include op and for which keep returns true.
func DriversFor(op string, keep func(Driver) bool) []Driver {
	var ds []Driver
	for _, s := range Table {
		if s.Op == op && keep(s.Driver) {
			ds = append(ds, s.Driver)
		}
	}
	sort.SliceStable(ds, func(i, j int) bool { return driverIndex(ds[i]) < driverIndex(ds[j]) })
	return ds
}

func driverIndex(d Driver) int {
	for i, x := range Drivers {
		if x == d {
			return i
		}
	}
	return len(Drivers)
}

// ShutoffReason is the extra argument of the qemu and lxc release hook since libvirt 10.5.0:
// virDomainShutoffReasonTypeToString of the reason the VM stopped.
type ShutoffReason string

// The shutoff reasons libvirt passes. ReasonNone is "-": libvirt before 10.5.0, libxl and bhyve.
const (
	ReasonNone         ShutoffReason = ""
	ReasonUnknown      ShutoffReason = "unknown"
	ReasonShutdown     ShutoffReason = "shutdown"
	ReasonDestroyed    ShutoffReason = "destroyed"
	ReasonCrashed      ShutoffReason = "crashed"
	ReasonMigrated     ShutoffReason = "migrated"
	ReasonSaved        ShutoffReason = "saved"
	ReasonFailed       ShutoffReason = "failed"
	ReasonFromSnapshot ShutoffReason = "from snapshot"
	ReasonDaemon       ShutoffReason = "daemon"
)

// ShutoffReasons lists the reasons libvirt documents, in the order of virDomainShutoffReason.
var ShutoffReasons = []ShutoffReason{ReasonUnknown, ReasonShutdown, ReasonDestroyed, ReasonCrashed,
	ReasonMigrated, ReasonSaved, ReasonFailed, ReasonFromSnapshot, ReasonDaemon}

// Known reports whether r is one of the reasons libvirt documents (ReasonNone is not).
func (r ShutoffReason) Known() bool {
	for _, x := range ShutoffReasons {
		if x == r {
			return true
		}
	}
	return false
}

// GoName returns the spelling of the driver in hookkit's method names: QEMU, LXC, Libxl, Bhyve, Network,
// Daemon.
func (d Driver) GoName() string {
	switch d {
	case QEMU:
		return "QEMU"
	case LXC:
		return "LXC"
	case "":
		return ""
	}
	return strings.ToUpper(string(d[:1])) + string(d[1:])
}

// OpGoName returns the spelling of an op in hookkit's method names: "port-created" is PortCreated.
func OpGoName(op string) string {
	var b strings.Builder
	for _, p := range strings.Split(op, "-") {
		if p != "" {
			b.WriteString(strings.ToUpper(p[:1]) + p[1:])
		}
	}
	return b.String()
}

// MethodName returns the name of the hookkit.Router method that registers a handler for this driver's
// op alone, e.g. OnQEMUPrepare or OnNetworkPortCreated.
func (s Spec) MethodName() string { return "On" + s.Driver.GoName() + OpGoName(s.Op) }

// DomainMethodName returns the name of the hookkit.Router method that registers a handler for op on every
// domain driver that has it, e.g. OnDomainPrepare.
func DomainMethodName(op string) string { return "OnDomain" + OpGoName(op) }

// Join returns the names of ds separated by sep, for messages that list drivers.
func Join(ds []Driver, sep string) string {
	names := make([]string, len(ds))
	for i, d := range ds {
		names[i] = string(d)
	}
	return strings.Join(names, sep)
}
