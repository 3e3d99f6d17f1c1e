// Command benchtool is the helper of bench/run.sh: it turns hyperfine's JSON exports into Markdown tables
// of medians and ratios, checks the speed targets against those medians, measures the peak RSS of a
// program, compares programs round by round (pairs), writes the domains of the reconnect storm, and summarizes `go test -bench` output.
//
//	benchtool table -ref 'empty Go' [-ref2 NAME] [-floor NAME] [-medians FILE] export.json
//	benchtool check -medians FILE 'hookkit 5 KB <= 1.10 * empty Go 5 KB' ...
//	benchtool rss -stdin FILE [-n 20] -- PROGRAM ARGS...
//	benchtool gendomains -in domain.xml -out DIR -n 200
//	benchtool gobench < go-test-bench-output
//	benchtool pairs -stdin FILE [-n 2000] 'empty Go=PROGRAM ARGS' 'hookkit=PROGRAM ARGS' ...
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchtool table|check|rss|gendomains|gobench|pairs [flags]")
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "table":
		err = runTable(args, os.Stdout)
	case "check":
		err = runCheck(args, os.Stdout)
	case "rss":
		err = runRSS(args, os.Stdout)
	case "gendomains":
		err = runGenDomains(args)
	case "gobench":
		err = runGoBench(os.Stdin, os.Stdout)
	case "pairs":
		err = runPairs(args, os.Stdout)
	default:
		err = fmt.Errorf("unknown subcommand %q", cmd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtool:", err)
		os.Exit(1)
	}
}
