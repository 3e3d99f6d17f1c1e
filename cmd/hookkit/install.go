package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/hookkit/lock"
	"github.com/hookkit-dev/hookkit/internal/daemonproc"
	"github.com/hookkit-dev/hookkit/internal/hookdir"
	"github.com/hookkit-dev/hookkit/internal/hookinstall"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{
		name:    "install",
		args:    "BINARY (--driver qemu,network,...|--all) [--dir DIR] [--as-d NAME] [--dry-run]",
		summary: "install a hook program into a libvirt hooks directory, atomically, with backups",
		help: `The first driver gets a copy of BINARY (<dir>/<driver>, or <dir>/<driver>.d/NAME with --as-d), mode
0755, owned by root when run as root, written to a temporary file, fsynced and renamed into place; the
other drivers get a symlink to it, so one program serves them all and still sees its driver in argv[0].

hookkit refuses a hooks directory, a .d directory or an existing file that group or other can write, and a
.d path that is a symlink; a symlink planted at a target path is replaced, never followed. A regular file it
replaces is copied to <dir>/.hookkit-backup/ (mode 0600: backups never run, and never sit in a .d directory
where libvirt would run them); a replaced symlink is recorded. "hookkit uninstall" restores both.

libvirt only notices a driver's first hook at daemon start or on SIGHUP: install says which running daemon
(libvirtd, or virtqemud, virtnetworkd, ... on modular hosts) must reload.`,
		run: runInstall,
	})
	register(&command{
		name:    "uninstall",
		args:    "[--driver qemu,...] [--as-d NAME] [--dir DIR] [--dry-run]",
		summary: "remove what hookkit install put in a hooks directory and restore the backups",
		help: `Only paths recorded in <dir>/.hookkit-backup/manifest.json are touched, and only when they are still
what hookkit installed (a file edited since is refused). The file or symlink each one replaced is put
back; .d directories hookkit created are removed when empty. --driver and --as-d restrict the removal.`,
		run: runUninstall,
	})
}

// driverFlags adds --driver and --all.
func driverFlags(fs *pflag.FlagSet, all bool) (*[]string, *bool) {
	drivers := fs.StringSlice("driver", nil, "hook drivers, comma-separated: "+event.Join(event.Drivers, ","))
	var allFlag *bool
	if all {
		allFlag = fs.Bool("all", false, "every driver ("+event.Join(event.Drivers, ",")+")")
	}
	return drivers, allFlag
}

func parseDrivers(names []string) ([]event.Driver, error) {
	var ds []event.Driver
	for _, n := range names {
		d := event.Driver(strings.TrimSpace(n))
		if !d.Valid() {
			return nil, usagef("unknown driver %q (known: %s)", n, event.Join(event.Drivers, ", "))
		}
		for _, seen := range ds {
			if seen == d {
				return nil, usagef("driver %s given twice", d)
			}
		}
		ds = append(ds, d)
	}
	return ds, nil
}

func procRootFlag(fs *pflag.FlagSet) *string {
	p := fs.String("proc-root", "/proc", "where /proc is mounted (for tests)")
	_ = fs.MarkHidden("proc-root")
	return p
}

// lockInstalls serialises installs and uninstalls on the host (they read and rewrite the manifest) when
// running as root, as a system install does; it returns the release function.
func lockInstalls(e *env) (func(), error) {
	if os.Geteuid() != 0 {
		return func() {}, nil
	}
	l, err := lock.Acquire(e.ctx, "hookkit-install", lock.Options{Timeout: 30 * time.Second})
	if err != nil {
		return nil, err
	}
	return func() { _ = l.Release() }, nil
}

func runInstall(e *env, args []string) error {
	fs := e.flags()
	names, all := driverFlags(fs, true)
	dir := fs.String("dir", hookdir.DefaultDir, "the hooks directory")
	asD := fs.String("as-d", "", "install as <driver>.d/NAME instead of the main script <driver>")
	dry := fs.Bool("dry-run", false, "print the plan and change nothing")
	procRoot := procRootFlag(fs)
	if err := e.parse(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() == 0:
		return usagef("missing BINARY")
	case fs.NArg() > 1:
		return usagef("unexpected argument %q", fs.Arg(1))
	case *all && len(*names) > 0:
		return usagef("--all and --driver exclude each other")
	case !*all && len(*names) == 0:
		return usagef("say which drivers: --driver qemu,network,... or --all")
	}
	drivers := event.Drivers
	if !*all {
		var err error
		if drivers, err = parseDrivers(*names); err != nil {
			return err
		}
	}
	unlock, err := lockInstalls(e)
	if err != nil {
		return err
	}
	defer unlock()
	plan, err := hookinstall.PlanInstall(hookinstall.Options{Binary: fs.Arg(0), Dir: *dir, Drivers: drivers, AsD: *asD})
	if err != nil {
		return err
	}
	if !*dry {
		if err := plan.ApplyInstall(); err != nil {
			return err
		}
	}
	printPlan(e, plan, *dry)
	printReload(e, plan.NewlyPresent, *procRoot)
	if *dry {
		fmt.Fprintln(e.stdout, "dry run: nothing changed")
	}
	return nil
}

func printPlan(e *env, plan *hookinstall.Plan, dry bool) {
	verb := "done"
	if dry {
		verb = "plan"
	}
	for _, a := range plan.Actions {
		fmt.Fprintf(e.stdout, "%s: %s\n", verb, a)
	}
}

// printReload says which daemons must reload so that libvirt sees hooks for drivers that had none.
func printReload(e *env, newly []event.Driver, procRoot string) {
	if len(newly) == 0 {
		fmt.Fprintln(e.stdout, "reload: not needed, every driver already had a hook (libvirt re-reads the scripts on each call)")
		return
	}
	procs, err := daemonproc.Find(procRoot)
	if err != nil {
		fmt.Fprintf(e.stdout, "reload: cannot list the running daemons (%v); reload libvirtd (or virtqemud, virtnetworkd, ...) so it sees the hooks for %s\n",
			err, event.Join(newly, ", "))
		return
	}
	for _, line := range daemonproc.ReloadAdvice(newly, procs) {
		fmt.Fprintf(e.stdout, "reload: %s\n", line)
	}
}

func runUninstall(e *env, args []string) error {
	fs := e.flags()
	names, _ := driverFlags(fs, false)
	dir := fs.String("dir", hookdir.DefaultDir, "the hooks directory")
	asD := fs.String("as-d", "", "only the <driver>.d/NAME entries")
	dry := fs.Bool("dry-run", false, "print the plan and change nothing")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q (uninstall reads what to remove from the manifest)", fs.Arg(0))
	}
	drivers, err := parseDrivers(*names)
	if err != nil {
		return err
	}
	unlock, err := lockInstalls(e)
	if err != nil {
		return err
	}
	defer unlock()
	plan, err := hookinstall.PlanUninstall(hookinstall.UninstallOptions{Dir: *dir, Drivers: drivers, AsD: *asD})
	if err != nil {
		return err
	}
	if !*dry {
		if err := plan.ApplyUninstall(); err != nil {
			return err
		}
	}
	printPlan(e, plan, *dry)
	if *dry {
		fmt.Fprintln(e.stdout, "dry run: nothing changed")
	}
	return nil
}
