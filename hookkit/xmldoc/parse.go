package xmldoc

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/antchfx/xmlquery"
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

// nodeInfo is how a node was written in the input: the serializer writes these bytes back for every node
// whose content still matches what was parsed, so that an untouched node comes back byte for byte.
type nodeInfo struct {
	raw    string // element: the start tag; any other node: the whole node as written
	end    string // element: the end tag; "" when the element was written as an empty-element tag
	data   string // Data as parsed
	prefix string // element: Prefix as parsed
	attrs  []rawAttr
	quote  byte                  // element: the quote of its first attribute, 0 without attributes
	pi     xmlquery.ProcInstData // processing instruction as parsed
}

// rawAttr is one attribute as written: raw holds the whitespace before it, its name, "=" and the quoted value.
type rawAttr struct {
	name  xml.Name
	value string
	raw   string
}

// nsBinding is one namespace declaration in scope while parsing.
type nsBinding struct{ prefix, uri string }

type parser struct {
	src   string
	doc   *Document
	stack []*xmlquery.Node
	ns    []nsBinding
	marks []int // len(ns) at each open element
	root  bool  // the document element was seen
}

// parse builds the xmlquery tree of src. With fragment set it accepts what may appear inside an element
// (several elements, text) instead of a whole document, for AddXML; scope then holds the namespaces in
// scope where the fragment goes.
func (d *Document) parse(src string, fragment bool, scope []nsBinding) (*xmlquery.Node, error) {
	p := &parser{src: src, doc: d, ns: append([]nsBinding{{"xml", xmlURI}, {"xmlns", xmlnsURI}}, scope...)}
	top := &xmlquery.Node{Type: xmlquery.DocumentNode}
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
		return nil, p.errorAt(off, fmt.Sprintf("unexpected end of input: <%s> is not closed", qname(n.Prefix, n.Data)))
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

// parsed is a node with how it was written, allocated together.
type parsed struct {
	node xmlquery.Node
	info nodeInfo
}

func (p *parser) add(n *xmlquery.Node, info *nodeInfo) {
	xmlquery.AddChild(p.stack[len(p.stack)-1], n)
	p.doc.info[n] = info
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
		if top || n.Data != t.Name.Local || n.Prefix != t.Name.Space {
			return p.errorAt(off, fmt.Sprintf("unexpected end tag </%s>", qname(t.Name.Space, t.Name.Local)))
		}
		p.doc.info[n].end = raw
		p.stack = p.stack[:len(p.stack)-1]
		p.ns = p.ns[:p.marks[len(p.marks)-1]]
		p.marks = p.marks[:len(p.marks)-1]
	case xml.CharData:
		typ := xmlquery.TextNode
		if strings.HasPrefix(raw, "<![CDATA[") {
			typ = xmlquery.CharDataNode
		}
		if top && !fragment && (typ == xmlquery.CharDataNode || strings.TrimLeft(raw, " \t\r\n") != "") {
			return p.errorAt(off, "text outside the root element")
		}
		if !utf8.Valid(t) {
			return p.errorAt(off, "invalid UTF-8")
		}
		data := raw
		if typ == xmlquery.CharDataNode || strings.ContainsAny(raw, "&\r") {
			data = string(t)
		}
		pn := &parsed{node: xmlquery.Node{Type: typ, Data: data}, info: nodeInfo{raw: raw, data: data}}
		p.add(&pn.node, &pn.info)
	case xml.Comment:
		data := raw[4 : len(raw)-3]
		p.add(&xmlquery.Node{Type: xmlquery.CommentNode, Data: data}, &nodeInfo{raw: raw, data: data})
	case xml.ProcInst:
		if t.Target == "xml" {
			if off != 0 || fragment {
				return p.errorAt(off, "XML declaration not at the start of the document")
			}
			n := &xmlquery.Node{Type: xmlquery.DeclarationNode, Data: "xml"}
			for _, pair := range strings.Fields(string(t.Inst)) {
				if k, v, ok := strings.Cut(pair, "="); ok {
					n.Attr = append(n.Attr, xmlquery.Attr{Name: xml.Name{Local: k}, Value: strings.Trim(v, `"'`)})
				}
			}
			p.add(n, &nodeInfo{raw: raw, data: n.Data, attrs: declAttrs(n.Attr)})
			return nil
		}
		pi := xmlquery.ProcInstData{Target: t.Target, Inst: strings.TrimLeft(string(t.Inst), " \t\r\n")}
		n := &xmlquery.Node{Type: xmlquery.ProcessingInstruction, Data: t.Target, ProcInst: &xmlquery.ProcInstData{Target: pi.Target, Inst: pi.Inst}}
		p.add(n, &nodeInfo{raw: raw, data: n.Data, pi: pi})
	case xml.Directive:
		if !top || p.root || fragment {
			return p.errorAt(off, "<!"+firstWord(string(t))+"> is not allowed here")
		}
		n := &xmlquery.Node{Type: xmlquery.NotationNode, Data: string(t)}
		p.add(n, &nodeInfo{raw: raw, data: n.Data})
	}
	return nil
}

func firstWord(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return s
}

// declAttrs records the XML declaration's pseudo-attributes so that the serializer sees whether they changed.
func declAttrs(as []xmlquery.Attr) []rawAttr {
	r := make([]rawAttr, len(as))
	for i, a := range as {
		r[i] = rawAttr{name: a.Name, value: a.Value}
	}
	return r
}

func (p *parser) start(t xml.StartElement, raw string, off int64) error {
	p.marks = append(p.marks, len(p.ns))
	pn := &parsed{
		node: xmlquery.Node{Type: xmlquery.ElementNode, Data: t.Name.Local, Prefix: t.Name.Space},
		info: nodeInfo{raw: raw, data: t.Name.Local, prefix: t.Name.Space},
	}
	n, info := &pn.node, &pn.info
	if len(t.Attr) > 0 {
		n.Attr = make([]xmlquery.Attr, len(t.Attr))
		info.attrs = make([]rawAttr, len(t.Attr))
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
			if !utf8.ValidString(value) {
				return p.errorAt(off, "invalid UTF-8")
			}
			if i == 0 {
				info.quote = raw[q]
			}
			n.Attr[i] = xmlquery.Attr{Name: a.Name, Value: value}
			info.attrs[i] = rawAttr{name: a.Name, value: value, raw: raw[pos : closing+1]}
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
	uri, ok := p.lookup(n.Prefix)
	if !ok {
		return p.errorAt(off, fmt.Sprintf("undeclared namespace prefix %q on <%s>", n.Prefix, qname(n.Prefix, n.Data)))
	}
	n.NamespaceURI = uri
	for i := range n.Attr {
		a := &n.Attr[i]
		switch {
		case a.Name.Space != "":
			uri, ok := p.lookup(a.Name.Space)
			if !ok {
				return p.errorAt(off, fmt.Sprintf("undeclared namespace prefix %q on attribute %s", a.Name.Space, qname(a.Name.Space, a.Name.Local)))
			}
			a.NamespaceURI = uri
		case a.Name.Local == "xmlns":
			a.NamespaceURI = xmlnsURI
		}
		for _, b := range n.Attr[:i] {
			if b.Name.Local == a.Name.Local && b.NamespaceURI == a.NamespaceURI {
				return p.errorAt(off, fmt.Sprintf("attribute %s repeated on <%s>", qname(a.Name.Space, a.Name.Local), qname(n.Prefix, n.Data)))
			}
		}
	}
	p.add(n, info)
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
