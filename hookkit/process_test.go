package hookkit_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/hookkit/hookkittest"
)

// TestProcessContract runs a built hook binary exactly as libvirt does and checks what libvirt would see.
func TestProcessContract(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a hook binary")
	}
	bin := hookkittest.Build(t, "./testdata/contracthook")
	prepare := hookkittest.Event(event.QEMU, "prepare")
	restore := hookkittest.Event(event.QEMU, "restore")
	withName := func(c hookkittest.Call, name string) hookkittest.Call {
		return c.WithObject(name).WithStdin(bytes.Replace(c.Stdin, []byte("<name>hooktest</name>"), []byte("<name>"+name+"</name>"), 1))
	}
	cases := []struct {
		name       string
		call       hookkittest.Call
		wantCode   int
		wantStderr string
		wantStdout string
	}{
		{"success", withName(prepare, "ok"), 0, "", ""},
		{"error", withName(prepare, "fail"), 1, "qemu: qemu fail prepare begin: refused by policy\n", ""},
		{"panic: one line, no stack", withName(prepare, "panic"), 1, "qemu: qemu panic prepare begin: panic: assignment to entry in nil map\n", ""},
		{"panic in a function started by Call.Go: one line, no stack", withName(prepare, "gopanic"), 1, "qemu: qemu gopanic prepare begin: panic: assignment to entry in nil map\n", ""},
		{"runtime.Goexit: answered at once", withName(prepare, "goexit"), 1, "qemu: qemu goexit prepare begin: handler called runtime.Goexit instead of returning (t.FailNow and require.* do; in a hook, return an error)\n", ""},
		{"the handler's own stderr lines come first (log.Printf)", withName(prepare, "logprintf"), 1, "debug: checking logprintf\nqemu: qemu logprintf prepare begin: refused by policy\n", ""},
		{"programs a handler runs get SIGPIPE's default action", withName(prepare, "sigpipe"), 1, "qemu: qemu sigpipe prepare begin: SIGPIPE ignored in a child: false\n", ""},
		{"a nil pointer returned as an error: one line, no stack", withName(prepare, "typednil"), 1, "qemu: qemu typednil prepare begin: the handler's error value panicked in its Error method (a nil pointer returned as an error?): runtime error: invalid memory address or nil pointer dereference\n", ""},
		{"deadline, handler honours its context: the deadline's line", withName(prepare, "honours"), 1, "qemu: qemu honours prepare begin: timed out after 2s\n", ""},
		{"deadline", withName(prepare, "hang"), 1, "qemu: qemu hang prepare begin: timed out after 2s\n", ""},
		{"installed in qemu.d", withName(prepare, "fail").InDir("10-policy"), 1, "10-policy: qemu fail prepare begin: refused by policy\n", ""},
		{"filter output", withName(restore, "filter"), 0, "", ""},
		{"no args", hookkittest.Call{Driver: event.QEMU}, 2, "*usage: hook <object> <op> <subop> [<extra>]", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var res hookkittest.Result
			if tc.name == "no args" {
				cmd := exec.Command(bin)
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				err := cmd.Run()
				var ee *exec.ExitError
				require.ErrorAs(t, err, &ee)
				res = hookkittest.Result{Code: ee.ExitCode(), Stderr: stderr.String()}
			} else {
				res = hookkittest.Exec(t, bin, tc.call)
			}
			assert.Equal(t, tc.wantCode, res.Code, "stderr: %s", res.Stderr)
			assert.NotContains(t, res.Stderr, "goroutine ", "a Go stack trace reached libvirt")
			if p, ok := strings.CutPrefix(tc.wantStderr, "*"); ok {
				assert.Contains(t, res.Stderr, p)
			} else {
				assert.Equal(t, tc.wantStderr, res.Stderr)
			}
			if tc.name == "filter output" {
				assert.Contains(t, res.Stdout, "<name>filtered</name>")
				assert.True(t, strings.HasPrefix(res.Stdout, "<domain"))
			} else {
				assert.Equal(t, tc.wantStdout, res.Stdout)
			}
		})
	}

	// The documented limit of the contract: a panic on a goroutine started with the go statement ends the
	// process inside the Go runtime (exit 2, Go's own message and stack). Call.Go is the way around it.
	t.Run("panic in a go statement's goroutine: the runtime's exit 2", func(t *testing.T) {
		res := hookkittest.Exec(t, bin, withName(prepare, "rawgo"))
		assert.Equal(t, 2, res.Code)
		assert.True(t, strings.HasPrefix(res.Stderr, "panic: assignment to entry in nil map"), res.Stderr)
		assert.Contains(t, res.Stderr, "goroutine ")
	})

	// libvirt parses a filter's whole stdout as the new XML: what a handler or a program it starts prints
	// there must not reach libvirt. Only the document does, or nothing when no handler replaced it.
	t.Run("a filter's stray stdout never reaches libvirt", func(t *testing.T) {
		res := hookkittest.Exec(t, bin, withName(restore, "noisy"))
		require.Equal(t, 0, res.Code, res.Stderr)
		assert.True(t, strings.HasPrefix(res.Stdout, "<domain"), "stdout starts with %.40q", res.Stdout)
		assert.Contains(t, res.Stdout, "<name>quiet</name>")
		assert.NotContains(t, res.Stdout, "noise")
		assert.NotContains(t, res.Stdout, "debug:")

		res = hookkittest.Exec(t, bin, withName(restore, "noisy-keep"))
		require.Equal(t, 0, res.Code, res.Stderr)
		assert.Empty(t, res.Stdout, "no document replaced: libvirt must get nothing and keep its own")
		assert.Empty(t, res.Stderr)
	})

	// hookkittest.Exec with a HooksDir shared by two binaries runs each the binary it is given.
	t.Run("Exec replaces a link left by another binary", func(t *testing.T) {
		dir := t.TempDir()
		other := filepath.Join(t.TempDir(), "ok.sh")
		require.NoError(t, os.WriteFile(other, []byte("#!/bin/sh\nexit 0\n"), 0o755))
		c := withName(prepare, "fail")
		c.HooksDir = dir
		require.Equal(t, 0, hookkittest.Exec(t, other, c).Code)
		res := hookkittest.Exec(t, bin, c)
		assert.Equal(t, 1, res.Code, "ran the previous binary")
		assert.Equal(t, "qemu: qemu fail prepare begin: refused by policy\n", res.Stderr)
	})

	t.Run("environment as libvirt gives it", func(t *testing.T) {
		res := hookkittest.Exec(t, bin, withName(prepare, "env").InDir("50-env"))
		require.Equal(t, 1, res.Code)
		assert.Contains(t, res.Stderr, "driver=qemu cwd=/ env=LC_ALL=C,PATH=")
	})

	t.Run("SIGTERM answers at once even when the handler ignores it", func(t *testing.T) {
		c := withName(prepare, "wait")
		c.HooksDir = t.TempDir()
		hookkittest.Exec(t, bin, withName(prepare, "ok").WithObject("ok")) // warm the page cache
		cmd := exec.Command(bin, c.Args()[1:]...)
		cmd.Args[0] = c.Path()
		cmd.Stdin = bytes.NewReader(c.Stdin)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		require.NoError(t, cmd.Start())
		time.Sleep(300 * time.Millisecond)
		require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			var ee *exec.ExitError
			require.ErrorAs(t, err, &ee)
			assert.Equal(t, 1, ee.ExitCode())
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatal("hook did not exit after SIGTERM")
		}
		assert.Equal(t, "qemu: qemu wait prepare begin: interrupted by signal: terminated\n", stderr.String())
		assert.Empty(t, stdout.String())
	})

	t.Run("stdout closed by libvirt during a filter", func(t *testing.T) {
		c := withName(restore, "filter")
		cmd := exec.Command(bin, c.Args()[1:]...)
		cmd.Args[0] = "/etc/libvirt/hooks/qemu"
		cmd.Stdin = bytes.NewReader(c.Stdin)
		r, w, err := os.Pipe()
		require.NoError(t, err)
		r.Close() // the reader is gone before the hook writes
		cmd.Stdout = w
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err = cmd.Run()
		w.Close()
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee, "the hook must exit with a status, not die of SIGPIPE")
		assert.Equal(t, 1, ee.ExitCode())
		assert.Regexp(t, `^qemu: qemu filter restore begin: write the new XML to stdout: .*broken pipe\n$`, stderr.String())
	})
}
