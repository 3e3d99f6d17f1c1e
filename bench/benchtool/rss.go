package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"syscall"
)

// peakRSS runs argv n times with stdin from the file in, stdout and stderr discarded, and returns the
// largest peak resident set size the kernel reported for it (getrusage ru_maxrss), in KiB. It fails when
// a run exits non-zero.
func peakRSS(in string, n int, argv []string) (int64, error) {
	var peak int64
	for range n {
		ps, _, err := runWithStdin(argv, in, nil)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", argv[0], err)
		}
		ru, ok := ps.SysUsage().(*syscall.Rusage)
		if !ok {
			return 0, errors.New("no rusage on this system")
		}
		peak = max(peak, ru.Maxrss)
	}
	return peak, nil
}

func runRSS(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("rss", flag.ContinueOnError)
	in := fs.String("stdin", "", "file given as stdin")
	n := fs.Int("n", 20, "runs; the largest peak is reported")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" || fs.NArg() == 0 {
		return errors.New("rss: expected -stdin FILE -- PROGRAM [ARG]")
	}
	kb, err := peakRSS(*in, *n, fs.Args())
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%.1f\n", float64(kb)/1024)
	return nil
}
