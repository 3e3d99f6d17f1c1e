package xmldoc

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Namespace URIs XML itself defines.
const (
	xmlURI   = "http://www.w3.org/XML/1998/namespace"
	xmlnsURI = "http://www.w3.org/2000/xmlns/"
)

// SyntaxError reports input that is not a well-formed XML document.
type SyntaxError struct {
	// Offset is the byte offset of the problem in the input.
	Offset int64
	// Line is the 1-based line of the problem.
	Line int
	// Msg says what is wrong.
	Msg string
}

// Error returns the message with its line and byte offset.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("xmldoc: malformed XML at line %d, byte %d: %s", e.Line, e.Offset, e.Msg)
}

// nsBinding is one namespace declaration in scope while parsing.
type nsBinding struct{ prefix, uri string }

type parser struct {
	src   string
	stack []*node
	ns    []nsBinding
	marks []int // len(ns) at each open element
	root  bool  // the document element was seen
}

// parse builds the tree of src. With fragment set it accepts what may appear inside an element (several
// elements, text) instead of a whole document, for AddXML; scope then holds the namespaces in scope
// where the fragment goes.
func parse(src string, fragment bool, scope []nsBinding) (*node, error) {
	p := &parser{src: src, ns: append([]nsBinding{{"xml", xmlURI}, {"xmlns", xmlnsURI}}, scope...)}
	if i := firstInvalid(src); i >= 0 {
		return nil, p.errorAt(int64(i), "a character XML does not allow (invalid UTF-8 or a control character)")
	}
	top := &node{kind: documentNode}
	p.stack = append(p.stack, top)
	dec := xml.NewDecoder(strings.NewReader(src))
	dec.Strict = true
	var off int64
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			msg := err.Error()
			if errors.As(err, &se) {
				msg = se.Msg
			}
			return nil, p.errorAt(dec.InputOffset(), msg)
		}
		end := dec.InputOffset()
		raw := src[off:end]
		if err := p.token(tok, raw, off, fragment); err != nil {
			return nil, err
		}
		off = end
	}
	if len(p.stack) > 1 {
		n := p.stack[len(p.stack)-1]
		return nil, p.errorAt(off, fmt.Sprintf("unexpected end of input: <%s> is not closed", qname(n.prefix, n.name)))
	}
	if !fragment && !p.root {
		return nil, p.errorAt(off, "no root element")
	}
	return top, nil
}

func (p *parser) errorAt(off int64, msg string) error {
	off = min(max(off, 0), int64(len(p.src)))
	return &SyntaxError{Offset: off, Line: 1 + strings.Count(p.src[:off], "\n"), Msg: msg}
}

// add appends a parsed node, recording its content as the original.
func (p *parser) add(n *node, raw string) {
	n.parsed = true
	n.orig.raw, n.orig.name, n.orig.prefix, n.orig.data = raw, n.name, n.prefix, n.data
	p.stack[len(p.stack)-1].appendChild(n)
}

func (p *parser) lookup(prefix string) (string, bool) {
	for i := len(p.ns) - 1; i >= 0; i-- {
		if p.ns[i].prefix == prefix {
			return p.ns[i].uri, p.ns[i].uri != "" || prefix == ""
		}
	}
	return "", prefix == ""
}

