package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// pairedCommand is one program of a paired run and its wall times, one per round, in milliseconds.
type pairedCommand struct {
	name string
	argv []string
	ms   []float64
}

// pairedRun runs every command once per round, each with stdin from the file in, in an order that rotates
// from round to round, after warm rounds that are not kept. It fails when a run exits non-zero.
func pairedRun(cmds []*pairedCommand, in string, rounds, warm int) error {
	for r := -warm; r < rounds; r++ {
		for k := range cmds {
			c := cmds[(k+r+warm)%len(cmds)]
			_, d, err := runWithStdin(c.argv, in, os.Stderr)
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			if r >= 0 {
				c.ms = append(c.ms, float64(d.Nanoseconds())/1e6)
			}
		}
	}
	return nil
}

// runWithStdin runs argv once with stdin from the file in, stdout discarded and stderr to stderr (nil:
// discarded). It returns the process's state and its wall time, from start to exit.
func runWithStdin(argv []string, in string, stderr io.Writer) (*os.ProcessState, time.Duration, error) {
	f, err := os.Open(in)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stderr = f, stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return nil, 0, err
	}
	return cmd.ProcessState, time.Since(start), nil
}

// pairedSummary is what a paired run says of one command against the reference (the first command).
type pairedSummary struct {
	Median, Ratio float64 // its median and the ratio of its median to the reference's
	// Diff is the median of its per-round differences from the reference; DiffFirst and DiffSecond are the
	// same over the first and the second half of the rounds, a check that the machine did not drift.
	Diff, DiffFirst, DiffSecond float64
}

// summarize compares each command's rounds with those of ref, round by round: on a noisy machine the
// difference within a round moves much less than the medians of whole runs do.
func summarize(ref []float64, ms []float64) pairedSummary {
	d := make([]float64, len(ms))
	for i := range ms {
		d[i] = ms[i] - ref[i]
	}
	h := len(d) / 2
	return pairedSummary{
		Median: median(ms), Ratio: median(ms) / median(ref),
		Diff: median(d), DiffFirst: median(d[:h]), DiffSecond: median(d[h:]),
	}
}

func runPairs(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("pairs", flag.ContinueOnError)
	in := fs.String("stdin", "", "file given as stdin to every run")
	rounds := fs.Int("n", 2000, "rounds kept")
	warm := fs.Int("warm", 30, "warm-up rounds, not kept")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" || fs.NArg() < 2 || *rounds < 2 {
		return errors.New("pairs: expected -stdin FILE [-n ROUNDS] 'REFNAME=PROGRAM ARG...' 'NAME=PROGRAM ARG...' (more NAME=... allowed)")
	}
	var cmds []*pairedCommand
	for _, a := range fs.Args() {
		name, cmdline, ok := strings.Cut(a, "=")
		if !ok || len(strings.Fields(cmdline)) == 0 {
			return fmt.Errorf("pairs: %q is not NAME=PROGRAM [ARG...]", a)
		}
		cmds = append(cmds, &pairedCommand{name: name, argv: strings.Fields(cmdline)})
	}
	if err := pairedRun(cmds, *in, *rounds, *warm); err != nil {
		return err
	}
	ref := cmds[0]
	fmt.Fprintf(w, "| command | median ms | × %s | paired difference ms | first half | second half |\n|---|--:|--:|--:|--:|--:|\n", ref.name)
	for _, c := range cmds {
		s := summarize(ref.ms, c.ms)
		fmt.Fprintf(w, "| %s | %.3f | %.3f | %+.3f | %+.3f | %+.3f |\n", c.name, s.Median, s.Ratio, s.Diff, s.DiffFirst, s.DiffSecond)
	}
	return nil
}
