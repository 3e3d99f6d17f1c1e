package hookkit_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookkit-dev/hookkit/hookkit"
	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/hookkit/hookkittest"
)

// TestCallGo checks what a call answers when its handler does work with Call.Go: the call waits for
// every function, and their first error, panic or Goexit fails it with one line on stderr.
func TestCallGo(t *testing.T) {
	const prefix = "qemu: qemu hooktest prepare begin: "
	cases := []struct {
		name       string
		handler    func(d *hookkit.Domain, ran *atomic.Int32) error
		wantStderr string
		wantRan    int32 // functions that ran to their end
		wantLog    string
	}{
		{name: "all succeed: the call waits for them", wantRan: 3,
			handler: func(d *hookkit.Domain, ran *atomic.Int32) error {
				for range 3 {
					d.Go(func(ctx context.Context) error {
						time.Sleep(20 * time.Millisecond) // still running when the handler returns
						ran.Add(1)
						return nil
					})
				}
				return nil
			}},
		{name: "one fails: its error, the others cancelled", wantRan: 1, wantStderr: prefix + "bridge br7 missing\n",
			handler: func(d *hookkit.Domain, ran *atomic.Int32) error {
				d.Go(func(ctx context.Context) error { return errors.New("bridge br7 missing") })
				d.Go(func(ctx context.Context) error {
					<-ctx.Done() // ends only because its sibling failed
					if context.Cause(ctx).Error() == "bridge br7 missing" {
						ran.Add(1)
					}
					return ctx.Err()
				})
				return nil
			}},
		{name: "a panic: one line, the stack to the log", wantStderr: prefix + "panic: runtime error: index out of range [5] with length 0\n",
			wantLog: "function started by Go panicked",
			handler: func(d *hookkit.Domain, _ *atomic.Int32) error {
				d.Go(func(ctx context.Context) error {
					var devices []string
					_ = devices[len(d.Name())-3]
					return nil
				})
				return nil
			}},
		{name: "a Goexit", wantStderr: prefix + "function started by Go called runtime.Goexit instead of returning (t.FailNow and require.* do; in a hook, return an error)\n",
			handler: func(d *hookkit.Domain, _ *atomic.Int32) error {
				d.Go(func(ctx context.Context) error { runtime.Goexit(); return nil })
				return nil
			}},
		{name: "the handler fails: its error wins, the functions are cancelled with it", wantRan: 1,
			wantStderr: prefix + "policy refused\n",
			handler: func(d *hookkit.Domain, ran *atomic.Int32) error {
				d.Go(func(ctx context.Context) error {
					<-ctx.Done()
					if context.Cause(ctx).Error() == "policy refused" {
						ran.Add(1)
					}
					return errors.New("cancelled")
				})
				return errors.New("policy refused")
			}},
		{name: "Wait hands the error to the handler, which may ignore it", wantRan: 1,
			handler: func(d *hookkit.Domain, ran *atomic.Int32) error {
				d.Go(func(ctx context.Context) error { return errors.New("optional cache warm-up failed") })
				if err := d.Wait(); err != nil && err.Error() == "optional cache warm-up failed" {
					ran.Add(1)
				}
				return nil
			}},
		{name: "Wait, then the handler returns the error", wantStderr: prefix + "setup: disk missing\n",
			handler: func(d *hookkit.Domain, _ *atomic.Int32) error {
				d.Go(func(ctx context.Context) error { return errors.New("disk missing") })
				if err := d.Wait(); err != nil {
					return errors.New("setup: " + err.Error())
				}
				return nil
			}},
		{name: "Go from a function started by Go", wantRan: 2,
			handler: func(d *hookkit.Domain, ran *atomic.Int32) error {
				d.Go(func(ctx context.Context) error {
					d.Go(func(ctx context.Context) error {
						time.Sleep(20 * time.Millisecond)
						ran.Add(1)
						return nil
					})
					ran.Add(1)
					return nil
				})
				return nil
			}},
		{name: "Wait without Go", handler: func(d *hookkit.Domain, _ *atomic.Int32) error { return d.Wait() }},
		{name: "Wait gives the function's own error value", wantRan: 1,
			handler: func(d *hookkit.Domain, ran *atomic.Int32) error {
				d.Go(func(ctx context.Context) error { return errSentinel })
				if d.Wait() == errSentinel {
					ran.Add(1)
				}
				return nil
			}},
		{name: "after Wait, a new group: its failure counts again", wantRan: 1,
			wantStderr: prefix + "second step failed\n",
			handler: func(d *hookkit.Domain, ran *atomic.Int32) error {
				d.Go(func(ctx context.Context) error { return errors.New("optional step failed") })
				_ = d.Wait() // handled
				d.Go(func(ctx context.Context) error {
					if ctx.Err() == nil {
						ran.Add(1) // a fresh context, not the first group's cancelled one
					}
					return errors.New("second step failed")
				})
				return nil
			}},
		{name: "an Error method that panics (a nil pointer returned as an error)", wantStderr: prefix + "the handler's error value panicked in its Error method (a nil pointer returned as an error?): runtime error: invalid memory address or nil pointer dereference\n",
			handler: func(d *hookkit.Domain, _ *atomic.Int32) error {
				d.Go(func(ctx context.Context) error { return nilPolicyError() })
				return nil
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			var mu sync.Mutex
			r := hookkit.New(hookkit.WithTimeout(10*time.Second),
				hookkit.WithLogger(slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))))
			var ran atomic.Int32
			r.OnDomainPrepare(func(d *hookkit.Domain) error { return tc.handler(d, &ran) })
			res := hookkittest.Run(r, hookkittest.Event(event.QEMU, "prepare"))
			assert.Equal(t, tc.wantStderr, res.Stderr)
			assert.Equal(t, map[bool]int{true: 0, false: 1}[tc.wantStderr == ""], res.Code)
			assert.Equal(t, tc.wantRan, ran.Load(), "functions that ran to their end before the call answered")
			mu.Lock()
			defer mu.Unlock()
			if tc.wantLog != "" {
				assert.Contains(t, logs.String(), tc.wantLog)
				assert.Contains(t, logs.String(), "group_test.go", "the stack is in the log")
			}
		})
	}
}

