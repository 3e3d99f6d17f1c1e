package xmldoc

import (
	"strings"
	"unicode/utf8"

	"github.com/hookkit-dev/hookkit/hookkit/internal/xmlchar"
)

// writer serializes a tree. Unlike xmlquery's OutputXML it writes every node the way the input
// wrote it as long as the node is unchanged (quotes, character references, CDATA, empty-element tags,
// whitespace inside tags, the XML declaration or its absence), and escapes what it must regenerate so that
// an XML parser reads back exactly the value that was set: tabs, newlines and carriage returns in
// attribute values become &#9; &#10; &#13;, and quotes, <, & and > are escaped.
type writer struct {
	b     strings.Builder
	quote byte // quote for attributes of elements that have none of their own
}

func (w *writer) children(n *node) {
	for c := n.first; c != nil; c = c.next {
		w.node(c)
	}
}

func (w *writer) node(n *node) {
	if n.kind != elementNode && n.parsed && n.orig.data == n.data && sameAttrs(n.attrs, n.orig.attrs) {
		w.b.WriteString(n.orig.raw)
		return
	}
	switch n.kind {
	case documentNode:
		w.children(n)
	case elementNode:
		w.element(n)
	case textNode:
		w.text(n.data)
	case cdataNode:
		if strings.ContainsRune(n.data, '\r') {
			// A parser turns a carriage return inside CDATA into a newline; as text it can be written
			// as &#13;, so that what was set is what libvirt reads back.
			w.text(n.data)
			return
		}
		w.b.WriteString("<![CDATA[")
		w.b.WriteString(strings.ReplaceAll(validText(n.data), "]]>", "]]]]><![CDATA[>"))
		w.b.WriteString("]]>")
	case commentNode:
		w.b.WriteString("<!--")
		w.b.WriteString(validText(n.data))
		w.b.WriteString("-->")
	case declNode:
		w.b.WriteString("<?xml")
		for _, a := range n.attrs {
			w.b.WriteString(" " + a.local + `="` + a.value + `"`)
		}
		w.b.WriteString("?>")
	case piNode:
		w.b.WriteString("<?" + n.name)
		if n.data != "" {
			w.b.WriteString(" " + n.data)
		}
		w.b.WriteString("?>")
	case doctypeNode:
		w.b.WriteString("<!" + n.data + ">")
	}
}

func sameAttrs(as []attribute, raw []rawAttr) bool {
	if len(as) != len(raw) {
		return false
	}
	for i, a := range as {
		if a.prefix != raw[i].prefix || a.local != raw[i].local || a.value != raw[i].value {
			return false
		}
	}
	return true
}

func (w *writer) element(n *node) {
	name := qname(n.prefix, n.name)
	empty := n.first == nil
	selfClosing := !n.parsed || n.orig.end == ""
	// An untouched start tag is written as it was; an element written <a/> that gained children gets an
	// end tag.
	if n.parsed && sameAttrs(n.attrs, n.orig.attrs) {
		switch {
		case !selfClosing:
			w.b.WriteString(n.orig.raw)
			w.children(n)
			w.b.WriteString(n.orig.end)
		case empty:
			w.b.WriteString(n.orig.raw)
		default:
			w.b.WriteString(n.orig.raw[:len(n.orig.raw)-2])
			w.b.WriteString(">")
			w.children(n)
			w.b.WriteString("</" + name + ">")
		}
		return
	}
	w.b.WriteString("<" + name)
	quote := w.quote
	if n.parsed && n.orig.quote != 0 {
		quote = n.orig.quote
	}
	for _, a := range n.attrs {
		if ra := n.rawAttr(a); ra != nil {
			w.b.WriteString(ra.raw)
			continue
		}
		w.b.WriteString(" " + qname(a.prefix, a.local) + "=")
		w.b.WriteByte(quote)
		w.attrValue(a.value, quote)
		w.b.WriteByte(quote)
	}
	if empty && selfClosing {
		w.b.WriteString("/>")
		return
	}
	w.b.WriteString(">")
	w.children(n)
	w.b.WriteString("</" + name + ">")
}

// rawAttr returns how the input wrote attribute a, if n was parsed with a as it is now.
func (n *node) rawAttr(a attribute) *rawAttr {
	if !n.parsed {
		return nil
	}
	for i := range n.orig.attrs {
		if r := &n.orig.attrs[i]; r.prefix == a.prefix && r.local == a.local && r.value == a.value {
			return r
		}
	}
	return nil
}

// text writes character data escaped; > is escaped too, so that "]]>" never appears in text.
func (w *writer) text(s string) { w.escape(s, 0) }

// attrValue writes an attribute value for the given quote, with the characters an XML parser would
// otherwise normalize or misread written as references.
func (w *writer) attrValue(s string, quote byte) { w.escape(s, quote) }

// escape writes s with markup characters escaped; quote is 0 for text, else the attribute's quote.
func (w *writer) escape(s string, quote byte) {
	s = validText(s)
	last := 0
	for i := 0; i < len(s); i++ {
		esc := escapeChar(s[i], quote)
		if esc == "" {
			continue
		}
		w.b.WriteString(s[last:i])
		w.b.WriteString(esc)
		last = i + 1
	}
	w.b.WriteString(s[last:])
}

func escapeChar(c, quote byte) string {
	switch c {
	case '&':
		return "&amp;"
	case '<':
		return "&lt;"
	case '>':
		return "&gt;"
	case '\r':
		return "&#13;"
	}
	if quote == 0 {
		return ""
	}
	switch {
	case c == '\t':
		return "&#9;"
	case c == '\n':
		return "&#10;"
	case c == '"' && quote == '"':
		return "&quot;"
	case c == '\'' && quote == '\'':
		return "&apos;"
	}
	return ""
}

// validText replaces what XML 1.0 cannot carry at all (invalid UTF-8, control characters other than tab,
// newline and carriage return, U+FFFE and U+FFFF) with U+FFFD. The editing methods refuse such values;
// this is a last guard.
func validText(s string) string {
	if firstInvalid(s) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if !xmlchar.IsChar(r) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	return b.String()
}

// firstInvalid returns the byte offset of the first character XML cannot carry, or -1.
func firstInvalid(s string) int {
	for i, r := range s {
		if !xmlchar.IsChar(r) || (r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD")) {
			return i
		}
	}
	return -1
}
