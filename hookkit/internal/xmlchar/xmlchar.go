// Package xmlchar holds the XML 1.0 character rules that both of hookkit's hand-written scanners need:
// the core's stdin scanner and package xmldoc's parser.
package xmlchar

import (
	"strconv"
	"strings"
	"unicode"
)

// IsChar reports whether XML 1.0 allows r in a document (production [2] Char).
func IsChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// Ref resolves the reference between & and ;: one of the five predefined entities (lt, gt, amp, quot,
// apos) or a character reference (#123, #x7B) to a character XML allows. Any other name is refused: hook
// input has no DTD, so no other entity exists.
func Ref(ref string) (rune, bool) {
	switch ref {
	case "lt":
		return '<', true
	case "gt":
		return '>', true
	case "amp":
		return '&', true
	case "quot":
		return '"', true
	case "apos":
		return '\'', true
	}
	var n uint64
	var err error
	switch {
	case strings.HasPrefix(ref, "#x"):
		n, err = strconv.ParseUint(ref[2:], 16, 32)
	case strings.HasPrefix(ref, "#"):
		n, err = strconv.ParseUint(ref[1:], 10, 32)
	default:
		return 0, false
	}
	if err != nil || n > unicode.MaxRune || !IsChar(rune(n)) {
		return 0, false
	}
	return rune(n), true
}