// TestCallConcurrentUse runs the Call's accessors from many functions started by Go at once; with -race
// it checks that what a Call makes on first use (payload views, Config, the logger, ReplaceXML's
// document) is made safely.
func TestCallConcurrentUse(t *testing.T) {
	r := hookkit.New(hookkit.WithLogger(slog.New(slog.DiscardHandler)))
	r.OnQEMURestore(func(d *hookkit.Domain) error {
		for i := range 8 {
			d.Go(func(ctx context.Context) error {
				cfg, err := d.Config()
				if err != nil {
					return err
				}
				if _, err := d.Domain(); err != nil {
					return err
				}
				d.Logger().Debug("worker", "i", i)
				_ = d.XML()
				if i == 0 {
					return d.ReplaceXML([]byte(strings.Replace(string(d.Input()), "<name>"+cfg.Name+"</name>", "<name>restored</name>", 1)))
				}
				return nil
			})
		}
		return nil
	})
	res := hookkittest.Run(r, hookkittest.Event(event.QEMU, "restore"))
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Contains(t, res.Stdout, "<name>restored</name>")
}

// lockedWriter serializes the writes of a logger shared by several goroutines into one buffer.
type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

var errSentinel = errors.New("sentinel")

// policyError is an error type whose Error method dereferences its receiver.
type policyError struct{ reason string }

func (e *policyError) Error() string { return "refused: " + e.reason }

// nilPolicyError returns a nil *policyError as an error: a non-nil error whose Error method panics.
func nilPolicyError() error {
	var e *policyError
	return e
}
