// Package hardening proves, with built hook binaries run as libvirt runs them, what a hookkit hook
// survives: 200 concurrent processes against one audit file (load), and an unavailable or stuck log sink,
// an unwritable lock directory, a handler that ignores its deadline and detached work that outlives its
// hook (faults). It holds only tests and the hook programs they build (testdata/); docs/hardening.md
// gives the figures they measure.
package hardening

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/hookkit/hookkittest"
)

// hangBound is how long one hook call may take before the test calls it hung. It is a hang check, not a
// timing assertion: every call here answers in milliseconds to about a second on an idle machine, and the
// bound leaves room for a loaded 2-core CI machine.
const hangBound = 10 * time.Second

// binDir holds the binaries shared by the tests of this package (see shared).
var binDir string

func TestMain(m *testing.M) {
	var err error
	if binDir, err = os.MkdirTemp("", "hardening-bin-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// A hung hook fails the test within the hang bound instead of after Exec's default two minutes.
	hookkittest.ExecTimeout = 3 * hangBound
	code := m.Run()
	os.RemoveAll(binDir)
	os.Exit(code)
}

var (
	sharedMu sync.Mutex
	sharedBy = map[string]string{}
)

// shared builds the main package pkg once for the whole test binary with hookkittest.Build, with each
// vars entry set by -ldflags "-X main.<key>=<value>", and returns the binary's path.
func shared(t *testing.T, pkg string, vars ...string) string {
	t.Helper()
	key := pkg + " " + strings.Join(vars, " ")
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if p, ok := sharedBy[key]; ok {
		return p
	}
	bin := build(t, pkg, vars...)
	p := filepath.Join(binDir, fmt.Sprintf("bin%d-%s", len(sharedBy), filepath.Base(pkg)))
	require.NoError(t, os.Rename(bin, p))
	sharedBy[key] = p
	return p
}

// build compiles pkg with hookkittest.Build, vars being key=value pairs for -ldflags "-X main.key=value".
func build(t *testing.T, pkg string, vars ...string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds hook binaries")
	}
	var ld []string
	for _, v := range vars {
		ld = append(ld, "-X", "main."+v)
	}
	if len(ld) == 0 {
		return hookkittest.Build(t, pkg)
	}
	return hookkittest.Build(t, pkg, "-ldflags", strings.Join(ld, " "))
}

// hookrun returns the wrapper of testdata/hookrun.
func hookrun(t *testing.T) string { return shared(t, "./testdata/hookrun") }

// install makes c.Path() (under c.HooksDir) a symlink to bin, as an installed hook is.
func install(t *testing.T, bin string, c hookkittest.Call) {
	t.Helper()
	require.NotEmpty(t, c.HooksDir)
	link := c.Path()
	if _, err := os.Lstat(link); err == nil {
		return
	}
	require.NoError(t, os.MkdirAll(filepath.Dir(link), 0o755))
	require.NoError(t, os.Symlink(bin, link))
}

// hookCmd returns the command that runs the hook installed for c through hookrun with opts, as libvirt
// runs it: argv[0] the installed path, libvirt's cleared environment, cwd /, c.Stdin on stdin.
func hookCmd(t *testing.T, opts []string, c hookkittest.Call) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	args := append(append(append([]string{}, opts...), "--"), c.Args()...)
	cmd := exec.Command(hookrun(t), args...)
	cmd.Env, cmd.Dir = hookkittest.Env, "/"
	if c.Stdin != nil {
		cmd.Stdin = bytes.NewReader(c.Stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// A leaked descriptor must not hold the test past the hang bound: the tests that check for leaks
	// (TestFaultDetachedChild) use hookkittest.Exec.
	cmd.WaitDelay = time.Second
	return cmd, &stdout, &stderr
}

// runIn runs the hook bin for c through hookrun with opts, in a private mount namespace when ns is set,
// and returns what libvirt would see and how long the call took. It fails the test when the call takes
// longer than hangBound.
func runIn(t *testing.T, ns bool, opts []string, bin string, c hookkittest.Call) (hookkittest.Result, time.Duration) {
	t.Helper()
	if c.HooksDir == "" {
		c.HooksDir = t.TempDir()
	}
	install(t, bin, c)
	cmd, stdout, stderr := hookCmd(t, opts, c)
	if ns {
		cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	}
	begin := time.Now()
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(hangBound):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%s did not answer within %s (stderr %q)", strings.Join(c.Args(), " "), hangBound, stderr)
	}
	took := time.Since(begin)
	code := cmd.ProcessState.ExitCode()
	require.NotEqual(t, 125, code, "hookrun could not start the hook: %s", stderr)
	return hookkittest.Result{Code: code, Stdout: stdout.String(), Stderr: stderr.String()}, took
}

