package hookkit

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/hookkit-dev/hookkit/hookkit/event"
)

// Driver is a libvirt hook driver name; see package event for the constants.
type Driver = event.Driver

// ShutoffReason is the typed extra argument of the release hook; see package event for the constants.
type ShutoffReason = event.ShutoffReason

// Invocation is what libvirt says in argv: which script it ran and for which object, op and subop.
// libvirt passes "-" for a missing argument; Invocation holds "" for it.
type Invocation struct {
	// Program is argv[0] as libvirt passed it: the full path of the script.
	Program string
	// Driver is taken from the basename of Program, or from its parent directory when the hook is
	// installed as <driver>.d/<name>, unless an explicit driver was configured.
	Driver Driver
	// Object is argv[1]: the domain or network name ("" for daemon hooks).
	Object string
	// Op is argv[2], e.g. "prepare" or "port-created".
	Op string
	// SubOp is argv[3]: "begin", "end" or "".
	SubOp string
	// Extra is argv[4]: the release shutoff reason, the daemon's "start"/"shutdown"/"SIGHUP", or "".
	Extra string
	// Reason is Extra as a typed shutoff reason for release hooks, ReasonNone otherwise.
	Reason ShutoffReason
	// Spec is the event table row for Driver and Op, or nil when libvirt is not known to make this call.
	Spec *event.Spec
}

// ParseInvocation parses argv as libvirt builds it: argv[0] the script path, then object, op, subop and extra.
// driver overrides the driver derived from argv[0] when it is not empty. It fails only when argv is too short
// to be a libvirt call; an unknown driver or op is reported through Spec == nil.
func ParseInvocation(argv []string, driver Driver) (Invocation, error) {
	if len(argv) < 4 {
		return Invocation{}, fmt.Errorf("expected 4 arguments (<object> <op> <subop> <extra>), got %d", max(len(argv)-1, 0))
	}
	inv := Invocation{
		Program: argv[0],
		Object:  dash(argv[1]),
		Op:      dash(argv[2]),
		SubOp:   dash(argv[3]),
	}
	if len(argv) > 4 {
		inv.Extra = dash(argv[4])
	}
	inv.Driver = driver
	if inv.Driver == "" {
		inv.Driver = DriverFromPath(argv[0])
	}
	inv.Spec = event.Lookup(inv.Driver, inv.Op)
	if inv.Op == "release" {
		inv.Reason = ShutoffReason(inv.Extra)
	}
	return inv, nil
}

// DriverFromPath derives the hook driver from the path libvirt executed: the parent directory minus ".d"
// when the hook is installed as /etc/libvirt/hooks/qemu.d/10-name, else the basename when it names a driver
// (/etc/libvirt/hooks/qemu, or a symlink named qemu). The directory comes first: libvirt runs every entry of
// qemu.d for qemu calls, whatever its name, so qemu.d/network is a qemu hook. It returns "" when neither
// names a driver.
func DriverFromPath(path string) Driver {
	if dir := filepath.Base(filepath.Dir(path)); strings.HasSuffix(dir, ".d") {
		if d := Driver(strings.TrimSuffix(dir, ".d")); d.Valid() {
			return d
		}
	}
	if d := Driver(filepath.Base(path)); d.Valid() {
		return d
	}
	return ""
}

// String returns the invocation as "<driver> <object> <op> <subop>", with "-" for empty parts: the prefix of
// every error line hookkit writes.
func (inv Invocation) String() string {
	return fmt.Sprintf("%s %s %s %s", undash(string(inv.Driver)), undash(inv.Object), undash(inv.Op), undash(inv.SubOp))
}

// Filter reports whether libvirt reads the hook's stdout as the new XML for this invocation.
func (inv Invocation) Filter() bool { return inv.Spec != nil && inv.Spec.Filter }

func dash(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

func undash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