func (p *parser) token(tok xml.Token, raw string, off int64, fragment bool) error {
	top := len(p.stack) == 1
	switch t := tok.(type) {
	case xml.StartElement:
		if top && !fragment {
			if p.root {
				return p.errorAt(off, fmt.Sprintf("second root element <%s>", qname(t.Name.Space, t.Name.Local)))
			}
			p.root = true
		}
		return p.start(t, raw, off)
	case xml.EndElement:
		n := p.stack[len(p.stack)-1]
		if top || n.name != t.Name.Local || n.prefix != t.Name.Space {
			return p.errorAt(off, fmt.Sprintf("unexpected end tag </%s>", qname(t.Name.Space, t.Name.Local)))
		}
		n.orig.end = raw
		p.stack = p.stack[:len(p.stack)-1]
		p.ns = p.ns[:p.marks[len(p.marks)-1]]
		p.marks = p.marks[:len(p.marks)-1]
	case xml.CharData:
		k := textNode
		if strings.HasPrefix(raw, "<![CDATA[") {
			k = cdataNode
		}
		if top && !fragment && (k == cdataNode || strings.TrimLeft(raw, " \t\r\n") != "") {
			return p.errorAt(off, "text outside the root element")
		}
		data := raw
		if k == cdataNode || strings.ContainsAny(raw, "&\r") {
			data = string(t)
		}
		p.add(&node{kind: k, data: data}, raw)
	case xml.Comment:
		p.add(&node{kind: commentNode, data: raw[4 : len(raw)-3]}, raw)
	case xml.ProcInst:
		if after := raw[2+len(t.Target)]; after != '?' && after != ' ' && after != '\t' && after != '\n' && after != '\r' {
			return p.errorAt(off, fmt.Sprintf("no space after the processing instruction target %q", t.Target))
		}
		if t.Target == "xml" {
			if off != 0 || fragment {
				return p.errorAt(off, "XML declaration not at the start of the document")
			}
			n := &node{kind: declNode, name: "xml"}
			attrs, ok := parseDecl(string(t.Inst))
			if !ok {
				return p.errorAt(off, "malformed XML declaration (only version 1.0 and encoding UTF-8 are supported)")
			}
			n.attrs = attrs
			for _, a := range attrs {
				n.orig.attrs = append(n.orig.attrs, rawAttr{local: a.local, value: a.value})
			}
			p.add(n, raw)
			return nil
		}
		p.add(&node{kind: piNode, name: t.Target, data: strings.TrimLeft(string(t.Inst), " \t\r\n")}, raw)
	case xml.Directive:
		if !top || p.root || fragment {
			return p.errorAt(off, "<!"+firstWord(string(t))+"> is not allowed here")
		}
		p.add(&node{kind: doctypeNode, data: string(t)}, raw)
	}
	return nil
}

// parseDecl parses the pseudo-attributes of an XML declaration: version 1.0 first, then an optional
// encoding (UTF-8, as libvirt writes) and standalone.
func parseDecl(inst string) ([]attribute, bool) {
	var out []attribute
	const space = " \t\r\n"
	for s := inst; ; {
		s = strings.TrimLeft(s, space)
		if s == "" {
			break
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, false
		}
		k := strings.TrimRight(s[:eq], space)
		s = strings.TrimLeft(s[eq+1:], space)
		if s == "" || (s[0] != '"' && s[0] != '\'') {
			return nil, false
		}
		end := strings.IndexByte(s[1:], s[0])
		if end < 0 {
			return nil, false
		}
		out = append(out, attribute{local: k, value: s[1 : 1+end]})
		s = s[end+2:]
	}
	for i, a := range out {
		ok := false
		switch a.local {
		case "version":
			ok = i == 0 && a.value == "1.0"
		case "encoding":
			ok = i == 1 && (strings.EqualFold(a.value, "utf-8") || strings.EqualFold(a.value, "utf8"))
		case "standalone":
			ok = i > 0 && (a.value == "yes" || a.value == "no")
		}
		if !ok {
			return nil, false
		}
	}
	return out, len(out) > 0
}

func firstWord(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return s
}

