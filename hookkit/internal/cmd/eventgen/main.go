// Command eventgen writes the files generated from the event table: hookkit/events_gen.go, docs/events.md
// and the event table in README.md. Run it with go generate ./hookkit.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hookkit-dev/hookkit/hookkit/internal/eventgen"
)

func main() {
	root := flag.String("root", "..", "module root")
	flag.Parse()
	if err := run(*root); err != nil {
		fmt.Fprintln(os.Stderr, "eventgen:", err)
		os.Exit(1)
	}
}

func run(root string) error {
	src, err := eventgen.GoSource()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(root, eventgen.GoFile), src, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(root, eventgen.DocsFile), eventgen.Markdown(), 0o644); err != nil {
		return err
	}
	readmePath := filepath.Join(root, eventgen.ReadmeFile)
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		return err
	}
	spliced, ok := eventgen.SpliceReadme(readme)
	if !ok {
		return fmt.Errorf("%s lacks the markers %q and %q", readmePath, eventgen.BeginMarker, eventgen.EndMarker)
	}
	return os.WriteFile(readmePath, spliced, 0o644)
}
