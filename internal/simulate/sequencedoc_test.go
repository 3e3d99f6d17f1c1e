package simulate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookkit-dev/hookkit/internal/markers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSequenceTableIsFresh fails when docs/cli.md's --sequence table no longer says what Sequences says.
func TestSequenceTableIsFresh(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "cli.md")
	doc, err := os.ReadFile(path)
	require.NoError(t, err)
	table, ok := markers.Between(doc, SequenceTableBegin, SequenceTableEnd)
	require.True(t, ok, "docs/cli.md lacks the sequence table markers")
	assert.Equal(t, SequenceTable(), table, "docs/cli.md's sequence table is stale: run go generate ./internal/simulate")
}

func TestSequenceTableRows(t *testing.T) {
	table := SequenceTable()
	rows := strings.Split(strings.TrimSuffix(table, "\n"), "\n")
	require.Len(t, rows, 2+len(Sequences), "a header, a rule and one row per sequence")
	for i, s := range Sequences {
		assert.True(t, strings.HasPrefix(rows[2+i], "| `"+s.Name+"` | "), "row %d is %s", i, s.Name)
		assert.Equal(t, 4, strings.Count(rows[2+i], "|"), "row %s has three cells: a | in a field would break the table", s.Name)
	}
}
