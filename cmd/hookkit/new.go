package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/hookkit-dev/hookkit/internal/scaffold"
)

func init() {
	register(&command{
		name:    "new",
		args:    "DIR [--module PATH] [--events qemu:prepare,network:port-created,...] [--hookkit-replace DIR] [--force]",
		summary: "scaffold a hook project (go.mod, main.go, a handler and its test per event, Makefile, README)",
		help: `Events are driver:op (qemu:prepare, network:port-created, daemon:reload), or domain:op for every
domain driver that has the op; "hookkit events" lists them. The project builds and its tests pass as
written, offline: go.mod lists hookkit's own requirements and go.sum is copied from hookkit's.

hookkit is not published yet, so go.mod replaces github.com/hookkit-dev/hookkit with a source tree:
--hookkit-replace DIR, else $HOOKKIT_REPLACE, else the tree this hookkit binary was built from (when it
was not built with -trimpath and the tree still exists).`,
		run: runNew,
	})
}

func runNew(e *env, args []string) error {
	fs := e.flags()
	module := fs.String("module", "", "module path of the project (default: the base name of DIR)")
	events := fs.String("events", scaffold.DefaultEvents, "comma-separated events to write handlers for")
	replace := fs.String("hookkit-replace", "", "hookkit source tree for go.mod's replace directive (default $"+scaffold.ReplaceEnv+", else the tree hookkit was built from)")
	force := fs.Bool("force", false, "scaffold into a non-empty directory, overwriting the files hookkit writes")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want one directory, got %d arguments", fs.NArg())
	}
	evs, err := scaffold.ParseEvents(*events)
	if err != nil {
		return usageError{err.Error()}
	}
	if len(evs) == 0 {
		return usagef("--events is empty")
	}
	dep, err := scaffold.LocateHookkit(*replace, e.getenv)
	if err != nil {
		return err
	}
	dir := fs.Arg(0)
	results, err := scaffold.New(scaffold.Project{Dir: dir, Module: *module, Events: evs, Hookkit: dep, Force: *force})
	printResults(e, dir, results)
	if err != nil {
		return err
	}
	if dep.Replace != "" {
		fmt.Fprintf(e.stdout, "go.mod: replace %s => %s (from %s)\n", scaffold.HookkitModule, dep.Replace, dep.From)
	} else {
		fmt.Fprintf(e.stdout, "go.mod: require %s %s; run go mod tidy to fill go.sum\n", scaffold.HookkitModule, dep.Version)
	}
	var names []string
	for _, ev := range evs {
		names = append(names, ev.String())
	}
	fmt.Fprintf(e.stdout, "\nhandlers for %s. Next:\n  cd %s\n  go test ./...\n  make build\n", strings.Join(names, ", "), dir)
	return nil
}

// printResults prints one line per file that was written or kept, relative to dir.
func printResults(e *env, dir string, results []scaffold.Result) {
	for _, r := range results {
		if r.Action == "" || r.Action == scaffold.Unchanged {
			continue
		}
		name := r.Path
		if rel, err := filepath.Rel(dir, r.Path); err == nil {
			name = rel
		}
		line := fmt.Sprintf("%-11s %s", r.Action, name)
		if r.Action == scaffold.Kept {
			line += " (edited since hookkit wrote it: left as it is; --force overwrites it)"
		}
		fmt.Fprintln(e.stdout, line)
	}
}
