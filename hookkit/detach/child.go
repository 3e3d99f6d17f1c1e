package detach

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/hookkit-dev/hookkit/hookkit/internal/childhook"
)

// killGrace is how long a command has between SIGTERM and SIGKILL once its
// Timeout expired.
const killGrace = 5 * time.Second

// init wires MaybeRunChild into hookkit's Router.Main, which calls it before anything else, so that a hook
// that imports this package can re-execute itself as a detached supervisor and one that does not links
// none of it.
func init() { childhook.Register(MaybeRunChild) }

// MaybeRunChild turns this process into a detached supervisor when Start
// re-executed it, and never returns in that case; otherwise it returns at once.
// Call it first thing in main, before flag parsing, signal handling or reading
// stdin (hookkit's Router.Main does). A program that does not call it cannot use
// Start.
func MaybeRunChild() {
	wired.Store(true)
	if os.Getenv(childEnv) == "" {
		return
	}
	os.Exit(runChild())
}

// runChild is the supervisor: it reads its spec, waits for the parent to exit,
// sleeps the delay, runs the work and logs the outcome. It returns the exit
// status.
func runChild() int {
	os.Unsetenv(childEnv) // a job that detaches again starts a fresh supervisor
	// Caught, not ignored: an ignored signal stays ignored in the command the supervisor execs (a
	// pipeline in it would then print "Broken pipe" errors instead of ending quietly), a caught one is
	// reset to its default.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGHUP, syscall.SIGPIPE)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)

	syscall.CloseOnExec(specFD)
	f := os.NewFile(specFD, "detach-spec")
	br := bufio.NewReader(f)
	line, err := br.ReadBytes('\n')
	var sp *spec
	if err == nil {
		sp, err = unmarshalSpec(line)
	}
	if err != nil {
		logf("detach", "cannot read what to run: %v", err)
		return 2
	}
	label := sp.label()

	parentGone := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, br) // end of file: every holder of the write end exited
		close(parentGone)
	}()
	select {
	case <-parentGone:
	case s := <-sigs:
		logf(label, "cancelled before start by signal: %v", s)
		return 1
	}
	f.Close()
	if sp.Delay > 0 {
		t := time.NewTimer(sp.Delay)
		select {
		case <-t.C:
		case s := <-sigs:
			logf(label, "cancelled before start by signal: %v", s)
			return 1
		}
	}
	if sp.Job != "" {
		return runJob(sp, sigs)
	}
	return runCommand(sp, sigs)
}

func runJob(sp *spec, sigs <-chan os.Signal) int {
	fn, ok := lookupJob(sp.Job)
	if !ok {
		logf(sp.Job, "no such job registered in %s", os.Args[0])
		return 2
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	if sp.Timeout > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeoutCause(ctx, sp.Timeout, fmt.Errorf("timed out after %s", sp.Timeout))
		defer stop()
	}
	go func() {
		select {
		case s := <-sigs:
			cancel(fmt.Errorf("interrupted by signal: %v", s))
		case <-ctx.Done():
		}
	}()

	logf(sp.Job, "started (pid %d, %d args)", os.Getpid(), len(sp.Args)) // args may be sensitive: not logged
	begin := time.Now()
	err := func() (err error) {
		defer func() {
			if v := recover(); v != nil {
				fmt.Fprintf(os.Stderr, "%s", debug.Stack())
				err = fmt.Errorf("panic: %v", v)
			}
		}()
		return fn(ctx, sp.Args)
	}()
	took := time.Since(begin).Round(time.Millisecond)
	if err == nil {
		logf(sp.Job, "finished after %s", took)
		return 0
	}
	if cause := context.Cause(ctx); cause != nil && errors.Is(err, ctx.Err()) {
		err = fmt.Errorf("%w (%v)", err, cause)
	}
	logf(sp.Job, "failed after %s: %v", took, err)
	return 1
}

func runCommand(sp *spec, sigs <-chan os.Signal) int {
	label := sp.label()
	cmd := &exec.Cmd{
		Path:   sp.Path,
		Args:   sp.Args,
		Env:    sp.Env,
		Dir:    sp.Dir,
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		// A process group of its own, so that the timeout and a forwarded signal reach whatever the
		// command started too (a script's children), not the command alone.
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	if cmd.Dir == "" {
		cmd.Dir = "/"
	}
	logf(label, "starting %s", quoteArgs(sp.Args))
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		logf(label, "cannot start: %v", err)
		return 127
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	group := func(sig syscall.Signal) { _ = syscall.Kill(-cmd.Process.Pid, sig) }

	var timeout, kill <-chan time.Time
	if sp.Timeout > 0 {
		timeout = time.After(sp.Timeout)
	}
	timedOut := false
	for {
		select {
		case s := <-sigs:
			group(s.(syscall.Signal))
		case <-timeout:
			timedOut = true
			logf(label, "timed out after %s: sending SIGTERM", sp.Timeout)
			group(syscall.SIGTERM)
			kill = time.After(killGrace)
		case <-kill:
			logf(label, "still running %s after SIGTERM: sending SIGKILL", killGrace)
			group(syscall.SIGKILL)
		case err := <-done:
			if timedOut {
				group(syscall.SIGKILL) // what the command started and left behind is past the timeout too
			}
			took := time.Since(begin).Round(time.Millisecond)
			code := cmd.ProcessState.ExitCode()
			switch {
			case err == nil:
				logf(label, "exited with status 0 after %s", took)
			case code >= 0:
				logf(label, "exited with status %d after %s", code, took)
			default:
				logf(label, "%v after %s", err, took)
				code = 1
			}
			if timedOut && code == 0 {
				code = 1
			}
			return code
		}
	}
}

func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && !strings.ContainsAny(a, " \t\n\"'\\$`") {
			q[i] = a
		} else {
			q[i] = fmt.Sprintf("%q", a)
		}
	}
	return strings.Join(q, " ")
}

// logf writes one line to the log (the supervisor's stderr).
func logf(label, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s hookkit-detach[%d] %s: %s\n",
		time.Now().UTC().Format(time.RFC3339), os.Getpid(), label, fmt.Sprintf(format, args...))
}
