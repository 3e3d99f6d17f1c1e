package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/internal/simulate"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{
		name:    "run",
		args:    "BINARY -- DRIVER OBJECT OP [SUBOP [EXTRA]] [--xml FILE|-] [--as-d NAME]\n       hookkit run BINARY --sequence " + simulate.SequenceNames() + " [--driver DRIVER] [--xml FILE|-]",
		summary: "run a hook program exactly as libvirt does and show what libvirt would make of it",
		help: `The hook gets argv[0] = <hooks dir>/<driver> (a symlink to BINARY in a temporary directory; with
--as-d NAME it is <driver>.d/NAME), argv[1..4] = OBJECT OP SUBOP EXTRA, the environment cleared to
LC_ALL=C plus PATH and HOME, stdin the XML (/dev/null for daemon hooks) and the working directory /.
SUBOP and EXTRA default to what libvirt passes for the op (see "hookkit events").

Without --xml the stdin is a built-in sample captured from a real libvirtd for that call. A failure is
shown as libvirt reports it ("Hook script execution failed: ..."), with the effect libvirt gives it; for the
filter ops (migrate, restore) the output XML is checked and diffed against the input.

--sequence replays every call libvirt makes for an action, stopping where libvirt stops:
` + sequenceHelp() + `

--net-ports (domain actions): network port-created after prepare for each <interface type='network'>,
port-deleted between stopped and release, as libvirt does.

Exit status: 0 when every call succeeded, 1 when a call failed (or could not run), 2 on a usage error.`,
		run: runRun,
	})
}

