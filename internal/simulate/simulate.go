// Package simulate runs a hook program exactly as libvirt does (libvirt-hooks.md §3) and reports what libvirt
// would make of the result: argv[0] is the script's path inside a hooks directory (a temporary one holding a
// symlink to the program, so the hook derives its driver as it would in production), the environment is
// cleared to LC_ALL=C plus PATH and HOME, stdin is the XML (or /dev/null for daemon hooks), the working directory
// is /, and a failure is reported with libvirt's own message. Filters (migrate, restore) get their output
// checked and diffed against the input. Sequences replay the calls libvirt makes for a whole lifecycle action.
package simulate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/internal/linediff"
)

// DefaultHooksDir is the hooks directory libvirt's messages name.
const DefaultHooksDir = "/etc/libvirt/hooks"

// DefaultTimeout bounds a simulated call. libvirt has no timeout: a hook that runs longer would block it.
const DefaultTimeout = 30 * time.Second

// Options configures a Runner.
type Options struct {
	// Binary is the hook program.
	Binary string
	// AsD places the program at <driver>.d/<AsD> instead of the main script <driver>.
	AsD string
	// HooksDir is the directory shown in libvirt's messages; DefaultHooksDir when empty.
	HooksDir string
	// Env is the environment passed to the hook; when nil, LC_ALL=C plus PATH and HOME from this process
	// (what libvirt's virCommandAddEnvPassCommon passes under systemd).
	Env []string
	// Timeout bounds each call, and how long to wait for stdout/stderr to close after the hook exited;
	// DefaultTimeout when zero.
	Timeout time.Duration
}

// Call is one hook invocation, with argv elements as libvirt passes them ("-" for none).
type Call struct {
	Driver event.Driver
	Object string
	Op     string
	SubOp  string
	Extra  string
	// Input is the stdin; nil means /dev/null.
	Input []byte
	// InputName says where Input comes from, for reports.
	InputName string
}

// Args returns argv[1..4].
func (c Call) Args() []string { return []string{c.Object, c.Op, c.SubOp, c.Extra} }

// Spec returns the event table row of the call, or nil when libvirt makes no such call.
func (c Call) Spec() *event.Spec { return event.Lookup(c.Driver, c.Op) }

// Runner runs calls against one hook program from a private temporary hooks directory.
type Runner struct {
	opts Options
	bin  string
	tmp  string
}

// New checks the program and prepares a temporary hooks directory; Close removes it.
func New(o Options) (*Runner, error) {
	bin, err := filepath.Abs(o.Binary)
	if err != nil {
		return nil, err
	}
	info, err := os.Stat(bin)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", bin)
	}
	if o.AsD != "" && (strings.ContainsAny(o.AsD, "/\x00") || o.AsD == "." || o.AsD == "..") {
		return nil, fmt.Errorf("invalid --as-d name %q", o.AsD)
	}
	if o.HooksDir == "" {
		o.HooksDir = DefaultHooksDir
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Env == nil {
		o.Env = DefaultEnv(os.Getenv)
	}
	tmp, err := os.MkdirTemp("", "hookkit-run-")
	if err != nil {
		return nil, err
	}
	return &Runner{opts: o, bin: bin, tmp: tmp}, nil
}

