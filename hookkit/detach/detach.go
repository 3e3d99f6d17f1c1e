package detach

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// childEnv marks a process started by Start as a detached supervisor.
const childEnv = "HOOKKIT_DETACH_CHILD"

// specFD is the descriptor on which the supervisor reads its spec and then waits
// for the hook's exit.
const specFD = 3

// Options configures detached work. The zero value waits for the calling
// process to exit, then runs the work at once, without a time limit, with its
// output discarded.
type Options struct {
	// LogFile receives the work's stdout and stderr and the supervisor's start and
	// exit lines. It is opened for append and created with mode 0600 (and its
	// directory with 0700). Empty means /dev/null.
	LogFile string
	// Delay is waited after the calling process exited (or, with Immediate, after
	// the start) before the work runs.
	Delay time.Duration
	// Immediate starts the work without waiting for the calling process to exit.
	// Hooks should leave it false: a virsh call made while the hook still runs
	// waits for the hook.
	Immediate bool
	// Timeout, when positive, limits the work: a command gets SIGTERM, then
	// SIGKILL 5 seconds later; a job's context is cancelled.
	Timeout time.Duration
}

// spec is what the supervisor is told to do.
type spec struct {
	Job     string
	Path    string   // command to run; empty for a job
	Args    []string // the command's argv, or the job's args
	Env     []string // the command's environment; nil (a job) inherits the supervisor's
	Dir     string
	Delay   time.Duration
	Timeout time.Duration
}

// wireSpec is a spec as it travels through the pipe, in JSON. Its strings travel as bytes (base64),
// because JSON replaces invalid UTF-8, such as a Latin-1 file name in an argument, with U+FFFD, and the
// command must get exactly the bytes it was given. An empty Env stays empty (no omitempty): a command
// given cmd.Env = []string{} runs with no environment, as under os/exec.
type wireSpec struct {
	Job     string        `json:"job,omitempty"`
	Path    []byte        `json:"path,omitempty"`
	Args    [][]byte      `json:"args"`
	Env     [][]byte      `json:"env"`
	Dir     []byte        `json:"dir,omitempty"`
	Delay   time.Duration `json:"delay,omitempty"`
	Timeout time.Duration `json:"timeout,omitempty"`
}

func (s *spec) marshal() ([]byte, error) {
	return json.Marshal(wireSpec{Job: s.Job, Path: []byte(s.Path), Args: toBytes(s.Args), Env: toBytes(s.Env),
		Dir: []byte(s.Dir), Delay: s.Delay, Timeout: s.Timeout})
}

func unmarshalSpec(b []byte) (*spec, error) {
	var w wireSpec
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, err
	}
	return &spec{Job: w.Job, Path: string(w.Path), Args: fromBytes(w.Args), Env: fromBytes(w.Env),
		Dir: string(w.Dir), Delay: w.Delay, Timeout: w.Timeout}, nil
}

// toBytes and fromBytes convert keeping nil and empty apart.
func toBytes(ss []string) [][]byte {
	if ss == nil {
		return nil
	}
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

func fromBytes(bs [][]byte) []string {
	if bs == nil {
		return nil
	}
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out
}

func (s *spec) label() string {
	if s.Job != "" {
		return s.Job
	}
	return filepath.Base(s.Path)
}

var (
	// wired records that this program calls MaybeRunChild, so a re-executed
	// copy of it will become a supervisor instead of running as a hook.
	wired atomic.Bool

	// keep holds the write ends of spec pipes until the process exits: the
	// supervisors wait for their end of file, and an *os.File that is garbage
	// collected closes its descriptor.
	keepMu sync.Mutex
	keep   []*os.File
)

// Start runs cmd detached from the calling process and returns the pid of its
// supervisor (see the package documentation). cmd must come from exec.Command
// and must not have been started; its Path, Args, Env and Dir are used (Dir
// defaults to "/"), and its Stdin, Stdout, Stderr, ExtraFiles and SysProcAttr
// must be unset: output goes to opts.LogFile.
//
// A command that cannot be found, or is not an executable file, fails here; one
// that fails later (after the hook exited) reports in the log file. Start marks every descriptor of the
// calling process above stderr close-on-exec.
func Start(cmd *exec.Cmd, opts Options) (pid int, err error) {
	if cmd == nil {
		return 0, errors.New("detach: nil command")
	}
	name := filepath.Base(cmd.Path)
	switch {
	case cmd.Err != nil:
		return 0, fmt.Errorf("detach %s: %w", name, cmd.Err)
	case cmd.Process != nil:
		return 0, fmt.Errorf("detach %s: command already started", name)
	case cmd.Stdin != nil || cmd.Stdout != nil || cmd.Stderr != nil:
		return 0, fmt.Errorf("detach %s: Stdin, Stdout and Stderr must be nil (output goes to Options.LogFile)", name)
	case len(cmd.ExtraFiles) > 0 || cmd.SysProcAttr != nil:
		return 0, fmt.Errorf("detach %s: ExtraFiles and SysProcAttr must be nil", name)
	}
	path := cmd.Path
	if !filepath.IsAbs(path) {
		// As under os/exec, a relative path is relative to cmd.Dir when it is set; make it absolute here,
		// where this process's working directory is the one the caller meant.
		abs, err := filepath.Abs(filepath.Join(cmd.Dir, path))
		if err != nil {
			return 0, fmt.Errorf("detach %s: %w", name, err)
		}
		path = abs
	}
	// The supervisor starts the command after the hook has exited, where nobody sees its error but the
	// log: a path that names no executable file (a typo, the usual mistake with the absolute paths a
	// cleared environment calls for) fails now.
	if fi, err := os.Stat(path); err != nil {
		return 0, fmt.Errorf("detach %s: %w", name, err)
	} else if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return 0, fmt.Errorf("detach %s: %s is not an executable file", name, path)
	}
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	sp := &spec{Path: path, Args: cmd.Args, Env: withoutChildEnv(env), Dir: cmd.Dir, Delay: opts.Delay, Timeout: opts.Timeout}
	if len(sp.Args) == 0 {
		sp.Args = []string{cmd.Path}
	}
	return start(sp, opts)
}

