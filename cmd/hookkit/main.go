// Command hookkit is the command line of the hookkit framework for libvirt hook programs: run a hook as
// libvirt does, install it into a hooks directory and take it out again, check a hooks directory, and list
// the events libvirt sends. Run "hookkit help" for the commands; docs/cli.md describes them in full.
//
// Exit status: 0 success, 1 failure, 2 usage error. Errors go to stderr as one line "hookkit <cmd>: <error>".
//
// Each command lives in its own file and registers itself with register in an init function, so adding a
// command touches no other file.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/pflag"
)

// command is one subcommand.
type command struct {
	name string
	// args is the synopsis after "hookkit <name>", e.g. "BINARY [--dir DIR]".
	args string
	// summary is one line for the command list.
	summary string
	// help is the longer description shown by --help, after the synopsis.
	help string
	// run executes the command; it parses its own flags with env.parse.
	run func(env *env, args []string) error
}

var commands = map[string]*command{}

// register adds a command; each command file calls it from init.
func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("hookkit: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// env is what a command runs with: its streams and its own description.
type env struct {
	ctx    context.Context
	cmd    *command
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// errHelpShown: --help was asked for and printed; exit 0.
var errHelpShown = errors.New("help shown")

// flags returns an empty flag set for the command, printing nothing by itself.
func (e *env) flags() *pflag.FlagSet {
	fs := pflag.NewFlagSet("hookkit "+e.cmd.name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	return fs
}

// parse parses args with fs; it prints the help on --help and turns flag errors into usage errors.
func (e *env) parse(fs *pflag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if errors.Is(err, pflag.ErrHelp) {
		e.printHelp(fs)
		return errHelpShown
	}
	if err != nil {
		return usageError{err.Error()}
	}
	return nil
}

func (e *env) printHelp(fs *pflag.FlagSet) {
	w := e.stdout
	fmt.Fprintf(w, "Usage: hookkit %s %s\n\n%s\n", e.cmd.name, e.cmd.args, e.cmd.summary)
	if e.cmd.help != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(e.cmd.help))
	}
	fmt.Fprintf(w, "\nFlags:\n%s  -h, --help  show this help\n", fs.FlagUsages())
}

func mainUsage(w io.Writer) {
	fmt.Fprint(w, "hookkit: tools for libvirt hook programs\n\nUsage: hookkit <command> [flags] [args]\n\nCommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprint(w, "\nRun \"hookkit <command> --help\" for a command's flags. Exit status: 0 ok, 1 failed, 2 usage error.\n")
}

// run executes the command line args (without the program name) and returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		mainUsage(stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "-h", "--help", "help":
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				return run(ctx, []string{c.name, "--help"}, stdin, stdout, stderr)
			}
			fmt.Fprintf(stderr, "hookkit: unknown command %q\n", args[1])
			return 2
		}
		mainUsage(stdout)
		return 0
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "hookkit: unknown command %q (run \"hookkit help\")\n", name)
		return 2
	}
	e := &env{ctx: ctx, cmd: c, stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv}
	err := c.run(e, args[1:])
	var ue usageError
	switch {
	case err == nil, errors.Is(err, errHelpShown):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "hookkit %s: %s (see \"hookkit %s --help\")\n", c.name, oneLine(err.Error()), c.name)
		return 2
	default:
		fmt.Fprintf(stderr, "hookkit %s: %s\n", c.name, oneLine(err.Error()))
		return 1
	}
}

// oneLine keeps an error message on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
