// Package markers replaces the generated part of a hand-written file: the lines between a begin and an
// end marker, such as the event table in README.md or the --sequence table in docs/cli.md.
package markers

import "strings"

// Replace returns doc with what lies between the line begin and the string end replaced by body (which
// should end with a newline). It reports false, and returns doc unchanged, when doc lacks either marker or
// has end before begin.
func Replace(doc []byte, begin, end, body string) ([]byte, bool) {
	s := string(doc)
	i := strings.Index(s, begin)
	if i < 0 {
		return doc, false
	}
	j := strings.Index(s[i:], end)
	if j < 0 {
		return doc, false
	}
	return []byte(s[:i+len(begin)] + "\n" + body + s[i+j:]), true
}

// Between returns what lies between the line begin and the string end in doc, and whether both were found.
func Between(doc []byte, begin, end string) (string, bool) {
	_, rest, ok := strings.Cut(string(doc), begin+"\n")
	if !ok {
		return "", false
	}
	body, _, ok := strings.Cut(rest, end)
	return body, ok
}
