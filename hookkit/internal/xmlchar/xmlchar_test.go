package xmlchar

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRef(t *testing.T) {
	for ref, want := range map[string]rune{"lt": '<', "gt": '>', "amp": '&', "quot": '"', "apos": '\'',
		"#65": 'A', "#x41": 'A', "#x1F600": 0x1F600, "#9": '\t', "#10": '\n'} {
		r, ok := Ref(ref)
		assert.True(t, ok, ref)
		assert.Equal(t, want, r, ref)
	}
	for _, ref := range []string{"", "#", "#x", "nbsp", "#0", "#x0", "#1", "#xD800", "#xFFFE", "#x110000",
		"#+65", "#-65", "#x+41", "#4294967295", "#99999999999", "#x41;"} {
		_, ok := Ref(ref)
		assert.False(t, ok, ref)
	}
}

func TestIsChar(t *testing.T) {
	for _, r := range []rune{'\t', '\n', '\r', ' ', 'a', 0xD7FF, 0xE000, 0xFFFD, 0x10000, 0x10FFFF} {
		assert.True(t, IsChar(r), "%U", r)
	}
	for _, r := range []rune{0, 0x1F, 0xD800, 0xDFFF, 0xFFFE, 0xFFFF, 0x110000, -1} {
		assert.False(t, IsChar(r), "%U", r)
	}
}

func TestNameChars(t *testing.T) {
	for _, tc := range []struct {
		r            rune
		start, inner bool
	}{
		{'a', true, true}, {'Z', true, true}, {'_', true, true}, {'-', false, true}, {'.', false, true},
		{'7', false, true}, {0xB7, false, true}, {':', false, false}, {' ', false, false}, {'<', false, false},
		{0xC0, true, true}, {0xD7, false, false}, {0xF7, false, false}, {0x300, false, true},
		{0x37E, false, false}, {0x203F, false, true}, {0x3000, false, false}, {0x4A50, true, true},
		{0xD800, false, false}, {0xFFFE, false, false}, {0x10000, true, true}, {0xF0000, false, false},
	} {
		assert.Equal(t, tc.start, IsNameStartChar(tc.r), "start %U", tc.r)
		assert.Equal(t, tc.inner, IsNameChar(tc.r), "inner %U", tc.r)
	}
}
