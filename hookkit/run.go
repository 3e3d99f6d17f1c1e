package hookkit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/hookkit/internal/childhook"
)

// Exit statuses of Run.
const (
	// ExitOK: the hook succeeded; libvirt carries on.
	ExitOK = 0
	// ExitFailure: the hook failed; libvirt aborts the operation where the event allows it.
	ExitFailure = 1
	// ExitUsage: the program was run by hand without the arguments libvirt passes.
	ExitUsage = 2
)

// signalArmDelay is how long after the process starts Main arms its SIGTERM/SIGINT handler. Arming costs
// every process an extra OS thread (os/signal's receive loop), about a tenth of a hook's run time; most
// hooks finish well within the delay and never pay it. A signal before then ends the process by the
// signal's default action, which libvirt also reports as a failure.
const signalArmDelay = 5 * time.Millisecond

// Main runs the router as libvirt's hook program and exits: it is Run with os.Args and the standard
// streams, under a deadline and a context cancelled on SIGTERM or SIGINT. It never returns.
func (r *Router) Main() {
	childhook.Run() // a detached supervisor started by package detach never comes back from here
	// SIGPIPE is not ignored: an ignored signal stays ignored in every program a handler runs. A filter's
	// document goes out through a descriptor other than 1 (see muteStdout), where a closed pipe is EPIPE.
	os.Exit(r.runProcess(os.Args, os.Stdin, os.Stdout, os.Stderr, &process{exit: os.Exit}))
}

// runProcess is Main with the process's streams and exit injected: it arms the process's timer first
// thing, runs the call under the deadline and returns the exit status once the call has claimed the
// answer. When the watchdog claims it first (deadline or signal), the watchdog answers and exits.
//
// The timer is armed before stdin is read, so that the deadline also cuts off a writer that never closes
// stdin: libvirt waits for the hook, and a hook blocked on its input would hold the VM's operation forever.
func (r *Router) runProcess(args []string, stdin io.Reader, stdout, stderr io.Writer, p *process) int {
	cfg := &r.mux.cfg
	ctx, cancel := context.WithCancelCause(context.Background())
	p.cancel, p.stderr, p.program = cancel, stderr, programName(cfg.name, args)
	var deadline time.Time
	if cfg.timeout > 0 {
		deadline = time.Now().Add(cfg.timeout)
		ctx = deadlineContext{Context: ctx, deadline: deadline}
	}
	p.arm(cfg.timeout, deadline)
	code := r.run(ctx, args, stdin, stdout, stderr, p)
	p.answerOrWait()
	return code
}

// process is what Main adds to Run: the call's cancel function, one timer for the deadline and the
// signal handler, and the rule that exactly one of the call and the watchdog answers libvirt.
type process struct {
	exit    func(int) // os.Exit
	cancel  context.CancelCauseFunc
	stderr  io.Writer
	program string // for the watchdog's line before the call is parsed
	// answer says who answers libvirt (writes the stderr line or a filter's stdout, then exits): 0 nobody
	// yet, answerCall or answerWatchdog. Whoever claims it first answers; the other never writes.
	answer atomic.Int32
	// late writes the stderr line and log of a call the watchdog cut off; run sets it once it knows the call.
	late atomic.Pointer[func(error) int]
}

const (
	answerCall     = 1
	answerWatchdog = 2
)

// claim reports whether the call may answer libvirt, claiming the answer for it when nobody has. On a
// nil process (Run) the call always answers.
func (p *process) claim() bool {
	return p == nil || p.answer.CompareAndSwap(0, answerCall) || p.answer.Load() == answerCall
}

// answerOrWait claims the answer for the call, or, when the watchdog has claimed it, blocks for good:
// the watchdog is answering and exits the process.
func (p *process) answerOrWait() {
	if !p.claim() {
		select {}
	}
}

// setLate records how the watchdog reports the call once run has parsed it.
func (p *process) setLate(f func(error) int) {
	if p != nil {
		p.late.Store(&f)
	}
}

