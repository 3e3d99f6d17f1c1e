package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/hookkit-dev/hookkit/internal/scaffold"
	"github.com/hookkit-dev/hookkit/internal/simulate"
)

func init() {
	register(&command{
		name:    "gen",
		args:    "handler --event EVENT[,EVENT...] | config (--ns URI --type NAME --fields LIST | --from SAMPLE.xml) | routes  [--dir DIR] [--force]",
		summary: "add handlers or a metadata config decoder to a hook project (the go:generate entry point)",
		help: `Meant for go generate, in a file of the hook's package:

  //go:generate go run github.com/hookkit-dev/hookkit/cmd/hookkit gen handler --event qemu:started
  //go:generate go run github.com/hookkit-dev/hookkit/cmd/hookkit gen config --from testdata/portforward.xml

gen handler writes on_<driver>_<op>.go and its test, then rewrites routes_gen.go, which registers every
function of the package whose doc comment holds a "//hookkit:handle driver:op" directive (hand-written ones
included). gen config writes <type>_config_gen.go: a struct with encoding/xml tags for the element a domain
keeps in its <metadata> under namespace URI, and <Type>Of(dom), which decodes it with dom.Metadata.
--fields is a comma-separated list of name[:type] (a child element) and @name[:type] (an attribute), type
one of string (default), int, int64, uint, uint64, float64, bool, or []type for a repeated element;
--from infers the same from a sample element (its namespace, name, attributes, children and values).
gen routes only rewrites routes_gen.go.

Running gen twice changes nothing, and output is gofmt-ed. Every file carries a "hookkit-sum" header: a
handler you edited is left as it is, and an edited generated file (routes, config) is an error; --force
overwrites both.`,
		run: runGen,
	})
}

func runGen(e *env, args []string) error {
	if len(args) == 0 {
		return usagef("want a kind: handler, config or routes")
	}
	kind, args := args[0], args[1:]
	fs := e.flags()
	dir := fs.String("dir", ".", "directory of the hook's package")
	force := fs.Bool("force", false, "overwrite files edited since hookkit wrote them")
	switch kind {
	case "handler":
		return genHandler(e, fs, args, dir, force)
	case "config":
		return genConfig(e, fs, args, dir, force)
	case "routes":
		if err := e.parse(fs, args); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return usagef("unexpected argument %q", fs.Arg(0))
		}
		r, err := scaffold.SyncRoutes(*dir, *force)
		printResults(e, *dir, []scaffold.Result{r})
		return err
	case "-h", "--help":
		return e.parse(fs, []string{"--help"})
	}
	return usagef("unknown kind %q: want handler, config or routes", kind)
}

func genHandler(e *env, fs *pflag.FlagSet, args []string, dir *string, force *bool) error {
	events := fs.StringSlice("event", nil, "events to add handlers for: driver:op, or domain:op for every domain driver")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if len(*events) == 0 {
		return usagef("gen handler needs --event, e.g. --event qemu:started")
	}
	evs, err := scaffold.ParseEvents(strings.Join(*events, ","))
	if err != nil {
		return usageError{err.Error()}
	}
	results, err := scaffold.AddHandlers(*dir, evs, *force)
	printResults(e, *dir, results)
	return err
}

func genConfig(e *env, fs *pflag.FlagSet, args []string, dir *string, force *bool) error {
	var spec scaffold.ConfigSpec
	fs.StringVar(&spec.NS, "ns", "", "namespace URI of the metadata element (default with --from: the sample's)")
	fs.StringVar(&spec.Type, "type", "", "name of the Go type (default with --from: the root element's name)")
	fs.StringVar(&spec.Elem, "elem", "", "local name of the metadata element (default: the type in lower case, or the sample's)")
	fs.StringVar(&spec.Fields, "fields", "", "comma-separated name[:type] (element) and @name[:type] (attribute)")
	from := fs.String("from", "", "infer the struct from a sample of the element (a file)")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	switch {
	case *from != "" && spec.Fields != "":
		return usagef("give --fields or --from, not both")
	case *from == "" && (spec.NS == "" || spec.Type == ""):
		return usagef("gen config needs --ns and --type with --fields, or --from SAMPLE.xml")
	}
	if *from != "" {
		b, err := os.ReadFile(*from)
		if err != nil {
			return err
		}
		spec.Sample = b
	}
	// The header names the command canonically (no --dir, no --force), so that it does not change
	// between runs that generate the same file.
	cmd := "hookkit gen config"
	for _, f := range []struct{ name, val string }{{"ns", spec.NS}, {"type", spec.Type}, {"elem", spec.Elem}, {"fields", spec.Fields}, {"from", *from}} {
		if f.val != "" {
			cmd += fmt.Sprintf(" --%s %s", f.name, simulate.ShellQuote(f.val))
		}
	}
	r, err := scaffold.GenConfig(*dir, spec, cmd, *force)
	printResults(e, *dir, []scaffold.Result{r})
	return err
}
