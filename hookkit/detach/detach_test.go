package detach_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookkit-dev/hookkit/hookkit/detach"
)

// roleEnv selects what the re-executed test binary does.
const roleEnv = "HOOKKIT_DETACH_TEST"

func TestMain(m *testing.M) {
	detach.MaybeRunChild() // first, as hookkit's Router.Main does
	switch os.Getenv(roleEnv) {
	case "":
		os.Exit(m.Run())
	case "hook":
		os.Exit(roleHook())
	case "echo":
		os.Exit(roleEcho())
	case "sleep":
		time.Sleep(time.Minute)
		os.Exit(0)
	default:
		os.Exit(2)
	}
}

var (
	// probe reports how it was started, then waits for the test's go-ahead.
	probe = detach.Register("probe", func(ctx context.Context, args []string) error {
		report()
		return waitFile(ctx, os.Getenv("RELEASE"))
	})
	failing    = detach.Register("fail", func(context.Context, []string) error { return errors.New("boom") })
	panicking  = detach.Register("panic", func(context.Context, []string) error { panic("kaboom") })
	waitCancel = detach.Register("wait-ctx", func(ctx context.Context, _ []string) error {
		<-ctx.Done()
		return ctx.Err()
	})
	argsJob = detach.Register("args", func(_ context.Context, args []string) error {
		fmt.Printf("args=%q\n", args)
		return nil
	})
)

// roleHook behaves like a hook run by libvirt: it reads stdin, holds an fd
// inherited without close-on-exec, starts detached work and exits at once.
func roleHook() int {
	_, _ = io.Copy(io.Discard, os.Stdin)
	// A descriptor the hook got without O_CLOEXEC must not reach the child.
	if _, err := syscall.Open(os.Getenv("LEAK"), syscall.O_RDONLY|syscall.O_CREAT, 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	opts := detach.Options{LogFile: os.Getenv("LOG")}
	var pid int
	var err error
	if os.Getenv("MODE") == "job" {
		pid, err = probe.Start(opts, "a b", "")
	} else {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), roleEnv+"=echo")
		pid, err = detach.Start(cmd, opts)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	stdout, _ := os.Readlink("/proc/self/fd/1")
	fmt.Printf("supervisor=%d stdout=%s\n", pid, stdout)
	fmt.Fprintln(os.Stderr, "hook done")
	if err := os.WriteFile(os.Getenv("PARENT_DONE"), nil, 0o600); err != nil {
		return 1
	}
	return 0
}

// roleEcho is a detached command: it reports, waits for the go-ahead, writes to
// both streams and exits 3.
func roleEcho() int {
	report()
	if err := waitFile(context.Background(), os.Getenv("RELEASE")); err != nil {
		return 1
	}
	fmt.Println("to stdout")
	fmt.Fprintln(os.Stderr, "to stderr")
	return 3
}

// report prints, on stdout, what the test checks about a detached process.
func report() {
	_, err := os.Stat(os.Getenv("PARENT_DONE"))
	cwd, _ := os.Getwd()
	fmt.Printf("parentdone=%v sid=%d cwd=%s\n", err == nil, session(), cwd)
	entries, _ := os.ReadDir("/proc/self/fd")
	for _, e := range entries {
		target, _ := os.Readlink("/proc/self/fd/" + e.Name())
		fmt.Printf("fd %s -> %s\n", e.Name(), target)
	}
}

// session reads the session id from /proc/self/stat.
func session() int {
	b, _ := os.ReadFile("/proc/self/stat")
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	sid, _ := strconv.Atoi(f[3]) // state ppid pgrp session
	return sid
}

