package markers

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestReplace(t *testing.T) {
	const begin, end = "<!-- BEGIN -->", "<!-- END -->"
	tests := []struct {
		name, doc, want string
		ok              bool
	}{
		{"replaces the body", "a\n" + begin + "\nold\nrows\n" + end + "\nb\n", "a\n" + begin + "\nnew\n" + end + "\nb\n", true},
		{"empty body", "a\n" + begin + "\n" + end + "\n", "a\n" + begin + "\nnew\n" + end + "\n", true},
		{"no markers", "a\nb\n", "a\nb\n", false},
		{"no end", begin + "\nold\n", begin + "\nold\n", false},
		{"end before begin", end + "\n" + begin + "\n", end + "\n" + begin + "\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Replace([]byte(tt.doc), begin, end, "new\n")
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, string(got))
			if ok {
				body, found := Between(got, begin, end)
				assert.True(t, found)
				assert.Equal(t, "new\n", body, "Between reads back what Replace wrote")
			}
		})
	}
}
