// Package command runs the external programs of example hooks (nft, iptables, tc, bridge) the way a hook
// running as root must: with an argv, never through a shell; the program looked up in PATH when the
// command runs, not when the hook starts, so a host without the tool fails one call with a clear error
// instead of crashing every call; and behind the Runner interface, so tests and dry runs can record or
// print commands instead of running them.
package command

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
)

// Runner runs one command given as a program name and its arguments.
type Runner interface {
	Run(ctx context.Context, name string, args ...string) error
}

// Exec runs commands with os/exec. The zero value is ready to use.
type Exec struct{}

// maxStderr bounds how much of a failed command's stderr is kept for the error message.
const maxStderr = 512

// Run looks name up in PATH and runs it with args, failing with the first line of its stderr when it exits
// non-zero. When name is not installed the error says so and shows the PATH searched (libvirt gives hooks
// the daemon's PATH, which may lack /usr/sbin).
func (Exec) Run(ctx context.Context, name string, args ...string) error {
	path, err := exec.LookPath(name)
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return fmt.Errorf("%s: not found in PATH %q: install it or fix the PATH libvirtd runs with", name, os.Getenv("PATH"))
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	cmd := exec.CommandContext(ctx, path, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &limitedWriter{w: &stderr, n: maxStderr}
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		if msg != "" {
			return fmt.Errorf("%s: %w: %s", Format(name, args...), err, msg)
		}
		return fmt.Errorf("%s: %w", Format(name, args...), err)
	}
	return nil
}

// limitedWriter keeps the first n bytes and discards the rest without failing the command.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		_, _ = l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

// DryRun prints each command on W, one line per command, instead of running it.
type DryRun struct {
	W  io.Writer
	mu sync.Mutex
}

// Run prints the command as Format renders it and succeeds.
func (d *DryRun) Run(_ context.Context, name string, args ...string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, err := fmt.Fprintln(d.W, Format(name, args...))
	return err
}

// Recorder records commands without running them, for tests. Fail, when set, decides the result of each
// command from its argv (name first).
type Recorder struct {
	Fail func(argv []string) error

	mu    sync.Mutex
	calls [][]string
}

// Run records the command and returns Fail's verdict.
func (r *Recorder) Run(_ context.Context, name string, args ...string) error {
	argv := append([]string{name}, args...)
	r.mu.Lock()
	r.calls = append(r.calls, argv)
	r.mu.Unlock()
	if r.Fail != nil {
		return r.Fail(argv)
	}
	return nil
}

// Calls returns the commands recorded so far, each rendered by Format.
func (r *Recorder) Calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.calls))
	for i, c := range r.calls {
		out[i] = Format(c[0], c[1:]...)
	}
	return out
}

// Reset forgets the recorded commands.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.calls = nil
	r.mu.Unlock()
}

// Format renders a command for people: arguments that are empty or hold spaces, quotes or shell
// metacharacters are Go-quoted, so a logged command is unambiguous. It is never passed to a shell.
func Format(name string, args ...string) string {
	var b strings.Builder
	b.WriteString(name)
	for _, a := range args {
		b.WriteByte(' ')
		if a == "" || strings.ContainsAny(a, " \t\n\"'\\$`;&|<>(){}*?[]#~") {
			b.WriteString(strconv.Quote(a))
		} else {
			b.WriteString(a)
		}
	}
	return b.String()
}