func waitFile(ctx context.Context, path string) error {
	if path == "" {
		return nil
	}
	for {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// waitLog polls the log until it matches re; the limit only guards against a hang.
func waitLog(t *testing.T, path string, re *regexp.Regexp) string {
	t.Helper()
	for limit := time.Now().Add(30 * time.Second); ; {
		b, _ := os.ReadFile(path)
		if re.Match(b) {
			return string(b)
		}
		if time.Now().After(limit) {
			require.Failf(t, "log never matched", "want %s in:\n%s", re, b)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDetachedFromHook runs a hook exactly as libvirt does (stdin written, stdout
// and stderr read to end of file) and checks that libvirt gets its answer while
// the detached work is still running, and that the work ran after the hook
// exited, in its own session, in "/", without the hook's descriptors.
func TestDetachedFromHook(t *testing.T) {
	tests := []struct {
		mode    string
		wantLog []string
	}{
		{"job", []string{`probe: started \(pid \d+, 2 args\)`, `probe: finished after`}},
		{"command", []string{`detach.test: starting \S+ "-test.run=\^\$"`, "to stdout", "to stderr", `detach.test: exited with status 3 after`}},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			dir := t.TempDir()
			logFile := filepath.Join(dir, "log", "work.log")
			leak := filepath.Join(dir, "leak-marker")
			release := filepath.Join(dir, "release")

			hook := exec.Command(os.Args[0], "-test.run=^$")
			hook.Env = append(os.Environ(), roleEnv+"=hook", "MODE="+tt.mode, "LOG="+logFile, "LEAK="+leak,
				"RELEASE="+release, "PARENT_DONE="+filepath.Join(dir, "parent-done"))
			hook.Stdin = strings.NewReader("<domain type='kvm'><name>vm1</name></domain>\n")
			var stdout, stderr bytes.Buffer
			hook.Stdout, hook.Stderr = &stdout, &stderr

			// Like libvirt, Run returns only once every write end of the pipes is
			// closed: a child holding one would hang here.
			done := make(chan error, 1)
			go func() { done <- hook.Run() }()
			select {
			case err := <-done:
				require.NoError(t, err, stderr.String())
			case <-time.After(30 * time.Second):
				_ = hook.Process.Kill()
				require.FailNow(t, "the hook's stdout/stderr stayed open after it exited: libvirt would hang")
			}
			assert.Equal(t, "hook done\n", stderr.String())
			var supervisor int
			var hookStdout string
			_, err := fmt.Sscanf(stdout.String(), "supervisor=%d stdout=%s\n", &supervisor, &hookStdout)
			require.NoError(t, err, stdout.String())
			require.True(t, strings.HasPrefix(hookStdout, "pipe:"), hookStdout)

			// The work is still waiting for the go-ahead: it outlived the hook.
			waitLog(t, logFile, regexp.MustCompile(`parentdone=`))
			require.NoError(t, os.WriteFile(release, nil, 0o600))
			log := waitLog(t, logFile, regexp.MustCompile(tt.wantLog[len(tt.wantLog)-1]))
			for _, want := range tt.wantLog {
				assert.Regexp(t, want, log)
			}

			assert.Contains(t, log, fmt.Sprintf("parentdone=true sid=%d cwd=/\n", supervisor), "ran after the hook exited, in the supervisor's session, in /")
			assert.Contains(t, log, "fd 0 -> /dev/null\n")
			assert.Contains(t, log, "fd 1 -> "+logFile+"\n")
			assert.Contains(t, log, "fd 2 -> "+logFile+"\n")
			assert.NotContains(t, log, leak, "descriptor inherited without close-on-exec leaked")
			assert.NotContains(t, log, hookStdout, "the hook's stdout pipe leaked")

			fi, err := os.Stat(logFile)
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
		})
	}
}

func TestOutcomesAreLogged(t *testing.T) {
	cmd := func(role string) *exec.Cmd {
		c := exec.Command(os.Args[0], "-test.run=^$")
		c.Env = append(os.Environ(), roleEnv+"="+role)
		return c
	}
	tests := []struct {
		name  string
		start func(detach.Options) (int, error)
		opts  detach.Options
		want  []string // regexps; the last one ends the work
	}{
		{"job error", func(o detach.Options) (int, error) { return failing.Start(o) }, detach.Options{},
			[]string{`fail: failed after \S+: boom`}},
		{"job panic", func(o detach.Options) (int, error) { return panicking.Start(o) }, detach.Options{},
			[]string{`goroutine \d+`, `panic: failed after \S+: panic: kaboom`}},
		{"job timeout", func(o detach.Options) (int, error) { return waitCancel.Start(o) }, detach.Options{Timeout: 50 * time.Millisecond},
			[]string{`wait-ctx: failed after \S+: context deadline exceeded \(timed out after 50ms\)`}},
		{"job args and delay", func(o detach.Options) (int, error) { return argsJob.Start(o, "x y", "", "$z") }, detach.Options{Delay: 10 * time.Millisecond},
			[]string{`args=\["x y" "" "\$z"\]`, `args: finished after`}},
		{"command timeout", func(o detach.Options) (int, error) { return detach.Start(cmd("sleep"), o) }, detach.Options{Timeout: 50 * time.Millisecond},
			[]string{`timed out after 50ms: sending SIGTERM`, `detach.test: signal: terminated after`}},
		{"command exit status", func(o detach.Options) (int, error) { return detach.Start(cmd("echo"), o) }, detach.Options{},
			[]string{"to stdout\n", "to stderr\n", `exited with status 3 after`}},
		{"command cannot start", func(o detach.Options) (int, error) {
			// Executable but not a program: Start accepts it, exec(2) in the supervisor refuses it.
			bad := filepath.Join(t.TempDir(), "hookkit-cmd")
			require.NoError(t, os.WriteFile(bad, []byte("not a program\n"), 0o755))
			return detach.Start(exec.Command(bad, "x"), o)
		}, detach.Options{}, []string{`hookkit-cmd x`, `hookkit-cmd: cannot start: fork/exec .*/hookkit-cmd: exec format error`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.LogFile = filepath.Join(t.TempDir(), "work.log")
			tt.opts.Immediate = true // this test process does not exit
			pid, err := tt.start(tt.opts)
			require.NoError(t, err)
			assert.Positive(t, pid)
			log := waitLog(t, tt.opts.LogFile, regexp.MustCompile(tt.want[len(tt.want)-1]))
			for _, want := range tt.want {
				assert.Regexp(t, want, log)
			}
		})
	}
}

// TestImmediateIsReaped checks that a supervisor started with Immediate in a
// process that keeps running does not stay a zombie.
func TestImmediateIsReaped(t *testing.T) {
	logFile := filepath.Join(t.TempDir(), "work.log")
	pid, err := argsJob.Start(detach.Options{LogFile: logFile, Immediate: true})
	require.NoError(t, err)
	waitLog(t, logFile, regexp.MustCompile(`args: finished`))
	for limit := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); errors.Is(err, os.ErrNotExist) {
			return // exited and reaped
		}
		require.False(t, time.Now().After(limit), "supervisor %d never reaped", pid)
	}
}

func TestStartRejects(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	with := func(f func(*exec.Cmd)) *exec.Cmd {
		c := exec.Command("/bin/true")
		f(c)
		return c
	}
	tests := []struct {
		name string
		cmd  *exec.Cmd
		opts detach.Options
		want string
	}{
		{"nil", nil, detach.Options{}, "detach: nil command"},
		{"not found", exec.Command("hookkit-no-such-command"), detach.Options{},
			`detach hookkit-no-such-command: exec: "hookkit-no-such-command": executable file not found in $PATH`},
		{"stdout set", with(func(c *exec.Cmd) { c.Stdout = os.Stdout }), detach.Options{},
			"detach true: Stdin, Stdout and Stderr must be nil (output goes to Options.LogFile)"},
		{"extra files", with(func(c *exec.Cmd) { c.ExtraFiles = []*os.File{os.Stdin} }), detach.Options{},
			"detach true: ExtraFiles and SysProcAttr must be nil"},
		{"log dir is a file", exec.Command("/bin/true"), detach.Options{LogFile: filepath.Join(file, "x.log")},
			"detach true: mkdir " + file + ": not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pid, err := detach.Start(tt.cmd, tt.opts)
			assert.EqualError(t, err, tt.want)
			assert.Zero(t, pid)
		})
	}
}

func TestRegisterPanics(t *testing.T) {
	tests := []struct {
		name string
		job  string
		fn   detach.Func
	}{
		{"duplicate", "probe", func(context.Context, []string) error { return nil }},
		{"empty name", "", func(context.Context, []string) error { return nil }},
		{"nil func", "nil", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Panics(t, func() { detach.Register(tt.job, tt.fn) })
		})
	}
	assert.Equal(t, "probe", probe.Name())
}

