package simulate

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hook writes a shell script hook (tests only; hookkit itself never runs a shell) and returns a runner for it.
func hook(t *testing.T, body string, o Options) *Runner {
	t.Helper()
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	path := filepath.Join(t.TempDir(), "hook.sh")
	require.NoError(t, os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755))
	o.Binary = path
	if o.Env == nil {
		o.Env = []string{"LC_ALL=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"}
	}
	r, err := New(o)
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	return r
}

func TestRunAsLibvirt(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	r := hook(t, `{ echo "$0|$1|$2|$3|$4|$#"; tr '\0' '\n' </proc/$$/environ; pwd; cat; } >`+out+"\n", Options{})
	_, input := Sample(event.QEMU, "prepare")
	res, err := r.Run(context.Background(), Call{Driver: event.QEMU, Object: "hooktest", Op: "prepare", SubOp: "begin", Extra: "-", Input: input})
	require.NoError(t, err)
	require.False(t, res.Failed(), "%s", res.Stderr)
	raw, err := os.ReadFile(out)
	require.NoError(t, err)
	lines := strings.SplitN(string(raw), "\n", 6)
	assert.Equal(t, filepath.Join(r.tmp, "qemu")+"|hooktest|prepare|begin|-|4", lines[0])
	assert.Equal(t, []string{"LC_ALL=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"}, lines[1:4])
	assert.Equal(t, "/", lines[4])
	assert.Equal(t, string(input), lines[5])
	assert.Equal(t, "/etc/libvirt/hooks/qemu", res.Display)
}

func TestRunAsD(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	r := hook(t, `echo "$0" >`+out+"; cat >>"+out+"\n", Options{AsD: "10-audit", HooksDir: "/var/lib/libvirt/hooks"})
	res, err := r.Run(context.Background(), Call{Driver: event.Daemon, Object: "-", Op: "reload", SubOp: "begin", Extra: "SIGHUP"})
	require.NoError(t, err)
	require.False(t, res.Failed())
	raw, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(r.tmp, "daemon.d", "10-audit")+"\n", string(raw), "stdin must be /dev/null")
	assert.Equal(t, "/var/lib/libvirt/hooks/daemon.d/10-audit", res.Display)
}

func TestLibvirtError(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{"exit", "echo 'myhook: qemu vm1 prepare begin: no owner' >&2; exit 3\n",
			"Hook script execution failed: internal error: Child process (LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root /etc/libvirt/hooks/qemu vm1 release end 'from snapshot') unexpected exit status 3: myhook: qemu vm1 prepare begin: no owner"},
		{"silent", "exit 1\n",
			"Hook script execution failed: internal error: Child process (LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root /etc/libvirt/hooks/qemu vm1 release end 'from snapshot') unexpected exit status 1"},
		{"signal", "kill -9 $$\n",
			"Hook script execution failed: internal error: Child process (LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root /etc/libvirt/hooks/qemu vm1 release end 'from snapshot') unexpected fatal signal 9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := hook(t, tt.body, Options{})
			res, err := r.Run(context.Background(), Call{Driver: event.QEMU, Object: "vm1", Op: "release", SubOp: "end", Extra: "from snapshot", Input: []byte("<domain/>\n")})
			require.NoError(t, err)
			assert.True(t, res.Failed())
			assert.Equal(t, tt.want, res.LibvirtError())
			assert.Equal(t, "ignored", res.Effect())
		})
	}
}