// arm starts the process's only timer. After signalArmDelay (or at the deadline, when that comes first)
// it arms the SIGTERM/SIGINT handler and, when there is a deadline, a second timer for the rest of it.
// A hook that finishes within the delay has created one timer and no signal thread: each timer costs a
// fresh process a wake-up of another thread, so the deadline and the signal arming share one.
func (p *process) arm(timeout time.Duration, deadline time.Time) {
	delay := signalArmDelay
	if timeout > 0 {
		delay = min(delay, timeout)
	}
	time.AfterFunc(delay, func() {
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
		go func() {
			s := <-sigs
			p.expire(fmt.Errorf("interrupted by signal: %v", s))
		}()
		if timeout > 0 {
			time.AfterFunc(time.Until(deadline), func() { p.expire(timeoutError(timeout)) })
		}
	})
}

// expire cancels the call's context with cause and, unless the call has already claimed the answer,
// answers libvirt with cause and exits. (Between its claim and the exit, contexts a handler derived from
// the call's end with context.Canceled, whatever the cause: no answer can come from them any more.)
func (p *process) expire(cause error) {
	// Claim first, then cancel: cancelled first, a handler that honours its context could return and
	// answer with its own error ("context canceled") in place of the deadline's or the signal's.
	claimed := p.answer.CompareAndSwap(0, answerWatchdog)
	p.cancel(cause)
	if !claimed {
		return // the call is answering
	}
	code := ExitFailure
	if f := p.late.Load(); f != nil {
		code = (*f)(cause)
	} else {
		fmt.Fprintf(p.stderr, "%s: %s\n", printable(p.program), oneLine(cause.Error()))
	}
	p.exit(code)
}

// timeoutError is why a call's context ends at its deadline: "timed out after 30s". It is a type rather
// than an fmt.Errorf made on every call, so that hooks that finish in time never format it.
type timeoutError time.Duration

func (e timeoutError) Error() string { return "timed out after " + time.Duration(e).String() }

// Is makes errors.Is(err, context.DeadlineExceeded) hold for the cause too.
func (e timeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// deadlineContext is the context of a call under Main: it reports the deadline that process.arm
// enforces, and the error of a context that timed out, without a timer of its own.
type deadlineContext struct {
	context.Context
	deadline time.Time
}

func (c deadlineContext) Deadline() (time.Time, bool) { return c.deadline, true }

func (c deadlineContext) Err() error {
	err := c.Context.Err()
	if err != nil && errors.Is(context.Cause(c.Context), context.DeadlineExceeded) {
		return context.DeadlineExceeded
	}
	return err
}

// Run handles one invocation: args is argv (args[0] the program path libvirt executed), stdin, stdout and
// stderr are the process's streams. It returns the exit status (ExitOK, ExitFailure or ExitUsage) and
// writes at most one line to stderr. For filter ops it writes the new document to stdout only when every
// handler succeeded and one of them called ReplaceXML. The deadline (WithTimeout) and ctx cover the whole
// call, reading stdin included: Run returns when either ends, even if stdin or a handler never returns.
func (r *Router) Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return r.run(ctx, args, stdin, stdout, stderr, nil)
}

// run is Run. With proc nil (Run) stdin is read and the handlers run on goroutines of their own, so
// that run can return when the deadline passes or ctx is cancelled while either is stuck. With proc set
// (Main) both run on the calling goroutine, which saves a goroutine hand-off (a thread wake-up) per hook
// process; proc's watchdog answers libvirt and exits when the deadline or a signal comes first, and run
// claims the answer from proc before it writes to stderr or stdout.
//
// run is three calls one after another rather than one function: stdin is read and scanned by load,
// whose frame sits right on top of run's small one. A fresh goroutine has a 2 KB stack that the runtime
// grows by copying; scanned from under dispatch's large frame, the scan needed an 8 KB stack, a growth
// that cost a fresh hook process 8 page faults and about 0.07 ms (docs/benchmarks.md, "Third pass").
func (r *Router) run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, proc *process) int {
	if proc == nil && r.mux.cfg.timeout > 0 { // under Main, runProcess has set the deadline and armed its timer
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, r.mux.cfg.timeout, timeoutError(r.mux.cfg.timeout))
		defer cancel()
	}
	s, code := r.parse(ctx, args, stderr, proc)
	if s == nil {
		return code
	}
	var err error
	if proc == nil {
		err = s.loadWithin(ctx, stdin)
	} else {
		err = s.load(stdin)
	}
	if err != nil {
		return s.fail(err)
	}
	return r.dispatch(s, stdout, proc)
}

// programName is the name a hook gives itself on stderr and in logs: WithName's, else argv[0]'s base name.
func programName(name string, args []string) string {
	if name == "" && len(args) > 0 {
		name = filepath.Base(args[0])
	}
	if name == "" {
		name = "hook"
	}
	return name
}

