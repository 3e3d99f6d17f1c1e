package hookkit

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadInput covers the chunked read: one chunk, several joined chunks, exactly the bound, one byte
// past it, and readers that return short reads.
func TestReadInput(t *testing.T) {
	data := func(n int) []byte { return bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n] }
	for _, tc := range []struct {
		name string
		n    int
		max  int64
		ok   bool
	}{
		{"empty", 0, 1 << 20, true},
		{"one chunk", 5000, 1 << 20, true},
		{"exactly one chunk", 16 << 10, 1 << 20, true},
		{"several chunks", 3<<20 + 7, 16 << 20, true},
		{"exactly the bound", 100000, 100000, true},
		{"one byte past the bound", 100001, 100000, false},
		{"far past the bound", 5 << 20, 1 << 20, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := data(tc.n)
			for _, r := range []io.Reader{bytes.NewReader(in), iotest.HalfReader(bytes.NewReader(in))} {
				got, err := readInput(r, tc.max)
				if !tc.ok {
					require.Error(t, err)
					assert.True(t, strings.HasPrefix(err.Error(), "stdin is larger than"), err.Error())
					continue
				}
				require.NoError(t, err)
				assert.Equal(t, len(in), len(got))
				assert.True(t, bytes.Equal(in, got))
			}
		})
	}
}
