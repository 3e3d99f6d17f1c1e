// Package linediff computes a line diff of two texts (Myers' O(ND) algorithm) and formats it as a unified diff.
//
// It exists so that `hookkit run` can show what a filter hook (migrate, restore) changed in the XML without a
// dependency; it is meant for documents of a few thousand lines.
package linediff

import (
	"fmt"
	"strings"
)

// Op is the kind of an Edit.
type Op byte

// The edit kinds.
const (
	Equal  Op = ' '
	Delete Op = '-'
	Insert Op = '+'
)

// Edit is one line of a diff: a line kept, removed from a or inserted from b.
type Edit struct {
	Op   Op
	Line string
}

// Lines splits s into lines without their "\n". A final line without a newline is kept; an empty s has no lines.
func Lines(s string) []string {
	if s == "" {
		return nil
	}
	s = strings.TrimSuffix(s, "\n")
	return strings.Split(s, "\n")
}

// Diff returns a shortest edit script turning a into b.
func Diff(a, b []string) []Edit {
	n, m := len(a), len(b)
	off := n + m
	if off == 0 {
		return nil
	}
	// v[k+off] is the furthest x reached on diagonal k; trace keeps a copy of v per step d.
	v := make([]int, 2*off+2)
	var trace [][]int
	for d := 0; d <= off; d++ {
		trace = append(trace, append([]int(nil), v...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[k-1+off] < v[k+1+off]) {
				x = v[k+1+off] // down: insert
			} else {
				x = v[k-1+off] + 1 // right: delete
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[k+off] = x
			if x >= n && y >= m {
				return backtrack(a, b, trace, d, off)
			}
		}
	}
	panic("linediff: unreachable")
}

func backtrack(a, b []string, trace [][]int, d, off int) []Edit {
	var rev []Edit
	x, y := len(a), len(b)
	for ; d > 0; d-- {
		v := trace[d]
		k := x - y
		var prevK int
		if k == -d || (k != d && v[k-1+off] < v[k+1+off]) {
			prevK = k + 1
		} else {
			prevK = k - 1
		}
		prevX := v[prevK+off]
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			x--
			y--
			rev = append(rev, Edit{Equal, a[x]})
		}
		if x == prevX {
			y--
			rev = append(rev, Edit{Insert, b[y]})
		} else {
			x--
			rev = append(rev, Edit{Delete, a[x]})
		}
	}
	for x > 0 && y > 0 {
		x--
		y--
		rev = append(rev, Edit{Equal, a[x]})
	}
	edits := make([]Edit, len(rev))
	for i, e := range rev {
		edits[len(rev)-1-i] = e
	}
	return edits
}

// Unified returns the unified diff of a and b with context lines around each change, headed by
// "--- nameA" and "+++ nameB", or "" when the texts have the same lines.
func Unified(nameA, nameB, a, b string, context int) string {
	edits := Diff(Lines(a), Lines(b))
	changed := false
	for _, e := range edits {
		if e.Op != Equal {
			changed = true
			break
		}
	}
	if !changed {
		return ""
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "--- %s\n+++ %s\n", nameA, nameB)
	for _, h := range hunks(edits, context) {
		h.write(&sb)
	}
	return sb.String()
}

type hunk struct {
	aStart, bStart int // 1-based first line numbers
	edits          []Edit
}

func (h hunk) write(sb *strings.Builder) {
	var na, nb int
	for _, e := range h.edits {
		if e.Op != Insert {
			na++
		}
		if e.Op != Delete {
			nb++
		}
	}
	aStart, bStart := h.aStart, h.bStart
	if na == 0 {
		aStart-- // an empty range names the line before it
	}
	if nb == 0 {
		bStart--
	}
	fmt.Fprintf(sb, "@@ -%s +%s @@\n", span(aStart, na), span(bStart, nb))
	for _, e := range h.edits {
		sb.WriteByte(byte(e.Op))
		sb.WriteString(e.Line)
		sb.WriteByte('\n')
	}
}

func span(start, n int) string {
	if n == 1 {
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, n)
}

// hunks groups the changes of edits with up to context equal lines around them; changes separated by at most
// 2*context equal lines share a hunk.
func hunks(edits []Edit, context int) []hunk {
	var out []hunk
	aLine, bLine := 1, 1 // line numbers of edits[i]
	type pos struct{ i, a, b int }
	var positions []pos
	for i, e := range edits {
		positions = append(positions, pos{i, aLine, bLine})
		if e.Op != Insert {
			aLine++
		}
		if e.Op != Delete {
			bLine++
		}
	}
	i := 0
	for i < len(edits) {
		if edits[i].Op == Equal {
			i++
			continue
		}
		start := max(i-context, 0)
		end := i // exclusive end of the hunk's changes
		for end < len(edits) {
			if edits[end].Op != Equal {
				end++
				continue
			}
			run := end
			for run < len(edits) && edits[run].Op == Equal {
				run++
			}
			if run == len(edits) || run-end > 2*context {
				break
			}
			end = run
		}
		stop := min(end+context, len(edits))
		out = append(out, hunk{aStart: positions[start].a, bStart: positions[start].b, edits: edits[start:stop]})
		i = stop
	}
	return out
}
