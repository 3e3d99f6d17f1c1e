package hookkit

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMainDeadline checks the context Main gives handlers: it reports the deadline, and when the
// process's timer fires it ends with context.DeadlineExceeded and the "timed out after" cause, and the
// watchdog answers with exit 1 while the handler is still running, or while stdin has not ended.
func TestMainDeadline(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("testdata", "domain-5k.xml"))
	require.NoError(t, err)
	type seen struct {
		deadline    time.Time
		hasDeadline bool
		err, cause  error
	}
	// Main's process arms SIGTERM/SIGINT handling after 5 ms; give the test binary its defaults back.
	t.Cleanup(func() { signal.Reset(syscall.SIGTERM, syscall.SIGINT) })
	endless, w := io.Pipe() // a stdin whose writer never closes it
	t.Cleanup(func() { w.Close() })
	cases := []struct {
		name  string
		stdin io.Reader
		hang  bool // the handler runs and ignores its context
	}{
		{"handler ignores its context", bytes.NewReader(doc), true},
		{"stdin never ends", endless, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := make(chan seen, 1)
			r := New(WithTimeout(30*time.Millisecond), WithLogFile(filepath.Join(t.TempDir(), "log")))
			r.OnDomainPrepare(func(d *Domain) error {
				ctx := d.Context()
				dl, ok := ctx.Deadline()
				<-ctx.Done()
				got <- seen{dl, ok, ctx.Err(), context.Cause(ctx)}
				select {} // a handler that ignores its context: the watchdog must answer anyway
			})
			codes := make(chan int, 1)
			var stderr bytes.Buffer
			start := time.Now()
			go r.runProcess([]string{"/etc/libvirt/hooks/qemu", "vm", "prepare", "begin", "-"}, tc.stdin,
				io.Discard, &stderr, &process{exit: func(code int) { codes <- code }})

			select {
			case code := <-codes:
				assert.Equal(t, ExitFailure, code)
			case <-time.After(10 * time.Second):
				t.Fatal("the watchdog did not answer")
			}
			assert.Equal(t, "qemu: qemu vm prepare begin: timed out after 30ms\n", stderr.String())
			if !tc.hang {
				assert.Empty(t, got, "the handler ran without its payload")
				return
			}
			s := <-got
			assert.True(t, s.hasDeadline)
			assert.WithinDuration(t, start.Add(30*time.Millisecond), s.deadline, time.Second)
			assert.ErrorIs(t, s.err, context.DeadlineExceeded)
			assert.EqualError(t, s.cause, "timed out after 30ms")
			assert.True(t, errors.Is(s.cause, context.DeadlineExceeded))
		})
	}
}

// TestProcessAnswer checks that exactly one of the call and the watchdog answers libvirt.
func TestProcessAnswer(t *testing.T) {
	cases := []struct {
		name       string
		callFirst  bool // the call claimed the answer before the watchdog fired
		late       bool // run had parsed the call and set the watchdog's line
		wantStderr string
		wantExit   bool
	}{
		{"watchdog first, call parsed", false, true, "qemu: qemu vm prepare begin: timed out after 1s\n", true},
		{"watchdog before argv is parsed", false, false, "qemu: timed out after 1s\n", true},
		{"call answered first", true, true, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			exited := false
			ctx, cancel := context.WithCancelCause(context.Background())
			p := &process{exit: func(code int) { exited = true; assert.Equal(t, ExitFailure, code) },
				cancel: cancel, stderr: &stderr, program: "qemu"}
			if tc.late {
				inv, err := ParseInvocation([]string{"/etc/libvirt/hooks/qemu", "vm", "prepare", "begin", "-"}, "")
				require.NoError(t, err)
				s := &callState{program: "qemu", inv: inv, stderr: &stderr, proc: p}
				p.setLate(s.writeFail)
			}
			if tc.callFirst {
				require.True(t, p.claim())
			}
			p.expire(timeoutError(time.Second))
			assert.Equal(t, tc.wantStderr, stderr.String())
			assert.Equal(t, tc.wantExit, exited)
			assert.ErrorIs(t, ctx.Err(), context.Canceled, "the call's context ends either way")
			assert.Equal(t, tc.callFirst, p.claim(), "the call may answer only if it claimed first")
		})
	}
}

// TestDeadlineContextCancelled checks that a context cancelled for another reason (a signal) keeps
// context.Canceled and its own cause.
func TestDeadlineContextCancelled(t *testing.T) {
	parent, cancel := context.WithCancelCause(context.Background())
	ctx := deadlineContext{Context: parent, deadline: time.Now().Add(time.Hour)}
	assert.NoError(t, ctx.Err())
	cancel(errors.New("interrupted by signal: terminated"))
	assert.ErrorIs(t, ctx.Err(), context.Canceled)
	assert.EqualError(t, context.Cause(ctx), "interrupted by signal: terminated")
}