// TestExecFailure checks the messages real libvirtd 9.0 gives when exec fails (verified by hand, see
// docs/cli.md).
func TestExecFailure(t *testing.T) {
	tests := []struct {
		content string
		code    int
		errText string
	}{
		{"echo no shebang\n", 126, "Exec format error"},
		{"#!/no/such/interp\n", 127, "No such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.errText, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "hook")
			require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o755))
			r, err := New(Options{Binary: path, Env: []string{"LC_ALL=C"}})
			require.NoError(t, err)
			defer r.Close()
			res, err := r.Run(context.Background(), Call{Driver: event.QEMU, Object: "vm1", Op: "prepare", SubOp: "begin", Extra: "-", Input: []byte("<domain/>")})
			require.NoError(t, err)
			assert.Equal(t, tt.code, res.ExitCode)
			assert.Equal(t, fmt.Sprintf("Hook script execution failed: internal error: Child process (LC_ALL=C /etc/libvirt/hooks/qemu vm1 prepare begin -) unexpected exit status %d: libvirt:  error : cannot execute binary /etc/libvirt/hooks/qemu: %s", tt.code, tt.errText), res.LibvirtError())
			assert.Equal(t, "the start is aborted; stopped and release hooks still run", res.Effect())
		})
	}
}

func TestHungAndHeldOpen(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		timedOut bool
		held     bool
	}{
		{"hung", "sleep 10\n", true, false},
		{"background child keeps stdout", "sleep 10 &\nexit 0\n", false, true},
		{"background child detached properly", "sleep 10 >/dev/null 2>&1 &\nexit 0\n", false, false},
		// os/exec reports ErrWaitDelay only after a zero exit status: a failing hook whose child holds the
		// pipes was reported as hung, and the child was left running.
		{"background child keeps stdout, hook fails", "sleep 10 &\necho $! > \"$HOOKKIT_TEST_PIDFILE\"\nexit 1\n", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "child.pid")
			r := hook(t, tt.body, Options{Timeout: 300 * time.Millisecond, Env: []string{"HOOKKIT_TEST_PIDFILE=" + pidFile}})
			res, err := r.Run(context.Background(), Call{Driver: event.Daemon, Object: "-", Op: "start", SubOp: "-", Extra: "start"})
			require.NoError(t, err)
			assert.Equal(t, tt.timedOut, res.TimedOut)
			assert.Equal(t, tt.held, res.HeldOpen)
			assert.Equal(t, tt.timedOut || tt.held, res.Failed())
			if res.Failed() {
				assert.Contains(t, res.LibvirtError(), "would still be")
			}
			if b, err := os.ReadFile(pidFile); err == nil {
				pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
				require.NoError(t, err)
				assert.Eventually(t, func() bool {
					st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
					return err != nil || strings.Contains(string(st), ") Z ")
				}, 5*time.Second, 20*time.Millisecond, "the child holding the pipes is killed")
			}
		})
	}
}

func TestFilterReport(t *testing.T) {
	r := hook(t, `sed 's|<memory unit=.KiB.>65536</memory>|<memory unit="KiB">131072</memory>|'`+"\n", Options{})
	name, input := Sample(event.QEMU, "restore")
	require.Equal(t, "qemu-restore-begin.xml", name)
	res, err := r.Run(context.Background(), Call{Driver: event.QEMU, Object: "hooktest", Op: "restore", SubOp: "begin", Extra: "-", Input: input, InputName: name})
	require.NoError(t, err)
	require.False(t, res.Failed())
	assert.Contains(t, string(res.Output()), `<memory unit="KiB">131072</memory>`)
	var buf bytes.Buffer
	res.Report(&buf, "")
	report := buf.String()
	assert.Contains(t, report, "output: replaces the XML; diff:")
	assert.Contains(t, report, "  -  <memory unit='KiB'>65536</memory>\n  +  <memory unit=\"KiB\">131072</memory>\n")
	assert.Contains(t, report, "result: ok (exit status 0")

	r = hook(t, "echo not xml\n", Options{})
	res, err = r.Run(context.Background(), Call{Driver: event.QEMU, Object: "hooktest", Op: "migrate", SubOp: "begin", Extra: "-", Input: input})
	require.NoError(t, err)
	buf.Reset()
	res.Report(&buf, "")
	assert.Contains(t, buf.String(), "not well-formed XML")
	// libvirt aborts the operation on output it cannot parse: the call failed, whatever its exit status.
	assert.True(t, res.Failed())
	assert.Contains(t, res.OutputRejected, "not well-formed XML")
	assert.Contains(t, buf.String(), "result: FAILED (exit status 0, but libvirt rejects its output")
	assert.Equal(t, input, res.Output(), "nothing of the rejected output goes on")

	r = hook(t, "cat >/dev/null\n", Options{})
	res, err = r.Run(context.Background(), Call{Driver: event.QEMU, Object: "hooktest", Op: "restore", SubOp: "begin", Extra: "-", Input: input})
	require.NoError(t, err)
	buf.Reset()
	res.Report(&buf, "")
	assert.Contains(t, buf.String(), "output: empty: libvirt keeps the input XML unchanged")
	assert.Equal(t, input, res.Output())
}

