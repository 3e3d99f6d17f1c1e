package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

func init() {
	register(&command{
		name:    "version",
		args:    "",
		summary: "print hookkit's module version, VCS revision and Go version",
		run:     runVersion,
	})
}

func runVersion(e *env, args []string) error {
	fs := e.flags()
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	version, extra := "unknown", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		version = bi.Main.Version
		var rev, modified string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = ", modified"
				}
			}
		}
		if rev != "" {
			extra = fmt.Sprintf(" (revision %.12s%s)", rev, modified)
		}
	}
	_, err := fmt.Fprintf(e.stdout, "hookkit %s%s %s %s/%s\n", version, extra, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}
