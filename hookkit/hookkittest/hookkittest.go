// Package hookkittest runs hooks the way libvirt runs them, for tests: a Router in-process (as httptest
// runs an http.Handler), or a built hook binary as a subprocess with libvirt's argv, stdin, environment
// and working directory. Fixture returns real stdin captured from libvirtd for every event.
package hookkittest

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookkit-dev/hookkit/hookkit"
	"github.com/hookkit-dev/hookkit/hookkit/event"
)

// DefaultHooksDir is the directory libvirt runs hooks from; it only shapes argv[0] of in-process calls.
const DefaultHooksDir = "/etc/libvirt/hooks"

// Env is the environment libvirt gives a hook: LC_ALL=C plus the daemon's PATH and HOME.
var Env = []string{"LC_ALL=C", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"}

// Call describes one hook invocation as libvirt makes it. Build one with NewCall or Event.
type Call struct {
	Driver event.Driver
	// Object, Op, SubOp and Extra are argv[1..4]; "" is passed as "-", as libvirt does.
	Object, Op, SubOp, Extra string
	// Stdin is the payload; nil means /dev/null (daemon hooks).
	Stdin []byte
	// DName, when set, installs the hook as <driver>.d/<DName> instead of <driver>.
	DName string
	// HooksDir is the directory argv[0] points into (default DefaultHooksDir for Run, a temporary
	// directory for Exec).
	HooksDir string
}

// NewCall returns a call with the given argv and no stdin.
func NewCall(driver event.Driver, object, op, subop, extra string) Call {
	return Call{Driver: driver, Object: object, Op: op, SubOp: subop, Extra: extra}
}

// Event returns the call libvirt makes for driver and op, with the subop and extra from the event table,
// and Fixture(driver, op) on stdin. For release it passes extra "-" (libvirt before 10.5); use WithExtra
// for a shutoff reason. It panics when the table has no such event.
func Event(driver event.Driver, op string) Call {
	s := event.Lookup(driver, op)
	if s == nil {
		panic(fmt.Sprintf("hookkittest: libvirt makes no %s %s call", driver, op))
	}
	c := Call{Driver: driver, Op: op, SubOp: s.SubOp, Extra: s.Extra, Stdin: Fixture(driver, op)}
	if c.Extra == "<reason>" {
		c.Extra = "-"
	}
	c.Object = "-"
	if m := nameRE.FindSubmatch(c.Stdin); m != nil {
		c.Object = string(m[1])
	}
	return c
}

// WithStdin returns c with the given payload. argv is unchanged: call WithObject too when the payload
// names another domain or network (libvirt passes the name in both).
func (c Call) WithStdin(b []byte) Call { c.Stdin = b; return c }

// WithObject returns c with argv[1] set.
func (c Call) WithObject(o string) Call { c.Object = o; return c }

// WithExtra returns c with argv[4] set, e.g. a release shutoff reason such as "from snapshot".
func (c Call) WithExtra(x string) Call { c.Extra = x; return c }

// InDir returns c installed as <driver>.d/<name>.
func (c Call) InDir(name string) Call { c.DName = name; return c }

// Path returns argv[0]: <hooksdir>/<driver> or <hooksdir>/<driver>.d/<name>.
func (c Call) Path() string {
	dir := c.HooksDir
	if dir == "" {
		dir = DefaultHooksDir
	}
	if c.DName != "" {
		return filepath.Join(dir, string(c.Driver)+".d", c.DName)
	}
	return filepath.Join(dir, string(c.Driver))
}

// Args returns argv as libvirt builds it.
func (c Call) Args() []string {
	return []string{c.Path(), dash(c.Object), dash(c.Op), dash(c.SubOp), dash(c.Extra)}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Result is what a hook did: its exit status and everything it wrote.
type Result struct {
	Code   int
	Stdout string
	Stderr string
}

// Run invokes r in-process with c's argv and stdin, as Main would, and records the result.
func Run(r *hookkit.Router, c Call) Result {
	return RunContext(context.Background(), r, c)
}

// RunContext is Run with a context, e.g. one already cancelled to simulate SIGTERM.
func RunContext(ctx context.Context, r *hookkit.Router, c Call) Result {
	var stdout, stderr bytes.Buffer
	var stdin *bytes.Reader
	if c.Stdin != nil {
		stdin = bytes.NewReader(c.Stdin)
	} else {
		stdin = bytes.NewReader(nil)
	}
	code := r.Run(ctx, c.Args(), stdin, &stdout, &stderr)
	return Result{Code: code, Stdout: stdout.String(), Stderr: stderr.String()}
}

// ExecTimeout bounds a hook subprocess started by Exec, so that a hung hook fails the test instead of
// hanging it.
var ExecTimeout = 2 * time.Minute

// Exec runs the built hook binary as libvirt does: argv[0] is a symlink to binary named after the driver
// (or inside <driver>.d/) in a temporary hooks directory, the environment is exactly Env, the working
// directory is /, and stdin is c.Stdin (or /dev/null).
func Exec(t testing.TB, binary string, c Call) Result {
	t.Helper()
	abs, err := filepath.Abs(binary)
	if err != nil {
		t.Fatalf("hookkittest: %v", err)
	}
	if c.HooksDir == "" {
		c.HooksDir = t.TempDir()
	}
	link := c.Path()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatalf("hookkittest: %v", err)
	}
	if err := linkTo(abs, link); err != nil {
		t.Fatalf("hookkittest: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), ExecTimeout)
	defer cancel()
	args := c.Args()
	cmd := exec.CommandContext(ctx, link, args[1:]...)
	cmd.Env = Env
	cmd.Dir = "/"
	if c.Stdin != nil {
		cmd.Stdin = bytes.NewReader(c.Stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	if ctx.Err() != nil {
		t.Fatalf("hookkittest: %s did not exit within %v", strings.Join(args, " "), ExecTimeout)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		res.Code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("hookkittest: run %s: %v", link, err)
	}
	return res
}

// linkTo makes link a symlink to binary. A symlink already there (a HooksDir shared by several Exec
// calls) is replaced when it points elsewhere, so each call runs the binary it was given; anything else
// at link is refused rather than overwritten.
func linkTo(binary, link string) error {
	li, err := os.Lstat(link)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return os.Symlink(binary, link)
	case err != nil:
		return err
	case li.Mode()&os.ModeSymlink == 0:
		return fmt.Errorf("%s exists and is not a symlink: refusing to replace it", link)
	}
	if target, err := os.Readlink(link); err == nil && target == binary {
		return nil
	}
	tmp := fmt.Sprintf("%s.hookkittest-%d", link, os.Getpid())
	_ = os.Remove(tmp)
	if err := os.Symlink(binary, tmp); err != nil {
		return err
	}
	return os.Rename(tmp, link)
}

// Build compiles the main package pkg (an import path or a directory) into a temporary directory and
// returns the binary's path. buildFlags go to go build before the package, e.g. "-ldflags", "-X main.x=y".
func Build(t testing.TB, pkg string, buildFlags ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "hook")
	args := append(append([]string{"build", "-o", out}, buildFlags...), pkg)
	cmd := exec.Command("go", args...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hookkittest: go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

//go:embed testdata/hookstdin/*.xml
var fixtures embed.FS

// Fixture returns stdin as libvirt wrote it for driver and op. Where the capture exists (libvirtd 9.0:
// qemu, lxc, network and daemon events) it is returned as captured; for the other events it returns the
// capture of the nearest event: the lxc started capture for lxc reconnect, the qemu capture of the same op with the domain type set to the driver's
// (libxl: xen, bhyve: bhyve), qemu restore for migrate and attach, and a <hookData> of the network and
// qemu captures for the legacy plugged/unplugged. It returns nil for daemon events (stdin is /dev/null).
func Fixture(driver event.Driver, op string) []byte {
	s := event.Lookup(driver, op)
	if s == nil || s.Payload == event.PayloadNone {
		return nil
	}
	if b, err := fixtures.ReadFile("testdata/hookstdin/" + string(driver) + "-" + op + "-" + s.SubOp + ".xml"); err == nil {
		return b
	}
	switch s.Payload {
	case event.PayloadDomain:
		if driver == event.LXC { // the lxc capture has no reconnect: the started one is the same document
			return Fixture(event.LXC, "started")
		}
		src := op
		if op == "migrate" || op == "attach" {
			src = "restore"
		}
		b := Fixture(event.QEMU, src)
		typ := map[event.Driver]string{event.Libxl: "xen", event.Bhyve: "bhyve"}[driver]
		if typ != "" {
			b = bytes.Replace(b, []byte("<domain type='qemu'"), []byte("<domain type='"+typ+"'"), 1)
		}
		return b
	case event.PayloadNetworkDomain:
		net := Fixture(event.Network, "started")
		dom := Fixture(event.QEMU, "started")
		net = bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(net), []byte("</hookData>")))
		return append(append(append(net, '\n'), dom...), []byte("</hookData>\n")...)
	}
	return nil
}

// nameRE finds the first <name>, the domain's or the network's: libvirt's argv[1].
var nameRE = regexp.MustCompile(`<name>([^<]+)</name>`)
