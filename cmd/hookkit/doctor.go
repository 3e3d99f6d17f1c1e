package main

import (
	"fmt"
	"os"

	"github.com/hookkit-dev/hookkit/internal/daemonproc"
	"github.com/hookkit-dev/hookkit/internal/hookdir"
)

func init() {
	register(&command{
		name:    "doctor",
		args:    "[--dir DIR]",
		summary: "check a hooks directory as libvirt sees it",
		help: `One line per finding, with a level (ok, warn, error): which drivers are present and the order in which
each call runs their scripts (.d entries in byte order, so 10-x runs before 9-x), non-executable files,
editor backups and dotfiles that would run, broken symlinks, a .d path that is not a directory, files or
directories writable by group or other, scripts exec cannot start (no #! line and not ELF, or a missing
interpreter), files not owned by root, running libvirt daemons that started before the hook files and
may need a reload, and SELinux (virt_hooks_unconfined) or AppArmor confinement that hooks inherit. Exit status 1 when there is any error.`,
		run: runDoctor,
	})
}

func runDoctor(e *env, args []string) error {
	fs := e.flags()
	dir := fs.String("dir", hookdir.DefaultDir, "the hooks directory")
	procRoot := procRootFlag(fs)
	sysRoot := fs.String("sys-root", "/sys", "where sysfs is mounted (for tests)")
	_ = fs.MarkHidden("sys-root")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	scan, err := hookdir.Scan(*dir)
	if err != nil {
		return err
	}
	opts := hookdir.CheckOptions{CheckOwner: os.Geteuid() == 0, SysRoot: *sysRoot}
	procs, err := daemonproc.Find(*procRoot)
	if err != nil {
		fmt.Fprintf(e.stdout, "warn  daemons: cannot list running libvirt daemons: %v\n", err)
	}
	opts.Daemons = procs
	findings := hookdir.Check(scan, opts)
	warns := 0
	for _, f := range findings {
		fmt.Fprintln(e.stdout, f)
		if f.Level == hookdir.Warn {
			warns++
		}
	}
	errs := hookdir.Errors(findings)
	fmt.Fprintf(e.stdout, "%d error(s), %d warning(s)\n", errs, warns)
	if errs > 0 {
		return fmt.Errorf("%d error(s) in %s", errs, *dir)
	}
	return nil
}
