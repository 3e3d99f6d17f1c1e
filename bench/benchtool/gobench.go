package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// benchLine is one result line of `go test -bench -benchmem`.
type benchLine struct {
	name                     string
	nsOp, mbS, bOp, allocsOp string
}

// parseBenchLine parses "BenchmarkX-2  1234  5678 ns/op  12.3 MB/s  456 B/op  7 allocs/op".
func parseBenchLine(s string) (benchLine, bool) {
	f := strings.Fields(s)
	if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
		return benchLine{}, false
	}
	b := benchLine{name: f[0]}
	for i := 2; i+1 < len(f); i += 2 {
		switch f[i+1] {
		case "ns/op":
			b.nsOp = f[i]
		case "MB/s":
			b.mbS = f[i]
		case "B/op":
			b.bOp = f[i]
		case "allocs/op":
			b.allocsOp = f[i]
		}
	}
	return b, b.nsOp != ""
}

// runGoBench turns the output of `go test -bench . -benchmem` into a Markdown table; "pkg:" lines start
// a new package.
func runGoBench(r io.Reader, w io.Writer) error {
	fmt.Fprintln(w, "| package | benchmark | ns/op | MB/s | B/op | allocs/op |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|")
	pkg := ""
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimPrefix(p, "github.com/hookkit-dev/hookkit/")
			continue
		}
		if b, ok := parseBenchLine(line); ok {
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", pkg, b.name, b.nsOp, orDash(b.mbS), orDash(b.bOp), orDash(b.allocsOp))
		}
	}
	return sc.Err()
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
