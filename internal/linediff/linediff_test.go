package linediff

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// apply rebuilds both sides from an edit script.
func apply(edits []Edit) (a, b []string) {
	for _, e := range edits {
		if e.Op != Insert {
			a = append(a, e.Line)
		}
		if e.Op != Delete {
			b = append(b, e.Line)
		}
	}
	return a, b
}

func TestDiffRebuildsBothSides(t *testing.T) {
	tests := []struct {
		name    string
		a, b    string
		changes int
	}{
		{"equal", "x\ny\n", "x\ny\n", 0},
		{"empty both", "", "", 0},
		{"from empty", "", "a\nb\n", 2},
		{"to empty", "a\nb\n", "", 2},
		{"one changed", "a\nb\nc\n", "a\nB\nc\n", 2},
		{"insert middle", "a\nc\n", "a\nb\nc\n", 1},
		{"delete ends", "x\na\nb\ny\n", "a\nb\n", 2},
		{"swap", "a\nb\n", "b\na\n", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			edits := Diff(Lines(tt.a), Lines(tt.b))
			a, b := apply(edits)
			assert.Equal(t, Lines(tt.a), a)
			assert.Equal(t, Lines(tt.b), b)
			n := 0
			for _, e := range edits {
				if e.Op != Equal {
					n++
				}
			}
			assert.Equal(t, tt.changes, n, "edit script is not minimal")
		})
	}
}

func TestUnified(t *testing.T) {
	var a, b []string
	for i := 1; i <= 20; i++ {
		a = append(a, fmt.Sprint("line", i))
	}
	b = append(b, a...)
	b[1] = "changed2"
	b[17] = "changed18"
	got := Unified("in.xml", "out.xml", strings.Join(a, "\n")+"\n", strings.Join(b, "\n")+"\n", 2)
	want := `--- in.xml
+++ out.xml
@@ -1,4 +1,4 @@
 line1
-line2
+changed2
 line3
 line4
@@ -16,5 +16,5 @@
 line16
 line17
-line18
+changed18
 line19
 line20
`
	assert.Equal(t, want, got)
}

func TestUnifiedMergesCloseChanges(t *testing.T) {
	got := Unified("a", "b", "1\n2\n3\n4\n5\n", "1\nX\n3\nY\n5\n", 1)
	require.Equal(t, "--- a\n+++ b\n@@ -1,5 +1,5 @@\n 1\n-2\n+X\n 3\n-4\n+Y\n 5\n", got)
}

func TestUnifiedPureInsertAndSame(t *testing.T) {
	assert.Equal(t, "", Unified("a", "b", "x\n", "x\n", 3))
	assert.Equal(t, "--- a\n+++ b\n@@ -0,0 +1 @@\n+x\n", Unified("a", "b", "", "x\n", 3))
}

func ExampleUnified() {
	fmt.Print(Unified("input", "output", "<a>\n  <b>1</b>\n</a>\n", "<a>\n  <b>2</b>\n</a>\n", 1))
	// Output:
	// --- input
	// +++ output
	// @@ -1,3 +1,3 @@
	//  <a>
	// -  <b>1</b>
	// +  <b>2</b>
	//  </a>
}