// callState is what the steps of run share about one invocation.
type callState struct {
	r       *Router
	program string
	inv     Invocation // as parsed: what the stderr line and the log name, whatever handlers do to c
	c       *Call
	routes  []*route
	known   bool // libvirt is known to make this call, so stdin must be the payload the event table names
	stderr  io.Writer
	proc    *process // nil under Run
	logOnce sync.Once
	logger  *slog.Logger
}

// log returns the call's logger, built on first use: a hook that logs nothing does not pay for
// formatting attributes. The handlers, the functions they start with Go and the watchdog may all ask
// for it first.
func (s *callState) log() *slog.Logger {
	s.logOnce.Do(func() { s.logger = s.r.logger(s.program, s.inv) })
	return s.logger
}

// fail writes the one stderr line of a failed call and returns ExitFailure. Under Main it first claims
// the answer; when the watchdog has claimed it, fail never returns: the watchdog answers and exits.
func (s *callState) fail(err error) int {
	s.proc.answerOrWait()
	return s.writeFail(err)
}

// writeFail writes the stderr line of fail without claiming the answer.
func (s *callState) writeFail(err error) int {
	fmt.Fprintf(s.stderr, "%s: %s: %s\n", printable(s.program), printable(s.inv.String()), oneLine(err.Error()))
	return ExitFailure
}

// parse reads argv and finds the routes of the call. It returns a nil state and the exit status when the
// call ends there: usage, an unknown call under Strict, or nothing registered for it.
func (r *Router) parse(ctx context.Context, args []string, stderr io.Writer, proc *process) (*callState, int) {
	cfg := &r.mux.cfg
	program := programName(cfg.name, args)
	inv, err := ParseInvocation(args, cfg.driver)
	if err != nil {
		proc.answerOrWait()
		fmt.Fprintf(stderr, "%s: %v\n", printable(program), err)
		fmt.Fprintf(stderr, "usage: %s <object> <op> <subop> [<extra>]\n"+
			"  a libvirt hook built with hookkit: install it as /etc/libvirt/hooks/<driver> or <driver>.d/<name>;\n"+
			"  to try it by hand: hookkit run %s -- qemu vm1 prepare begin - --xml domain.xml\n", program, program)
		return nil, ExitUsage
	}
	s := &callState{r: r, program: program, inv: inv, stderr: stderr, proc: proc}
	s.c = &Call{Invocation: inv, ctx: ctx, logger: s.log}
	proc.setLate(func(cause error) int {
		code := s.writeFail(cause) // the answer first: logging must never delay it
		logBounded(func() { s.log().Error("hook cut off before it answered", "cause", cause.Error()) })
		return code
	})
	s.known = inv.Spec != nil && undash(inv.Spec.SubOp) == undash(inv.SubOp)
	var unknown error
	switch {
	case inv.Driver == "":
		unknown = fmt.Errorf("unknown hook driver: %q is not a libvirt driver name (%s) and is not in a <driver>.d directory", filepath.Base(inv.Program), event.Join(event.Drivers, ", "))
	case inv.Spec == nil:
		unknown = fmt.Errorf("unknown op %q for driver %s", inv.Op, inv.Driver)
	case !s.known:
		unknown = fmt.Errorf("unknown subop %q for %s %s (libvirt passes %q)", inv.SubOp, inv.Driver, inv.Op, inv.Spec.SubOp)
	}
	if unknown != nil && cfg.strict {
		return nil, s.fail(unknown)
	}
	if inv.Driver != "" && (s.known || inv.Spec == nil) {
		// Typed handlers run for the calls they were generated for; Handle also takes ops the table lacks.
		s.routes = r.mux.candidates(inv)
	}
	if len(s.routes) == 0 && len(r.mux.catchAll) == 0 {
		logBounded(func() {
			if unknown != nil {
				s.log().Warn("call not handled: "+unknown.Error(), "program", inv.Program)
			} else {
				s.log().Info("no handler registered for this event, nothing done")
			}
		})
		return nil, ExitOK
	}
	return s, ExitOK
}