// DefaultEnv returns the environment libvirt gives a hook when the daemon has the variables of getenv:
// LC_ALL=C, then PATH and HOME when set.
func DefaultEnv(getenv func(string) string) []string {
	env := []string{"LC_ALL=C"}
	for _, k := range []string{"PATH", "HOME"} {
		if v := getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// Close removes the temporary hooks directory.
func (r *Runner) Close() error { return os.RemoveAll(r.tmp) }

// rel is the script's path relative to a hooks directory.
func (r *Runner) rel(d event.Driver) string {
	if r.opts.AsD != "" {
		return filepath.Join(string(d)+".d", r.opts.AsD)
	}
	return string(d)
}

// scriptPath returns the temporary path of the script for driver d, creating the symlink on first use.
func (r *Runner) scriptPath(d event.Driver) (string, error) {
	path := filepath.Join(r.tmp, r.rel(d))
	if _, err := os.Lstat(path); err == nil {
		return path, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	return path, os.Symlink(r.bin, path)
}

// Result is what one call did and what libvirt makes of it.
type Result struct {
	Call Call
	// Program is the argv[0] the hook got (inside the temporary hooks directory).
	Program string
	// Display is the argv[0] libvirt would pass, inside Options.HooksDir.
	Display string
	Env     []string
	// ExitCode is the exit status; -1 when the hook died of a signal or timed out.
	ExitCode int
	Signal   syscall.Signal
	Stdout   []byte
	Stderr   []byte
	// ExecErr is set when exec itself failed; libvirt's child then exits 126 (127 for ENOENT) with a message
	// on stderr, which ExitCode and Stderr imitate.
	ExecErr error
	// TimedOut: the hook still ran after the timeout and was killed; libvirt would still be waiting.
	TimedOut bool
	// HeldOpen: the hook exited, but something it started kept stdout or stderr open past the timeout;
	// libvirt would still be blocked.
	HeldOpen bool
	// OutputRejected says why libvirt would refuse what a filter hook that succeeded wrote on stdout
	// (not well-formed, another root element), or is "": libvirt then aborts the operation.
	OutputRejected string
	Duration       time.Duration
}

// Failed reports whether libvirt sees the call as failed, its output included.
func (res *Result) Failed() bool {
	return res.ExitCode != 0 || res.TimedOut || res.HeldOpen || res.OutputRejected != ""
}

// Run makes one call.
func (r *Runner) Run(ctx context.Context, c Call) (*Result, error) {
	path, err := r.scriptPath(c.Driver)
	if err != nil {
		return nil, err
	}
	res := &Result{Call: c, Program: path, Display: filepath.Join(r.opts.HooksDir, r.rel(c.Driver)), Env: r.opts.Env}
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, c.Args()...)
	cmd.Env = r.opts.Env
	cmd.Dir = "/"
	if c.Input != nil {
		cmd.Stdin = bytes.NewReader(c.Input)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = r.opts.Timeout
	start := time.Now()
	err = cmd.Run()
	res.Duration = time.Since(start)
	res.Stdout, res.Stderr = stdout.Bytes(), stderr.Bytes()
	var exitErr *exec.ExitError
	var errno syscall.Errno
	switch {
	case err == nil:
	case errors.Is(err, exec.ErrWaitDelay), ctx.Err() != nil && cmd.ProcessState != nil && cmd.ProcessState.Exited():
		// The hook exited (with any status: os/exec reports ErrWaitDelay only for 0), but what it started
		// kept its stdout or stderr open until the timeout.
		res.HeldOpen = true
		res.ExitCode = cmd.ProcessState.ExitCode()
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the child that holds the pipes, if still in the group
	case ctx.Err() != nil && cmd.ProcessState != nil:
		res.TimedOut, res.ExitCode, res.Signal = true, -1, syscall.SIGKILL
	case errors.As(err, &exitErr):
		res.ExitCode = exitErr.ExitCode()
		if st, ok := exitErr.Sys().(syscall.WaitStatus); ok && st.Signaled() {
			res.Signal = st.Signal()
		}
	case errors.As(err, &errno):
		res.ExecErr = err
		res.ExitCode = 126
		if errno == syscall.ENOENT {
			res.ExitCode = 127
		}
		res.Stderr = fmt.Appendf(nil, "libvirt:  error : cannot execute binary %s: %s\n", res.Display, strerror(errno))
	default:
		return nil, err
	}
	if spec := c.Spec(); spec != nil && spec.Filter && !res.Failed() && len(bytes.TrimSpace(res.Stdout)) > 0 {
		res.OutputRejected = checkOutput(c.Input, res.Stdout)
	}
	return res, nil
}

// strerror spells an errno as C's strerror does (capitalised).
func strerror(e syscall.Errno) string {
	s := e.Error()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// LibvirtError returns the error libvirt reports for a failed call, as virsh prints it (without "error: "),
// or "" when the call succeeded.
func (res *Result) LibvirtError() string {
	if !res.Failed() {
		return ""
	}
	var status string
	switch {
	case res.TimedOut:
		return fmt.Sprintf("(none yet: libvirt has no timeout and would still be waiting for %s after %s)", res.Display, res.Duration.Round(time.Millisecond))
	case res.HeldOpen:
		return fmt.Sprintf("(none yet: %s exited, but a process it started keeps its stdout/stderr open, so libvirt would still be blocked after %s)", res.Display, res.Duration.Round(time.Millisecond))
	case res.OutputRejected != "":
		return "(an XML error: the hook succeeded, but libvirt fails to parse what it wrote as the new XML)"
	case res.Signal != 0:
		status = fmt.Sprintf("fatal signal %d", int(res.Signal))
	default:
		status = fmt.Sprintf("exit status %d", res.ExitCode)
	}
	var words []string
	for _, kv := range res.Env {
		k, v, _ := strings.Cut(kv, "=")
		words = append(words, k+"="+ShellQuote(v))
	}
	words = append(words, ShellQuote(res.Display))
	for _, a := range res.Call.Args() {
		words = append(words, ShellQuote(a))
	}
	msg := fmt.Sprintf("Hook script execution failed: internal error: Child process (%s) unexpected %s", strings.Join(words, " "), status)
	if len(res.Stderr) > 0 {
		msg += ": " + string(res.Stderr)
	}
	return strings.TrimRight(msg, "\n")
}

// ShellQuote quotes s as libvirt's virBufferEscapeShell does in virCommandToString.
func ShellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, "\r\t\n !\"#$&'()*;<>?[\\]^`{|}~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Effect says what libvirt does about the result: the failure effect of the event table for a failed call.
func (res *Result) Effect() string {
	spec := res.Call.Spec()
	if !res.Failed() || spec == nil {
		return ""
	}
	return spec.FailureText
}

// Output returns the XML libvirt continues with after a filter call: the hook's stdout when it succeeded
// with a non-empty output, else the input.
func (res *Result) Output() []byte {
	if spec := res.Call.Spec(); spec != nil && spec.Filter && !res.Failed() && len(bytes.TrimSpace(res.Stdout)) > 0 {
		return res.Stdout
	}
	return res.Call.Input
}

// Report writes a human-readable account of the call to w.
func (res *Result) Report(w io.Writer, indent string) {
	c := res.Call
	fmt.Fprintf(w, "%scall:   %s %s\n", indent, res.Display, strings.Join(quoteAll(c.Args()), " "))
	fmt.Fprintf(w, "%sargv0:  %s\n", indent, res.Program)
	if c.Input == nil {
		fmt.Fprintf(w, "%sstdin:  /dev/null\n", indent)
	} else {
		fmt.Fprintf(w, "%sstdin:  %s (%d bytes)\n", indent, c.InputName, len(c.Input))
	}
	spec := c.Spec()
	if spec == nil {
		fmt.Fprintf(w, "%snote:   libvirt never makes this call (not in the event table)\n", indent)
	}
	if res.Failed() {
		fmt.Fprintf(w, "%sresult: FAILED (%s, %s)\n", indent, statusText(res), res.Duration.Round(time.Millisecond))
		fmt.Fprintf(w, "%slibvirt: %s\n", indent, res.LibvirtError())
		if e := res.Effect(); e != "" {
			fmt.Fprintf(w, "%seffect: %s\n", indent, e)
		}
	} else {
		fmt.Fprintf(w, "%sresult: ok (exit status 0, %s)\n", indent, res.Duration.Round(time.Millisecond))
		if len(res.Stderr) > 0 {
			fmt.Fprintf(w, "%sstderr: (only in libvirt's debug log)\n", indent)
			writeIndented(w, indent+"  | ", res.Stderr)
		}
	}
	if spec != nil && spec.Filter {
		res.reportFilter(w, indent)
	} else if len(res.Stdout) > 0 {
		fmt.Fprintf(w, "%sstdout: %d bytes, ignored by libvirt (only in its debug log)\n", indent, len(res.Stdout))
	}
}

func (res *Result) reportFilter(w io.Writer, indent string) {
	switch {
	case res.OutputRejected != "":
		fmt.Fprintf(w, "%soutput: %s\n", indent, res.OutputRejected)
	case res.Failed():
		if len(res.Stdout) > 0 {
			fmt.Fprintf(w, "%soutput: ignored, the hook failed\n", indent)
		}
	case len(bytes.TrimSpace(res.Stdout)) == 0:
		fmt.Fprintf(w, "%soutput: empty: libvirt keeps the input XML unchanged\n", indent)
	default:
		diff := linediff.Unified("input", "output", string(res.Call.Input), string(res.Stdout), 3)
		if diff == "" {
			fmt.Fprintf(w, "%soutput: same lines as the input\n", indent)
			return
		}
		fmt.Fprintf(w, "%soutput: replaces the XML; diff:\n", indent)
		writeIndented(w, indent+"  ", []byte(diff))
	}
}

func statusText(res *Result) string {
	switch {
	case res.TimedOut:
		return "still running after the timeout; killed"
	case res.HeldOpen:
		return "stdout/stderr still open after the timeout"
	case res.OutputRejected != "":
		return "exit status 0, but libvirt rejects its output"
	case res.ExecErr != nil:
		return fmt.Sprintf("exec failed: %v; libvirt's child exits %d", res.ExecErr, res.ExitCode)
	case res.Signal != 0:
		return "killed by signal " + res.Signal.String()
	}
	return fmt.Sprintf("exit status %d", res.ExitCode)
}

func quoteAll(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = ShellQuote(a)
	}
	return out
}

func writeIndented(w io.Writer, prefix string, text []byte) {
	for _, line := range strings.Split(strings.TrimRight(string(text), "\n"), "\n") {
		fmt.Fprintf(w, "%s%s\n", prefix, line)
	}
}