// ops lists the "<driver> <op> <extra>" of each step.
func ops(s *SequenceResult) []string {
	var out []string
	for _, r := range s.Steps {
		out = append(out, string(r.Call.Driver)+" "+r.Call.Op+" "+r.Call.Extra)
	}
	return out
}

func TestSequences(t *testing.T) {
	tests := []struct {
		name    string
		seq     string
		driver  event.Driver
		body    string
		steps   []string
		outcome string
		failed  bool
	}{
		{"start ok", "start", "", "exit 0\n",
			[]string{"qemu prepare -", "qemu start -", "qemu started -"}, "started", false},
		{"prepare fails", "start", "", `[ "$2" = prepare ] && exit 1; exit 0` + "\n",
			[]string{"qemu prepare -", "qemu stopped -", "qemu release failed"}, "start aborted at prepare", true},
		{"started fails on lxc", "start", event.LXC, `[ "$2" = started ] && exit 1; exit 0` + "\n",
			[]string{"lxc prepare -", "lxc start -", "lxc started -", "lxc stopped -", "lxc release failed"}, "start failed at started: the VM was killed again", true},
		{"libxl prepare fails: no stop hooks", "start", event.Libxl, `[ "$2" = prepare ] && exit 1; exit 0` + "\n",
			[]string{"libxl prepare -"}, "start aborted at prepare", true},
		{"bhyve start fails: no stop hooks", "start", event.Bhyve, `[ "$2" = start ] && exit 1; exit 0` + "\n",
			[]string{"bhyve prepare -", "bhyve start -"}, "start aborted at start", true},
		{"destroy continues after failures", "destroy", "", "exit 1\n",
			[]string{"qemu stopped -", "qemu release destroyed"}, "destroyed", true},
		{"shutdown", "shutdown", "", "exit 0\n",
			[]string{"qemu stopped -", "qemu release shutdown"}, "shutdown", false},
		{"save", "save", "", "exit 0\n",
			[]string{"qemu stopped -", "qemu release saved"}, "saved", false},
		{"migrate-out continues after failures", "migrate-out", "", "exit 1\n",
			[]string{"qemu stopped -", "qemu release migrated"}, "migrated", true},
		{"reconnect", "reconnect", "", "exit 0\n",
			[]string{"qemu reconnect -"}, "reconnected", false},
		{"reconnect fails: qemu kills the VM", "reconnect", "", `[ "$2" = reconnect ] && exit 1; exit 0` + "\n",
			[]string{"qemu reconnect -", "qemu stopped -", "qemu release daemon"}, "reconnect failed: libvirt killed the running VM", true},
		{"reconnect fails on lxc", "reconnect", event.LXC, `[ "$2" = reconnect ] && exit 1; exit 0` + "\n",
			[]string{"lxc reconnect -", "lxc stopped -", "lxc release failed"}, "reconnect failed: libvirt killed the running VM", true},
		{"reconnect fails on libxl", "reconnect", event.Libxl, `[ "$2" = reconnect ] && exit 1; exit 0` + "\n",
			[]string{"libxl reconnect -", "libxl stopped -", "libxl release -"}, "reconnect failed: libvirt killed the running VM", true},
		{"restore fails", "restore", "", "exit 1\n",
			[]string{"qemu restore -"}, "restore aborted", true},
		{"migrate", "migrate", "", "exit 0\n",
			[]string{"qemu migrate -", "qemu prepare -", "qemu start -", "qemu started -"}, "migrated and started", false},
		{"net-start started fails", "net-start", "", `[ "$2" = started ] && exit 1; exit 0` + "\n",
			[]string{"network start -", "network started -"}, "network shut down again (libvirt runs no stopped hook here)", true},
		{"port", "port", "", "exit 0\n",
			[]string{"network port-created -", "network port-deleted -"}, "port created and deleted", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := hook(t, tt.body, Options{})
			seq := LookupSequence(tt.seq)
			require.NotNil(t, seq)
			res, err := r.PlaySequence(context.Background(), seq, SequenceOptions{Driver: tt.driver})
			require.NoError(t, err)
			assert.Equal(t, tt.steps, ops(res))
			assert.Equal(t, tt.outcome, res.Outcome)
			assert.Equal(t, tt.failed, res.Failed())
		})
	}
}