// load reads stdin into the call and, for a call libvirt is known to make, scans it. It returns why the
// call fails there, if it does.
func (s *callState) load(stdin io.Reader) error {
	c := s.c
	switch {
	case s.known && c.Spec.Payload != event.PayloadNone:
		in, err := readInput(stdin, s.r.mux.cfg.maxInput)
		if err != nil {
			return err
		}
		c.input = in
		if _, err := c.scan(); err != nil {
			return err
		}
	case !s.known && c.Driver != event.Daemon:
		// A call hookkit does not know: hand whatever stdin carries to the handlers, whose payload
		// accessors report what is wrong with it, instead of failing the call up front.
		in, err := readInput(stdin, s.r.mux.cfg.maxInput)
		if err != nil {
			return err
		}
		c.input = in
	}
	return nil
}

// loadWithin is load under Run, where no watchdog enforces the deadline: it reads stdin on its own
// goroutine and gives up when ctx ends first, so that a reader that never returns cannot hold Run past
// the deadline. (The goroutine stays blocked in that reader's Read until it returns.) It is a function of
// its own so that run's frame, under which Main scans stdin, stays small.
//
//go:noinline
func (s *callState) loadWithin(ctx context.Context, stdin io.Reader) error {
	switch stdin.(type) {
	case nil, *bytes.Reader, *strings.Reader, *bytes.Buffer: // in memory: a Read never blocks
		if err := s.load(stdin); err != nil {
			return err
		}
		return context.Cause(ctx) // nil unless ctx has already ended
	}
	done := make(chan error, 1)
	go func() { done <- s.load(stdin) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// dispatch runs the call's handlers under its deadline and answers libvirt.
func (r *Router) dispatch(s *callState, stdout io.Writer, proc *process) int {
	c, routes, log, fail := s.c, s.routes, s.log, s.fail
	ctx := c.ctx
	var err error

	var h Handler = HandlerFunc(func(c *Call) error {
		ran := false
		runRoutes := func(routes []*route) error {
			for _, rt := range routes {
				if !rt.scope.matches(c) {
					continue
				}
				ran = true
				if err := rt.scope.wrap(rt.h).ServeHook(c); err != nil {
					return err
				}
			}
			return nil
		}
		if err := runRoutes(routes); err != nil || ran {
			return err
		}
		if err := runRoutes(r.mux.catchAll); err != nil || ran {
			return err
		}
		c.Logger().Info("no handler matched this call, nothing done")
		return nil
	})
	for i := len(r.mws) - 1; i >= 0; i-- {
		h = r.mws[i](h)
	}

	failed := func(err error, late bool) int {
		code := fail(err) // the answer first: logging must never delay it
		logBounded(func() {
			if late {
				log().Error("handler did not return in time", "cause", err.Error())
			}
			log().Error("hook failed", "error", err.Error())
		})
		return code
	}
	late := false // Run stopped waiting for the handlers at the deadline
	if c.Filter() {
		// A no-op unless stdout is a file: under Main, or Run given os.Stdout.
		var unmute func()
		stdout, unmute = muteStdout(stdout)
		defer unmute()
	}
	if proc != nil {
		// Whoever claims the answer first gives it: the handlers returning, or proc's watchdog when the
		// deadline passes or a signal comes first. (The watchdog is called by proc's timer and signal
		// callbacks directly, not by context.AfterFunc, which would give the context a map of children
		// to allocate in every process.) After a Goexit this goroutine, Main's, cannot return: the
		// answer and the exit happen in report.
		s.serve(h, func(e error) {
			if err = e; e == goexitError("handler") {
				proc.exit(failed(e, false))
			}
		})
		proc.answerOrWait()
	} else {
		done := make(chan error, 1)
		go s.serve(h, func(e error) { done <- e })
		select {
		case err = <-done:
		case <-ctx.Done():
			err, late = context.Cause(ctx), true
		}
	}
	if err != nil {
		return failed(err, late)
	}
	if out := c.replaced(); c.Filter() && out != nil {
		if _, err := scanDocument(out, "domain"); err != nil {
			return fail(fmt.Errorf("filter produced a document libvirt would reject: %w", err))
		}
		if _, err := stdout.Write(out); err != nil {
			return fail(fmt.Errorf("write the new XML to stdout: %w", err))
		}
	}
	return ExitOK
}

// serve runs the handlers h, waits for the functions they started with Call.Go and reports the
// result, whichever way the handlers ended (see guard).
func (s *callState) serve(h Handler, report func(error)) {
	guard(s.c.logger, "handler", func() error { return h.ServeHook(s.c) }, func(err error) { report(s.c.finish(err)) })
}

// guard calls fn and then report with fn's outcome: its error; "panic: <value>" after a panic, whose
// stack goes to the log only; a goexitError after runtime.Goexit. report is called from a deferred call,
// because a goroutine that called Goexit never returns to its caller (t.FailNow and testify's require
// call it: a test that uses them in a handler must get its failure, not a timeout). who names fn in
// the log.
func guard(log func() *slog.Logger, who string, fn func() error, report func(error)) {
	var err error
	returned := false
	defer func() {
		if v := recover(); v != nil {
			stack := string(debug.Stack())
			logBounded(func() { log().Error(who+" panicked", "panic", fmt.Sprint(v), "stack", stack) })
			err = fmt.Errorf("panic: %v", v)
		} else if !returned {
			stack := string(debug.Stack())
			logBounded(func() { log().Error(who+" called runtime.Goexit", "stack", stack) })
			err = goexitError(who)
		}
		report(err)
	}()
	err = fn()
	returned = true
	err = plainError(err)
}

// plainError returns err as a plain error holding its message, formatted here, where a panic is
// recovered and the deadline still runs: the Router later writes the message to stderr after it has
// claimed the answer, where an Error method that panics (the typed-nil mistake: a nil *MyError
// returned as an error) would print a Go stack trace, and one that blocks would hold the hook for ever.
// errors.Is and errors.As still see err through Unwrap.
func plainError(err error) (out error) {
	if err == nil {
		return nil
	}
	defer func() {
		if v := recover(); v != nil {
			out = fmt.Errorf("the handler's error value panicked in its Error method (a nil pointer returned as an error?): %v", v)
		}
	}()
	return &formattedError{msg: err.Error(), err: err}
}

// formattedError is an error whose message was formatted once, by plainError.
type formattedError struct {
	msg string
	err error
}

func (e *formattedError) Error() string { return e.msg }
func (e *formattedError) Unwrap() error { return e.err }

// goexitError is the error of a handler, or of a function started by Call.Go, that called
// runtime.Goexit instead of returning; its value names which.
type goexitError string

func (e goexitError) Error() string {
	return string(e) + " called runtime.Goexit instead of returning (t.FailNow and require.* do; in a hook, return an error)"
}

// candidates returns the routes registered for the invocation's driver and op, in registration order.
func (m *mux) candidates(inv Invocation) []*route {
	key := event.Key{Driver: inv.Driver, Op: inv.Op}
	var out []*route
	for _, rt := range m.routes {
		for _, k := range rt.keys {
			if k == key {
				out = append(out, rt)
				break
			}
		}
	}
	return out
}

// readInput reads stdin whole, failing past max bytes. It reads into chunks (16 KiB first, so the usual
// domain takes one read and no copy, then doubling up to 1 MiB) and joins them only at the end, so that
// refusing an oversized stdin holds no more than max bytes, and a large legal one at most twice its size.
func readInput(r io.Reader, max int64) ([]byte, error) {
	if r == nil {
		return nil, nil
	}
	var chunks [][]byte
	var total int64
	size := int64(16 << 10)
	for {
		buf := make([]byte, min(size, max+1-total))
		n, err := io.ReadFull(r, buf)
		total += int64(n)
		chunks = append(chunks, buf[:n])
		if total > max {
			return nil, fmt.Errorf("stdin is larger than %d bytes: refusing to read more", max)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read stdin: %w", err)
		}
		size = min(2*size, 1<<20)
	}
	if len(chunks) == 1 {
		return chunks[0], nil
	}
	out := make([]byte, 0, total)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return out, nil
}

// oneLine folds a multi-line message into one line: libvirt shows the hook's whole stderr in its error.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	for i := range fields {
		fields[i] = strings.TrimSpace(fields[i])
	}
	return strings.Join(fields, "; ")
}

// printable replaces control characters, which argv may carry, so that the error stays one line.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

func (r *Router) logger(program string, inv Invocation) *slog.Logger {
	cfg := &r.mux.cfg
	base := cfg.logger
	if base == nil {
		base = slog.New(newSinkHandler(program, cfg.logFile, cfg.logLevel))
	}
	return base.With("hook", program, "driver", string(inv.Driver), "object", inv.Object, "op", inv.Op,
		"subop", inv.SubOp, "extra", inv.Extra)
}
