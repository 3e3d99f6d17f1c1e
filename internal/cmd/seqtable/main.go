// Command seqtable writes the table of `hookkit run --sequence` actions into docs/cli.md from
// simulate.Sequences, between its markers. Run it with go generate ./internal/simulate.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/hookkit-dev/hookkit/internal/simulate"
)

func main() {
	doc := flag.String("doc", "docs/cli.md", "the markdown file holding the table")
	flag.Parse()
	if err := run(*doc); err != nil {
		fmt.Fprintln(os.Stderr, "seqtable:", err)
		os.Exit(1)
	}
}

func run(path string) error {
	doc, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, ok := simulate.SpliceSequenceTable(doc)
	if !ok {
		return fmt.Errorf("%s lacks the markers %q and %q", path, simulate.SequenceTableBegin, simulate.SequenceTableEnd)
	}
	return os.WriteFile(path, out, 0o644)
}