func TestRestoreFeedsFilteredXML(t *testing.T) {
	out := filepath.Join(t.TempDir(), "seen")
	r := hook(t, `if [ "$2" = restore ]; then sed 's|</name>|</name><title>restored</title>|'; else grep -c '<title>restored</title>' >>`+out+"; fi\n", Options{})
	res, err := r.PlaySequence(context.Background(), LookupSequence("restore"), SequenceOptions{})
	require.NoError(t, err)
	require.False(t, res.Failed())
	raw, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, "1\n1\n1\n", string(raw), "prepare, start and started get the filtered XML")
	assert.Equal(t, "the XML after the restore filter", res.Steps[1].Call.InputName)
}

func TestSequenceWrongDriver(t *testing.T) {
	r := hook(t, "exit 0\n", Options{})
	_, err := r.PlaySequence(context.Background(), LookupSequence("restore"), SequenceOptions{Driver: event.LXC})
	require.ErrorContains(t, err, "libvirt has no restore sequence for driver lxc (only qemu)")
	_, err = r.PlaySequence(context.Background(), LookupSequence("reconnect"), SequenceOptions{Driver: event.Bhyve})
	require.ErrorContains(t, err, "libvirt has no reconnect sequence for driver bhyve (only qemu, lxc, libxl)")
}

func TestSampleForEveryCall(t *testing.T) {
	for _, s := range event.Table {
		name, data := Sample(s.Driver, s.Op)
		if s.Payload == event.PayloadNone {
			assert.Nil(t, data, "%s %s", s.Driver, s.Op)
			continue
		}
		require.NotEmpty(t, data, "%s %s", s.Driver, s.Op)
		assert.True(t, bytes.HasPrefix(bytes.TrimSpace(data), []byte("<"+s.Payload.Root())), "%s %s: %s", s.Driver, s.Op, name)
		assert.NotEmpty(t, ObjectName(data), "%s %s: %s", s.Driver, s.Op, name)
	}
}

func TestObjectNameAndQuote(t *testing.T) {
	assert.Equal(t, "web1", ObjectName([]byte("<domain><uuid>x</uuid><name> web1 </name></domain>")))
	assert.Equal(t, "net", ObjectName([]byte("<hookData><network><name>net</name></network><networkport><owner><name>vm</name></owner></networkport></hookData>")))
	assert.Equal(t, "", ObjectName([]byte("<domain><devices><name>x</name></devices></domain>")))
	assert.Equal(t, "plain-1.0/x_y:z", ShellQuote("plain-1.0/x_y:z"))
	assert.Equal(t, "'from snapshot'", ShellQuote("from snapshot"))
	assert.Equal(t, `'it'\''s'`, ShellQuote("it's"))
	assert.Equal(t, "''", ShellQuote(""))
}

