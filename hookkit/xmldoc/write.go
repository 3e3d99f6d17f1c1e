package xmldoc

import (
	"strings"
	"unicode/utf8"

	"github.com/antchfx/xmlquery"
)

// writer serializes an xmlquery tree. Unlike xmlquery's OutputXML it writes every node the way the input
// wrote it as long as the node is unchanged (quotes, character references, CDATA, empty-element tags,
// whitespace inside tags, the XML declaration or its absence), and escapes what it must regenerate so that
// an XML parser reads back exactly the value that was set: tabs, newlines and carriage returns in
// attribute values become &#9; &#10; &#13;, and quotes, <, & and > are escaped.
type writer struct {
	b     strings.Builder
	info  map[*xmlquery.Node]*nodeInfo
	quote byte // quote for attributes of elements that have none of their own
}

func (w *writer) children(n *xmlquery.Node) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.node(c)
	}
}

func (w *writer) node(n *xmlquery.Node) {
	info := w.info[n]
	if info != nil && n.Type != xmlquery.ElementNode && info.data == n.Data && unchanged(n, info) {
		w.b.WriteString(info.raw)
		return
	}
	switch n.Type {
	case xmlquery.DocumentNode:
		w.children(n)
	case xmlquery.ElementNode:
		w.element(n, info)
	case xmlquery.TextNode:
		w.text(n.Data)
	case xmlquery.CharDataNode:
		w.b.WriteString("<![CDATA[")
		w.b.WriteString(strings.ReplaceAll(validText(n.Data), "]]>", "]]]]><![CDATA[>"))
		w.b.WriteString("]]>")
	case xmlquery.CommentNode:
		w.b.WriteString("<!--")
		w.b.WriteString(validText(n.Data))
		w.b.WriteString("-->")
	case xmlquery.DeclarationNode:
		w.b.WriteString("<?xml")
		for _, a := range n.Attr {
			w.b.WriteString(" " + a.Name.Local + `="` + a.Value + `"`)
		}
		w.b.WriteString("?>")
	case xmlquery.ProcessingInstruction:
		w.b.WriteString("<?")
		if n.ProcInst != nil {
			w.b.WriteString(n.ProcInst.Target)
			if n.ProcInst.Inst != "" {
				w.b.WriteString(" " + n.ProcInst.Inst)
			}
		} else {
			w.b.WriteString(n.Data)
		}
		w.b.WriteString("?>")
	case xmlquery.NotationNode:
		w.b.WriteString("<!" + n.Data + ">")
	}
}

// unchanged reports whether the parts of a non-element node other than Data still are as parsed.
func unchanged(n *xmlquery.Node, info *nodeInfo) bool {
	switch n.Type {
	case xmlquery.DeclarationNode:
		return sameAttrs(n.Attr, info.attrs)
	case xmlquery.ProcessingInstruction:
		return n.ProcInst != nil && *n.ProcInst == info.pi
	}
	return true
}

func sameAttrs(as []xmlquery.Attr, raw []rawAttr) bool {
	if len(as) != len(raw) {
		return false
	}
	for i, a := range as {
		if a.Name != raw[i].name || a.Value != raw[i].value {
			return false
		}
	}
	return true
}

func (w *writer) element(n *xmlquery.Node, info *nodeInfo) {
	name := qname(n.Prefix, n.Data)
	sameName := info != nil && info.data == n.Data && info.prefix == n.Prefix
	empty := n.FirstChild == nil
	// An untouched start tag is written as it was; an element written <a/> that gained children gets an
	// end tag.
	if sameName && sameAttrs(n.Attr, info.attrs) {
		selfClosing := info.end == ""
		switch {
		case !selfClosing:
			w.b.WriteString(info.raw)
			w.children(n)
			w.b.WriteString(info.end)
		case empty:
			w.b.WriteString(info.raw)
		default:
			w.b.WriteString(info.raw[:len(info.raw)-2])
			w.b.WriteString(">")
			w.children(n)
			w.b.WriteString("</" + name + ">")
		}
		return
	}
	w.b.WriteString("<" + name)
	quote := w.quote
	if info != nil && info.quote != 0 {
		quote = info.quote
	}
	for _, a := range n.Attr {
		if ra := info.find(a); ra != nil {
			w.b.WriteString(ra.raw)
			continue
		}
		w.b.WriteString(" " + qname(a.Name.Space, a.Name.Local) + "=")
		w.b.WriteByte(quote)
		w.attrValue(a.Value, quote)
		w.b.WriteByte(quote)
	}
	if empty && (info == nil || info.end == "") {
		w.b.WriteString("/>")
		return
	}
	w.b.WriteString(">")
	w.children(n)
	w.b.WriteString("</" + name + ">")
}

// find returns the raw form of attribute a if a still has its parsed name and value.
func (info *nodeInfo) find(a xmlquery.Attr) *rawAttr {
	if info == nil {
		return nil
	}
	for i := range info.attrs {
		if r := &info.attrs[i]; r.name == a.Name && r.value == a.Value {
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
// this only guards nodes changed directly through xmlquery.
func validText(s string) string {
	if firstInvalid(s) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if !isXMLChar(r) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	return b.String()
}

// firstInvalid returns the byte offset of the first character XML cannot carry, or -1.
func firstInvalid(s string) int {
	for i, r := range s {
		if !isXMLChar(r) || (r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD")) {
			return i
		}
	}
	return -1
}

func isXMLChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}
