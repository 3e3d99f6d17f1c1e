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

// IsNameStartChar reports whether r may begin an XML name (XML 1.0 fifth edition, production [4]
// NameStartChar, without ':' which the namespace-aware callers handle themselves). This is the rule
// libxml2, and so libvirt, applies; encoding/xml still uses the older, narrower tables of the fourth
// edition, so a few non-ASCII names pass here and fail there.
func IsNameStartChar(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_':
		return true
	case r < 0xC0:
		return false
	}
	return r <= 0xD6 || r >= 0xD8 && r <= 0xF6 || r >= 0xF8 && r <= 0x2FF || r >= 0x370 && r <= 0x37D ||
		r >= 0x37F && r <= 0x1FFF || r >= 0x200C && r <= 0x200D || r >= 0x2070 && r <= 0x218F ||
		r >= 0x2C00 && r <= 0x2FEF || r >= 0x3001 && r <= 0xD7FF || r >= 0xF900 && r <= 0xFDCF ||
		r >= 0xFDF0 && r <= 0xFFFD || r >= 0x10000 && r <= 0xEFFFF
}

// IsNameChar reports whether r may continue an XML name (production [4a] NameChar, without ':').
func IsNameChar(r rune) bool {
	return IsNameStartChar(r) || r >= '0' && r <= '9' || r == '-' || r == '.' || r == 0xB7 ||
		r >= 0x300 && r <= 0x36F || r >= 0x203F && r <= 0x2040
}