func (p *parser) start(t xml.StartElement, raw string, off int64) error {
	p.marks = append(p.marks, len(p.ns))
	n := &node{kind: elementNode, name: t.Name.Local, prefix: t.Name.Space}
	if len(t.Attr) > 0 {
		n.attrs = make([]attribute, len(t.Attr))
		n.orig.attrs = make([]rawAttr, len(t.Attr))
		pos := 1 + len(qname(t.Name.Space, t.Name.Local))
		for i, a := range t.Attr {
			// The raw attribute: whitespace, name, optional whitespace, "=", optional whitespace, quoted value.
			eq := pos + strings.IndexByte(raw[pos:], '=')
			q := eq + 1 + strings.IndexAny(raw[eq+1:], `"'`)
			closing := q + 1 + strings.IndexByte(raw[q+1:], raw[q])
			value := a.Value
			if rv := raw[q+1 : closing]; strings.ContainsAny(rv, "\t\n\r") {
				// encoding/xml keeps literal tabs and newlines; XML turns each into a space (only &#9; and
				// &#10; stand for themselves), as libvirt reads it.
				value = normalizeAttr(rv)
			}
			if i == 0 {
				n.orig.quote = raw[q]
			}
			n.attrs[i] = attribute{prefix: a.Name.Space, local: a.Name.Local, value: value}
			n.orig.attrs[i] = rawAttr{prefix: a.Name.Space, local: a.Name.Local, value: value, raw: raw[pos : closing+1]}
			pos = closing + 1
			switch {
			case a.Name.Space == "xmlns":
				if value == "" {
					return p.errorAt(off, fmt.Sprintf("empty namespace URI for prefix %q", a.Name.Local))
				}
				p.ns = append(p.ns, nsBinding{a.Name.Local, value})
			case a.Name.Space == "" && a.Name.Local == "xmlns":
				p.ns = append(p.ns, nsBinding{"", value})
			}
		}
	}
	uri, ok := p.lookup(n.prefix)
	if !ok {
		return p.errorAt(off, fmt.Sprintf("undeclared namespace prefix %q on <%s>", n.prefix, qname(n.prefix, n.name)))
	}
	n.uri = uri
	for i := range n.attrs {
		a := &n.attrs[i]
		switch {
		case a.isDecl():
			a.uri = xmlnsURI
		case a.prefix != "":
			uri, ok := p.lookup(a.prefix)
			if !ok {
				return p.errorAt(off, fmt.Sprintf("undeclared namespace prefix %q on attribute %s", a.prefix, qname(a.prefix, a.local)))
			}
			a.uri = uri
		}
		for _, b := range n.attrs[:i] {
			if b.local == a.local && b.uri == a.uri && b.isDecl() == a.isDecl() {
				return p.errorAt(off, fmt.Sprintf("attribute %s repeated on <%s>", qname(a.prefix, a.local), qname(n.prefix, n.name)))
			}
		}
	}
	p.add(n, raw)
	p.stack = append(p.stack, n)
	return nil
}

// normalizeAttr decodes a raw attribute value as an XML processor does: references are replaced, and each
// literal tab, newline or carriage return (a CR LF pair counting as one) becomes a space.
func normalizeAttr(raw string) string {
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch c {
		case '\r':
			if i+1 < len(raw) && raw[i+1] == '\n' {
				i++
			}
			b.WriteByte(' ')
		case '\t', '\n':
			b.WriteByte(' ')
		case '&':
			j := strings.IndexByte(raw[i:], ';')
			b.WriteString(decodeRef(raw[i+1 : i+j]))
			i += j
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// decodeRef decodes the reference &ref; (already checked by encoding/xml).
func decodeRef(ref string) string {
	switch ref {
	case "lt":
		return "<"
	case "gt":
		return ">"
	case "amp":
		return "&"
	case "quot":
		return `"`
	case "apos":
		return "'"
	}
	var r rune
	if strings.HasPrefix(ref, "#x") {
		_, _ = fmt.Sscanf(ref[2:], "%x", &r)
	} else if strings.HasPrefix(ref, "#") {
		_, _ = fmt.Sscanf(ref[1:], "%d", &r)
	}
	return string(r)
}

// qname returns prefix:local, or local without a prefix.
func qname(prefix, local string) string {
	if prefix == "" {
		return local
	}
	return prefix + ":" + local
}