func start(sp *spec, opts Options) (int, error) {
	label := sp.label()
	if !wired.Load() {
		return 0, fmt.Errorf("detach %s: this program does not call detach.MaybeRunChild() at the start of main (hookkit's Router.Main does)", label)
	}
	payload, err := sp.marshal()
	if err != nil {
		return 0, fmt.Errorf("detach %s: %w", label, err)
	}
	payload = append(payload, '\n')

	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return 0, fmt.Errorf("detach %s: %w", label, err)
	}
	defer devnull.Close()
	out, err := openLog(opts.LogFile)
	if err != nil {
		return 0, fmt.Errorf("detach %s: %w", label, err)
	}
	defer out.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return 0, fmt.Errorf("detach %s: %w", label, err)
	}
	defer r.Close()

	exe := "/proc/self/exe" // the running binary, even if replaced on disk since
	if _, err := os.Stat(exe); err != nil {
		if exe, err = os.Executable(); err != nil {
			w.Close()
			return 0, fmt.Errorf("detach %s: %w", label, err)
		}
	}
	closeInheritedOnExec()
	c := &exec.Cmd{
		Path:        exe,
		Args:        []string{os.Args[0], "hookkit-detach", label},
		Env:         append(withoutChildEnv(os.Environ()), childEnv+"=1"),
		Dir:         "/",
		Stdin:       devnull,
		Stdout:      out,
		Stderr:      out,
		ExtraFiles:  []*os.File{r}, // becomes specFD
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	if err := c.Start(); err != nil {
		w.Close()
		return 0, fmt.Errorf("detach %s: %w", label, err)
	}
	pid := c.Process.Pid
	// The supervisor has its own copy of the read end. Without ours, a supervisor that died before
	// reading makes the write below fail (EPIPE) instead of blocking once the pipe is full.
	r.Close()
	_, werr := w.Write(payload)
	if opts.Immediate || werr != nil {
		w.Close()
		// The supervisor may finish while we still run: reap it, or it stays a
		// zombie for as long as this (perhaps long-running) process lives.
		go func() { _ = c.Wait() }()
	} else {
		// The supervisor cannot exit before we do (it waits for our end of
		// file), so nothing is ever left to reap: init reaps it once we exit.
		_ = c.Process.Release()
		keepMu.Lock()
		keep = append(keep, w)
		keepMu.Unlock()
	}
	if werr != nil {
		return 0, fmt.Errorf("detach %s: send spec to pid %d: %w", label, pid, werr)
	}
	return pid, nil
}

func openLog(path string) (*os.File, error) {
	if path == "" {
		return os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
}

func withoutChildEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, childEnv+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// closeInheritedOnExec marks every descriptor above stderr close-on-exec. Go
// opens its own files close-on-exec, so this only affects descriptors the process
// inherited without the flag; the child must not keep any of them (one of them
// could be a copy of libvirt's output pipe).
func closeInheritedOnExec() {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}
