package simulate

import (
	"strings"

	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/internal/markers"
)

//go:generate go run ../cmd/seqtable -doc ../../docs/cli.md

// The markers around the generated --sequence table in docs/cli.md.
const (
	SequenceTableBegin = "<!-- BEGIN GENERATED SEQUENCE TABLE: go generate ./internal/simulate -->"
	SequenceTableEnd   = "<!-- END GENERATED SEQUENCE TABLE -->"
)

// SequenceTable renders Sequences as the markdown table of docs/cli.md: action, calls with their drivers
// (the first is the default), and what a failure does.
func SequenceTable() string {
	var b strings.Builder
	b.WriteString("| action | calls (drivers, default first) | on a failure |\n|---|---|---|\n")
	for _, s := range Sequences {
		b.WriteString("| `" + s.Name + "` | " + s.Calls + " (" + event.Join(s.Drivers, ", ") + ") | " +
			s.OnFailure + " |\n")
	}
	return b.String()
}

// SpliceSequenceTable replaces what lies between the sequence table markers of doc with SequenceTable. It
// reports false when doc lacks the markers.
func SpliceSequenceTable(doc []byte) ([]byte, bool) {
	return markers.Replace(doc, SequenceTableBegin, SequenceTableEnd, SequenceTable())
}