var (
	unshareOnce sync.Once
	unshareErr  error
)

// needNamespace skips the test when this machine cannot give a process a private mount namespace (not
// root, or no CAP_SYS_ADMIN in a container).
func needNamespace(t *testing.T) {
	t.Helper()
	unshareOnce.Do(func() {
		cmd := exec.Command("/bin/sh", "-c", "exit 0")
		cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
		unshareErr = cmd.Run()
	})
	if unshareErr != nil {
		t.Skipf("needs a private mount namespace (root with CAP_SYS_ADMIN, as in CI): unshare(CLONE_NEWNS): %v", unshareErr)
	}
}

// The identity of the domain in every qemu capture of hookkittest.Fixture, and of the port and its
// owner in the network port capture.
const (
	fixtureName      = "hooktest"
	fixtureUUID      = "c1f222e6-4bae-4717-be4a-f8eaa33cd9ff"
	fixturePort      = "fbcedb06-523f-45ab-a490-287c5e9e24bf"
	fixtureOwner     = "hooktest-net"
	fixtureOwnerUUID = "ae77e974-8cd8-45d5-b11f-8ff5bba678ca"
)

// domain is one generated domain: a name, a UUID and, for port events, the UUID of its port.
type domain struct {
	Name, UUID, Port string
}

// newDomain returns the i-th generated domain.
func newDomain(prefix string, i int) domain {
	return domain{
		Name: fmt.Sprintf("%s-%03d", prefix, i),
		UUID: fmt.Sprintf("%s%012x", fixtureUUID[:24], i),
		Port: fmt.Sprintf("%s%012x", fixturePort[:24], i),
	}
}

// call returns libvirt's call for driver and op on d: the real capture with d's name and UUID (for a
// network port event, the port's UUID and its owner's name and UUID) in stdin, and d's name in argv
// (for a network event, the network's name).
func (d domain) call(t *testing.T, driver event.Driver, op string) hookkittest.Call {
	t.Helper()
	c := hookkittest.Event(driver, op)
	in := string(c.Stdin)
	replace := func(old, new string) {
		require.Equal(t, 1, strings.Count(in, old), "%s %s capture: %s", driver, op, old)
		in = strings.Replace(in, old, new, 1)
	}
	if driver == event.Network {
		replace("<uuid>"+fixturePort+"</uuid>", "<uuid>"+d.Port+"</uuid>")
		replace("<name>"+fixtureOwner+"</name>", "<name>"+d.Name+"</name>")
		replace("<uuid>"+fixtureOwnerUUID+"</uuid>", "<uuid>"+d.UUID+"</uuid>")
		return c.WithStdin([]byte(in))
	}
	replace("<name>"+fixtureName+"</name>", "<name>"+d.Name+"</name>")
	replace("<uuid>"+fixtureUUID+"</uuid>", "<uuid>"+d.UUID+"</uuid>")
	return c.WithStdin([]byte(in)).WithObject(d.Name)
}

// waitFor polls until path exists, failing the test after hangBound.
func waitFor(t *testing.T, path string) {
	t.Helper()
	limit := time.Now().Add(hangBound)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(limit) {
			t.Fatalf("%s did not appear within %s", path, hangBound)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