func TestSamplesMatchSharedFixtures(t *testing.T) {
	shared := filepath.Join("..", "..", "..", "shared", "fixtures", "hookstdin")
	entries, err := os.ReadDir(shared)
	if err != nil {
		t.Skip("shared fixtures not available:", err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".xml") || strings.HasPrefix(e.Name(), "daemon-") {
			continue
		}
		want, err := os.ReadFile(filepath.Join(shared, e.Name()))
		require.NoError(t, err)
		got, err := samples.ReadFile("testdata/embedded/" + e.Name())
		require.NoError(t, err, "embedded copy of %s missing", e.Name())
		assert.Equal(t, string(want), string(got), "embedded copy of %s is stale", e.Name())
	}
}

const twoNICs = `<domain type='kvm'>
  <name>web1</name>
  <uuid>11111111-2222-3333-4444-555555555555</uuid>
  <devices>
    <interface type='network'>
      <mac address='52:54:00:aa:00:01'/>
      <source network='default' portid='5d744f21-ba4a-4d6e-bdb2-30a35ff3207d' bridge='virbr0'/>
    </interface>
    <interface type='bridge'><source bridge='br0'/></interface>
    <interface type='network'>
      <mac address='52:54:00:aa:00:02'/>
      <source network='isolated'/>
    </interface>
  </devices>
</domain>
`

// calls lists "<driver> <object> <op> <extra>" per step.
func calls(s *SequenceResult) []string {
	var out []string
	for _, r := range s.Steps {
		out = append(out, strings.Join([]string{string(r.Call.Driver), r.Call.Object, r.Call.Op, r.Call.Extra}, " "))
	}
	return out
}

func TestSequencesWithNetworkPorts(t *testing.T) {
	tests := []struct {
		name    string
		seq     string
		body    string
		calls   []string
		outcome string
	}{
		{"start", "start", "exit 0\n", []string{
			"qemu web1 prepare -", "network default port-created -", "network isolated port-created -",
			"qemu web1 start -", "qemu web1 started -"}, "started"},
		{"second port refused", "start", `[ "$1" = isolated ] && exit 1; exit 0` + "\n", []string{
			"qemu web1 prepare -", "network default port-created -", "network isolated port-created -",
			"qemu web1 stopped -", "network default port-deleted -", "qemu web1 release failed"},
			"start aborted at port-created (network isolated)"},
		{"destroy", "destroy", "exit 0\n", []string{
			"qemu web1 stopped -", "network default port-deleted -", "network isolated port-deleted -",
			"qemu web1 release destroyed"}, "destroyed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := hook(t, tt.body, Options{})
			res, err := r.PlaySequence(context.Background(), LookupSequence(tt.seq),
				SequenceOptions{Doc: []byte(twoNICs), DocName: "web1.xml", NetPorts: true})
			require.NoError(t, err)
			assert.Equal(t, tt.calls, calls(res))
			assert.Equal(t, tt.outcome, res.Outcome)
		})
	}

	r := hook(t, "exit 0\n", Options{})
	res, err := r.PlaySequence(context.Background(), LookupSequence("start"), SequenceOptions{Doc: []byte(twoNICs), NetPorts: true})
	require.NoError(t, err)
	port := res.Steps[1].Call.Input
	assert.Equal(t, "default", ObjectName(port))
	for _, want := range []string{"<uuid>5d744f21-ba4a-4d6e-bdb2-30a35ff3207d</uuid>", "<name>web1</name>",
		"<uuid>11111111-2222-3333-4444-555555555555</uuid>", "<mac address='52:54:00:aa:00:01'/>", "<plug type='network' bridge='virbr0'/>"} {
		assert.Contains(t, string(port), want)
	}
	assert.Empty(t, checkOutput([]byte("<hookData/>"), port), "the port payload is well-formed <hookData>")

	_, err = r.PlaySequence(context.Background(), LookupSequence("start"), SequenceOptions{NetPorts: true})
	require.ErrorContains(t, err, "no <interface type='network'>")
	_, err = r.PlaySequence(context.Background(), LookupSequence("port"), SequenceOptions{NetPorts: true})
	require.ErrorContains(t, err, "--net-ports goes with the domain sequences")
}