// BenchmarkStart measures what a hook pays to start detached work (the spawn of
// the supervisor; the work itself runs in another process).
func BenchmarkStart(b *testing.B) {
	opts := detach.Options{Immediate: true}
	for b.Loop() {
		if _, err := argsJob.Start(opts); err != nil {
			b.Fatal(err)
		}
	}
}

// TestStartRefusesWhatCannotRun: the command runs after the hook exited, where only the log would see
// its error, so Start checks that it names an executable file.
func TestStartRefusesWhatCannotRun(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(plain, []byte("x"), 0o644))
	tests := []struct {
		name string
		cmd  *exec.Cmd
		want string
	}{
		{"missing absolute path", exec.Command("/usr/bin/no-such-virsh", "list"), "detach no-such-virsh: stat /usr/bin/no-such-virsh: no such file or directory"},
		{"a directory", exec.Command(dir), "detach " + filepath.Base(dir) + ": " + dir + " is not an executable file"},
		{"not executable", exec.Command(plain), "detach notes.txt: " + plain + " is not an executable file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pid, err := detach.Start(tt.cmd, detach.Options{Immediate: true})
			assert.EqualError(t, err, tt.want)
			assert.Zero(t, pid)
		})
	}
}

// TestCommandAsOSExecRunsIt: the detached command gets what os/exec would give it, byte for byte: its
// arguments (not valid UTF-8 here), an empty environment when cmd.Env is empty, a relative path
// resolved against cmd.Dir, and default signal dispositions (nothing ignored).
func TestCommandAsOSExecRunsIt(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("HOOKKIT_TEST_SECRET", "hunter2")
	script := filepath.Join(dir, "probe.sh")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\nprintf 'arg=%s\\n' \"$1\"\nenv\ngrep SigIgn /proc/self/status\n"), 0o755))
	run := func(t *testing.T, cmd *exec.Cmd) string {
		log := filepath.Join(t.TempDir(), "log")
		_, err := detach.Start(cmd, detach.Options{Immediate: true, LogFile: log})
		require.NoError(t, err)
		return waitLog(t, log, regexp.MustCompile(`exited with status|cannot start`))
	}
	cmd := exec.Command("./probe.sh", "caf\xe9")
	cmd.Dir = dir
	cmd.Env = []string{}
	out := run(t, cmd)
	assert.Contains(t, out, "arg=caf\xe9\n", "argument bytes unchanged")
	assert.NotContains(t, out, "hunter2", "no environment variable of the hook's")
	assert.NotContains(t, out, "PATH=", "no environment variable of the hook's")
	assert.Contains(t, out, "SigIgn:\t0000000000000000\n", "no signal ignored")
	assert.Contains(t, out, "exited with status 0")

	// A nil Env inherits the hook's environment, as under os/exec.
	cmd = exec.Command(script, "x")
	assert.Contains(t, run(t, cmd), "exited with status 0")
}

// TestTimeoutStopsWhatTheCommandStarted: Timeout reaches the command's children too.
func TestTimeoutStopsWhatTheCommandStarted(t *testing.T) {
	dir := t.TempDir()
	log, pidFile := filepath.Join(dir, "log"), filepath.Join(dir, "sleep.pid")
	_, err := detach.Start(exec.Command("/bin/sh", "-c", `sleep 300 & echo $! > "$1"; wait`, "sh", pidFile),
		detach.Options{Immediate: true, LogFile: log, Timeout: 300 * time.Millisecond})
	require.NoError(t, err)
	waitLog(t, log, regexp.MustCompile(`signal: terminated after`))
	b, err := os.ReadFile(pidFile)
	require.NoError(t, err)
	sleepPID, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", sleepPID))
		if err != nil || strings.Contains(string(st), ") Z ") {
			return // gone (or a zombie waiting for init)
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(sleepPID, syscall.SIGKILL)
			t.Fatalf("the command's child %d still runs after the timeout", sleepPID)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