// sequenceHelp lists the replayable actions from simulate.Sequences, one line each, with their drivers.
func sequenceHelp() string {
	var b strings.Builder
	for _, seq := range simulate.Sequences {
		fmt.Fprintf(&b, "  %-12s %s (%s)\n  %-12s %s\n", seq.Name, seq.Calls, event.Join(seq.Drivers, ", "), "", seq.OnFailure)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// parseWithTail parses args, then also the flags written after "--" (the synopsis puts --xml after the
// hook's arguments); it returns the positional arguments.
func parseWithTail(e *env, fs *pflag.FlagSet, args []string) ([]string, error) {
	if err := e.parse(fs, args); err != nil {
		return nil, err
	}
	dash := fs.ArgsLenAtDash()
	pos := fs.Args()
	if dash < 0 {
		return pos, nil
	}
	head, tail := append([]string(nil), pos[:dash]...), pos[dash:]
	var flagArgs []string
	for i := 0; i < len(tail); i++ {
		tok := tail[i]
		if !strings.HasPrefix(tok, "--") || len(tok) == 2 {
			head = append(head, tok)
			continue
		}
		name, _, hasValue := strings.Cut(tok[2:], "=")
		f := fs.Lookup(name)
		if f == nil {
			return nil, usagef("unknown flag: --%s", name)
		}
		flagArgs = append(flagArgs, tok)
		if !hasValue && f.Value.Type() != "bool" && i+1 < len(tail) {
			i++
			flagArgs = append(flagArgs, tail[i])
		}
	}
	if err := e.parse(fs, flagArgs); err != nil {
		return nil, err
	}
	return head, nil
}

func runRun(e *env, args []string) error {
	fs := e.flags()
	xmlFile := fs.String("xml", "", "stdin for the hook: an XML file, or - for this command's stdin (default: a built-in sample)")
	asD := fs.String("as-d", "", "run the hook as <driver>.d/NAME instead of the main script <driver>")
	seqName := fs.String("sequence", "", "replay the calls of a lifecycle action: "+simulate.SequenceNames())
	driver := fs.String("driver", "", "with --sequence: the driver (default qemu, or network for net-start and port)")
	object := fs.String("object", "", "with --sequence: the object name (default: the <name> in the XML)")
	hooksDir := fs.String("hooks-dir", simulate.DefaultHooksDir, "the hooks directory shown in libvirt's messages")
	netPorts := fs.Bool("net-ports", false, "with a domain --sequence: also run the network port-created/port-deleted calls libvirt makes for each <interface type='network'>, as when the program is installed for network too")
	timeout := fs.Duration("timeout", simulate.DefaultTimeout, "give up on a call (or on its stdout/stderr closing) after this long; libvirt itself never does")
	pos, err := parseWithTail(e, fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("missing BINARY")
	}
	opts := simulate.Options{Binary: pos[0], AsD: *asD, HooksDir: *hooksDir, Timeout: *timeout,
		Env: simulate.DefaultEnv(e.getenv)}
	readDoc := func() (doc []byte, name string, err error) {
		if *xmlFile == "" {
			return nil, "", nil
		}
		name = *xmlFile
		if name == "-" {
			name = "stdin"
		}
		doc, err = readXML(e.stdin, *xmlFile)
		return doc, name, err
	}
	if *seqName != "" {
		if len(pos) > 1 {
			return usagef("--sequence takes no hook arguments (got %q); use --driver and --object", pos[1])
		}
		seq := simulate.LookupSequence(*seqName)
		if seq == nil {
			return usagef("unknown sequence %q (%s)", *seqName, simulate.SequenceNames())
		}
		if *driver != "" && !event.Driver(*driver).Valid() {
			return usagef("unknown driver %q", *driver)
		}
		doc, docName, err := readDoc()
		if err != nil {
			return err
		}
		return runSequence(e, opts, seq, simulate.SequenceOptions{Driver: event.Driver(*driver), Doc: doc,
			DocName: docName, Object: *object, NetPorts: *netPorts})
	}
	if *driver != "" || *object != "" || *netPorts {
		return usagef("--driver, --object and --net-ports go with --sequence; otherwise give DRIVER OBJECT OP after --")
	}
	call, err := callFromArgs(pos[1:])
	if err != nil {
		return err
	}
	if spec := call.Spec(); *xmlFile != "" && spec != nil && spec.Payload == event.PayloadNone {
		return usagef("libvirt gives %s %s hooks no stdin (/dev/null); drop --xml", call.Driver, call.Op)
	}
	doc, docName, err := readDoc()
	switch {
	case err != nil:
		return err
	case doc != nil:
		call.Input, call.InputName = doc, docName
	default:
		name, data := simulate.Sample(call.Driver, call.Op)
		call.Input, call.InputName = data, "built-in sample "+name
	}
	r, err := simulate.New(opts)
	if err != nil {
		return err
	}
	defer r.Close()
	res, err := r.Run(e.ctx, call)
	if err != nil {
		return err
	}
	res.Report(e.stdout, "")
	if res.Failed() {
		return fmt.Errorf("the hook failed (%s)", failureSummary(res))
	}
	return nil
}

func failureSummary(res *simulate.Result) string {
	switch {
	case res.TimedOut:
		return "still running after the timeout"
	case res.HeldOpen:
		return "stdout/stderr held open after it exited"
	case res.OutputRejected != "":
		return "its output is XML libvirt rejects"
	case res.Signal != 0:
		return "killed by " + res.Signal.String()
	}
	return fmt.Sprintf("exit status %d", res.ExitCode)
}

// callFromArgs builds the call from DRIVER OBJECT OP [SUBOP [EXTRA]], filling SUBOP and EXTRA from the event
// table.
func callFromArgs(a []string) (simulate.Call, error) {
	if len(a) < 3 {
		return simulate.Call{}, usagef("expected DRIVER OBJECT OP [SUBOP [EXTRA]] after BINARY, got %d argument(s)", len(a))
	}
	if len(a) > 5 {
		return simulate.Call{}, usagef("too many arguments: libvirt passes at most OBJECT OP SUBOP EXTRA")
	}
	d := event.Driver(a[0])
	if !d.Valid() {
		return simulate.Call{}, usagef("unknown driver %q (known: %s)", a[0], event.Join(event.Drivers, ", "))
	}
	c := simulate.Call{Driver: d, Object: a[1], Op: a[2], SubOp: "-", Extra: "-"}
	if spec := c.Spec(); spec != nil {
		c.SubOp, c.Extra = spec.SubOp, spec.Extra
		if c.Extra == "<reason>" {
			c.Extra = string(event.ReasonDestroyed)
		}
	}
	if len(a) > 3 {
		c.SubOp = a[3]
	}
	if len(a) > 4 {
		c.Extra = a[4]
	}
	return c, nil
}

func readXML(stdin io.Reader, name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(name)
}

func runSequence(e *env, opts simulate.Options, seq *simulate.Sequence, so simulate.SequenceOptions) error {
	r, err := simulate.New(opts)
	if err != nil {
		return err
	}
	defer r.Close()
	res, err := r.PlaySequence(e.ctx, seq, so)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "sequence %s (%s): %s\n", seq.Name, res.Driver, seq.Summary())
	failed := 0
	for i, step := range res.Steps {
		fmt.Fprintf(e.stdout, "\n[%d] %s %s\n", i+1, step.Call.Driver, step.Call.Op)
		step.Report(e.stdout, "    ")
		if step.Failed() {
			failed++
		}
	}
	fmt.Fprintf(e.stdout, "\noutcome: %s\n", res.Outcome)
	if failed > 0 {
		return fmt.Errorf("%d of %d hook calls failed; outcome: %s", failed, len(res.Steps), res.Outcome)
	}
	return nil
}
