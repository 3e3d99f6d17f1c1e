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

// TestMainDeadline checks the context Main gives handlers: it reports the deadline, and when the single
// process timer fires it ends with context.DeadlineExceeded and the "timed out after" cause, and the
// watchdog answers with exit 1 while the handler is still running.
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
	ctx, cancel := context.WithCancelCause(context.Background())
	start := time.Now()
	go r.run(ctx, []string{"/etc/libvirt/hooks/qemu", "vm", "prepare", "begin", "-"}, bytes.NewReader(doc),
		io.Discard, &stderr, &process{cancel: cancel, exit: func(code int) { codes <- code }})

	select {
	case code := <-codes:
		assert.Equal(t, ExitFailure, code)
	case <-time.After(10 * time.Second):
		t.Fatal("the watchdog did not answer")
	}
	assert.Equal(t, "qemu: qemu vm prepare begin: timed out after 30ms\n", stderr.String())
	s := <-got
	assert.True(t, s.hasDeadline)
	assert.WithinDuration(t, start.Add(30*time.Millisecond), s.deadline, time.Second)
	assert.ErrorIs(t, s.err, context.DeadlineExceeded)
	assert.EqualError(t, s.cause, "timed out after 30ms")
	assert.True(t, errors.Is(s.cause, context.DeadlineExceeded))
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
