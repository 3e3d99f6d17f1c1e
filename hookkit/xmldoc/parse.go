package xmldoc

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/hookkit-dev/hookkit/hookkit/internal/xmlchar"
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

// parser reads XML 1.0 with namespaces straight from the input string: every node keeps the substring
// it was written as, and names and values without references are substrings too, not copies.
type parser struct {
	src   string
	i     int // read position
	stack []*node
	ns    []nsBinding
	marks []int // len(ns) at each open element
	root  bool  // the document element was seen

	attrs    []attribute // scratch for the attributes of the start tag being read
	rawAttrs []rawAttr
}

// errSyntax carries a syntax error up from the scanning functions.
type errSyntax struct {
	off int
	msg string
}

func (e *errSyntax) Error() string { return e.msg }

func (p *parser) fail(off int, format string, args ...any) error {
	return &errSyntax{off: off, msg: fmt.Sprintf(format, args...)}
}

const space = " \t\r\n"

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// parse builds the tree of src. With fragment set it accepts what may appear inside an element (several
// elements, text) instead of a whole document, for AddXML; scope then holds the namespaces in scope
// where the fragment goes.
func parse(src string, fragment bool, scope []nsBinding) (*node, error) {
	p := &parser{src: src, ns: append([]nsBinding{{"xml", xmlURI}, {"xmlns", xmlnsURI}}, scope...)}
	top := &node{kind: documentNode}
	p.stack = append(p.stack, top)
	err := p.run(fragment)
	if err == nil && len(p.stack) > 1 {
		n := p.stack[len(p.stack)-1]
		err = p.fail(len(src), "unexpected end of input: <%s> is not closed", qname(n.prefix, n.name))
	}
	if err == nil && !fragment && !p.root {
		err = p.fail(len(src), "no root element")
	}
	if e, ok := err.(*errSyntax); ok {
		off := min(max(e.off, 0), len(src))
		return nil, &SyntaxError{Offset: int64(off), Line: 1 + strings.Count(src[:off], "\n"), Msg: e.msg}
	}
	return top, nil
}

func (p *parser) run(fragment bool) error {
	if i := firstInvalid(p.src); i >= 0 {
		return p.fail(i, "a character XML does not allow (invalid UTF-8 or a control character)")
	}
	for p.i < len(p.src) {
		start := p.i
		r := p.src[start:]
		top := len(p.stack) == 1
		var err error
		switch {
		case r[0] != '<':
			err = p.text(start, top && !fragment)
		case strings.HasPrefix(r, "<!--"):
			err = p.comment(start)
		case strings.HasPrefix(r, "<![CDATA["):
			if top && !fragment {
				return p.fail(start, "text outside the root element")
			}
			err = p.cdata(start)
		case strings.HasPrefix(r, "<!DOCTYPE"):
			if !top || p.root || fragment {
				return p.fail(start, "<!DOCTYPE> is not allowed here")
			}
			err = p.doctype(start)
		case strings.HasPrefix(r, "<!"):
			return p.fail(start, "unexpected <!")
		case strings.HasPrefix(r, "<?"):
			err = p.procInst(start, fragment)
		case strings.HasPrefix(r, "</"):
			err = p.endTag(start)
		default:
			if top && !fragment {
				if p.root {
					p.i = start + 1
					prefix, local, _ := p.name()
					return p.fail(start, "second root element <%s>", qname(prefix, local))
				}
				p.root = true
			}
			err = p.startTag(start)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// add appends a parsed node, recording its content as the original.
func (p *parser) add(n *node, raw string) {
	n.parsed = true
	n.orig.raw, n.orig.data = raw, n.data
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

// text reads character data up to the next '<'.
func (p *parser) text(start int, outside bool) error {
	end := strings.IndexByte(p.src[start:], '<')
	if end < 0 {
		end = len(p.src)
	} else {
		end += start
	}
	raw := p.src[start:end]
	p.i = end
	if outside {
		if strings.TrimLeft(raw, space) != "" {
			return p.fail(start, "text outside the root element")
		}
	}
	if j := strings.Index(raw, "]]>"); j >= 0 {
		return p.fail(start+j, "]]> outside a CDATA section")
	}
	data, err := p.decode(raw, start, false)
	if err != nil {
		return err
	}
	p.add(&node{kind: textNode, data: data}, raw)
	return nil
}

// decode replaces references and normalizes line ends in text; in an attribute value each literal tab,
// newline or carriage return (a CR LF pair counting as one) becomes a space, as XML requires.
func (p *parser) decode(raw string, off int, attr bool) (string, error) {
	if !strings.ContainsAny(raw, "&\r") && (!attr || !strings.ContainsAny(raw, "\t\n")) {
		return raw, nil
	}
	var b strings.Builder
	b.Grow(len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '\r':
			if i+1 < len(raw) && raw[i+1] == '\n' {
				i++
			}
			if attr {
				b.WriteByte(' ')
			} else {
				b.WriteByte('\n')
			}
		case attr && (c == '\t' || c == '\n'):
			b.WriteByte(' ')
		case c == '&':
			j := strings.IndexByte(raw[i:], ';')
			if j < 0 {
				return "", p.fail(off+i, "unterminated reference")
			}
			s, ok := reference(raw[i+1 : i+j])
			if !ok {
				// Not quoted: what runs from & to ; may be part of a password in the migrate XML.
				return "", p.fail(off+i, "invalid entity or character reference (allowed: &lt; &gt; &amp; &apos; &quot;, and &#N; or &#xN; of a character XML allows)")
			}
			b.WriteString(s)
			i += j
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// reference returns what &ref; stands for.
func reference(ref string) (string, bool) {
	r, ok := xmlchar.Ref(ref)
	return string(r), ok
}

// until returns the end of the first delim after from, failing with what when there is none.
func (p *parser) until(from int, delim, what string) (int, error) {
	j := strings.Index(p.src[from:], delim)
	if j < 0 {
		return 0, p.fail(from, "unterminated %s", what)
	}
	return from + j + len(delim), nil
}

func (p *parser) comment(start int) error {
	end, err := p.until(start+4, "-->", "comment")
	if err != nil {
		return err
	}
	raw := p.src[start:end]
	data := raw[4 : len(raw)-3]
	if strings.Contains(data, "--") || strings.HasSuffix(data, "-") {
		return p.fail(start, `"--" inside a comment`)
	}
	p.i = end
	p.add(&node{kind: commentNode, data: data}, raw)
	return nil
}

func (p *parser) cdata(start int) error {
	end, err := p.until(start+9, "]]>", "CDATA section")
	if err != nil {
		return err
	}
	raw := p.src[start:end]
	data := raw[9 : len(raw)-3]
	if strings.IndexByte(data, '\r') >= 0 {
		data = strings.ReplaceAll(strings.ReplaceAll(data, "\r\n", "\n"), "\r", "\n")
	}
	p.i = end
	p.add(&node{kind: cdataNode, data: data}, raw)
	return nil
}

// doctype reads <!DOCTYPE ...>, which the document keeps as it is. It checks the shape of XML 1.0's
// doctypedecl without interpreting it: whitespace and a name after "<!DOCTYPE"; then only names (SYSTEM,
// PUBLIC), quoted literals, whitespace and one internal subset in brackets, in which the markup
// declarations' angle brackets must balance (comments and literals aside) before the closing '>'.
func (p *parser) doctype(start int) error {
	i := start + len("<!DOCTYPE")
	if i >= len(p.src) || !isSpaceByte(p.src[i]) {
		return p.fail(i, "<!DOCTYPE must be followed by whitespace and the root element's name")
	}
	for i < len(p.src) && isSpaceByte(p.src[i]) {
		i++
	}
	j := i
	for j < len(p.src) && !isSpaceByte(p.src[j]) && p.src[j] != '>' && p.src[j] != '[' {
		j++
	}
	if prefix, local, found := strings.Cut(p.src[i:j], ":"); found && (!isNCName(prefix) || !isNCName(local)) || !found && !isNCName(prefix) {
		return p.fail(i, "bad name %q in <!DOCTYPE>", p.src[i:j])
	}
	subset := false // the internal subset was read
	for i = j; i < len(p.src); i++ {
		c := p.src[i]
		switch {
		case isSpaceByte(c) || c >= 'A' && c <= 'Z':
			// whitespace, SYSTEM, PUBLIC
		case c == '"' || c == '\'':
			end := strings.IndexByte(p.src[i+1:], c)
			if end < 0 {
				return p.fail(i, "unterminated literal in <!DOCTYPE>")
			}
			i += 1 + end
		case c == '[' && !subset:
			end, err := p.internalSubset(i + 1)
			if err != nil {
				return err
			}
			i, subset = end, true
		case c == '>':
			raw := p.src[start : i+1]
			p.i = i + 1
			p.add(&node{kind: doctypeNode, data: raw[2 : len(raw)-1]}, raw)
			return nil
		default:
			return p.fail(i, "unexpected %q in <!DOCTYPE>", c)
		}
	}
	return p.fail(start, "unterminated <!DOCTYPE>")
}

// internalSubset checks the internal subset of a DOCTYPE from i (just after '[') and returns the offset
// of its closing ']': markup declarations whose angle brackets balance, comments, literals, parameter
// entity references and whitespace.
func (p *parser) internalSubset(i int) (int, error) {
	depth := 0
	for ; i < len(p.src); i++ {
		switch c := p.src[i]; {
		case strings.HasPrefix(p.src[i:], "<!--"):
			end := strings.Index(p.src[i+4:], "-->")
			if end < 0 {
				return 0, p.fail(i, "unterminated comment in <!DOCTYPE>")
			}
			i += 4 + end + 2
		case c == '"' || c == '\'':
			if depth == 0 {
				return 0, p.fail(i, "literal outside a declaration in <!DOCTYPE>")
			}
			end := strings.IndexByte(p.src[i+1:], c)
			if end < 0 {
				return 0, p.fail(i, "unterminated literal in <!DOCTYPE>")
			}
			i += 1 + end
		case c == '<':
			depth++
		case c == '>':
			if depth == 0 {
				return 0, p.fail(i, "unexpected '>' in <!DOCTYPE>")
			}
			depth--
		case c == ']' && depth == 0:
			return i, nil
		}
	}
	return 0, p.fail(i, "unterminated internal subset in <!DOCTYPE>")
}

func (p *parser) procInst(start int, fragment bool) error {
	end, err := p.until(start+2, "?>", "processing instruction")
	if err != nil {
		return err
	}
	raw := p.src[start:end]
	body := raw[2 : len(raw)-2]
	target := body
	inst := ""
	if j := strings.IndexAny(body, space); j >= 0 {
		target, inst = body[:j], strings.TrimLeft(body[j:], space)
	}
	if !isNCName(target) {
		return p.fail(start, "bad processing instruction target %q", target)
	}
	p.i = end
	if strings.EqualFold(target, "xml") {
		if target != "xml" || start != 0 || fragment {
			return p.fail(start, "XML declaration not at the start of the document")
		}
		attrs, ok := parseDecl(inst)
		if !ok {
			return p.fail(start, "malformed XML declaration (only version 1.0 and encoding UTF-8 are supported)")
		}
		n := &node{kind: declNode, name: "xml", attrs: attrs}
		for _, a := range attrs {
			n.orig.attrs = append(n.orig.attrs, rawAttr{local: a.local, value: a.value})
		}
		p.add(n, raw)
		return nil
	}
	p.add(&node{kind: piNode, name: target, data: inst}, raw)
	return nil
}

// parseDecl parses the pseudo-attributes of an XML declaration: version 1.0 first, then an optional
// encoding (UTF-8, as libvirt writes) and standalone.
func parseDecl(inst string) ([]attribute, bool) {
	var out []attribute
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
		if s != "" && !isSpaceByte(s[0]) {
			return nil, false
		}
	}
	for i, a := range out {
		ok := false
		switch a.local {
		case "version":
			ok = i == 0 && a.value == "1.0"
		case "encoding":
			ok = i == 1 && strings.EqualFold(a.value, "utf-8")
		case "standalone":
			ok = i > 0 && (a.value == "yes" || a.value == "no")
		}
		if !ok {
			return nil, false
		}
	}
	return out, len(out) > 0
}

// name reads a qualified name at p.i: prefix and local part.
func (p *parser) name() (prefix, local string, err error) {
	start := p.i
	i := start
	for i < len(p.src) {
		c := p.src[i]
		if isSpaceByte(c) || c == '>' || c == '/' || c == '=' || c == '<' || c == '"' || c == '\'' {
			break
		}
		i++
	}
	qn := p.src[start:i]
	p.i = i
	prefix, local, found := strings.Cut(qn, ":")
	if !found {
		prefix, local = "", qn
	}
	if !isNCName(local) || found && !isNCName(prefix) {
		return "", "", p.fail(start, "bad name %q", qn)
	}
	return prefix, local, nil
}

func (p *parser) skipSpace() bool {
	start := p.i
	for p.i < len(p.src) && isSpaceByte(p.src[p.i]) {
		p.i++
	}
	return p.i > start
}

// expect skips whitespace and reads c.
func (p *parser) expect(c byte) bool {
	p.skipSpace()
	if p.i >= len(p.src) || p.src[p.i] != c {
		return false
	}
	p.i++
	return true
}

// closeScope drops the namespace declarations of the element that ends.
func (p *parser) closeScope() {
	p.ns = p.ns[:p.marks[len(p.marks)-1]]
	p.marks = p.marks[:len(p.marks)-1]
}

func (p *parser) endTag(start int) error {
	p.i = start + 2
	prefix, local, err := p.name()
	if err != nil {
		return err
	}
	if !p.expect('>') {
		return p.fail(p.i, "expected > to end </%s", qname(prefix, local))
	}
	n := p.stack[len(p.stack)-1]
	if len(p.stack) == 1 || n.name != local || n.prefix != prefix {
		return p.fail(start, "unexpected end tag </%s>", qname(prefix, local))
	}
	n.orig.end = p.src[start:p.i]
	p.stack = p.stack[:len(p.stack)-1]
	p.closeScope()
	return nil
}

func (p *parser) startTag(start int) error {
	p.i = start + 1
	prefix, local, err := p.name()
	if err != nil {
		return err
	}
	p.marks = append(p.marks, len(p.ns))
	n := &node{kind: elementNode, name: local, prefix: prefix}
	p.attrs, p.rawAttrs = p.attrs[:0], p.rawAttrs[:0]
	selfClosing := false
	for {
		attrStart := p.i
		sep := p.skipSpace()
		if p.i >= len(p.src) {
			return p.fail(start, "unterminated start tag <%s", qname(prefix, local))
		}
		if c := p.src[p.i]; c == '>' || c == '/' {
			if c == '/' {
				if !strings.HasPrefix(p.src[p.i:], "/>") {
					return p.fail(p.i, "expected /> in <%s", qname(prefix, local))
				}
				selfClosing = true
				p.i++
			}
			p.i++
			break
		}
		if !sep {
			return p.fail(p.i, "expected a space before an attribute in <%s", qname(prefix, local))
		}
		ap, al, err := p.name()
		if err != nil {
			return err
		}
		if !p.expect('=') {
			return p.fail(p.i, "attribute %s without a value", qname(ap, al))
		}
		p.skipSpace()
		if p.i >= len(p.src) || (p.src[p.i] != '"' && p.src[p.i] != '\'') {
			return p.fail(p.i, "unquoted value of attribute %s", qname(ap, al))
		}
		q := p.src[p.i]
		vstart := p.i + 1
		vend := strings.IndexByte(p.src[vstart:], q)
		if vend < 0 {
			return p.fail(p.i, "unterminated value of attribute %s", qname(ap, al))
		}
		vend += vstart
		rv := p.src[vstart:vend]
		if strings.IndexByte(rv, '<') >= 0 {
			return p.fail(vstart, "< in the value of attribute %s", qname(ap, al))
		}
		value, err := p.decode(rv, vstart, true)
		if err != nil {
			return err
		}
		p.i = vend + 1
		if n.orig.quote == 0 {
			n.orig.quote = q
		}
		p.attrs = append(p.attrs, attribute{prefix: ap, local: al, value: value})
		p.rawAttrs = append(p.rawAttrs, rawAttr{prefix: ap, local: al, value: value, raw: p.src[attrStart:p.i]})
		switch {
		case ap == "xmlns":
			if value == "" {
				return p.fail(attrStart, "empty namespace URI for prefix %q", al)
			}
			p.ns = append(p.ns, nsBinding{al, value})
		case ap == "" && al == "xmlns":
			p.ns = append(p.ns, nsBinding{"", value})
		}
	}
	if len(p.attrs) > 0 {
		n.attrs, n.orig.attrs = slices.Clone(p.attrs), slices.Clone(p.rawAttrs)
	}
	uri, ok := p.lookup(prefix)
	if !ok {
		return p.fail(start, "undeclared namespace prefix %q on <%s>", prefix, qname(prefix, local))
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
				return p.fail(start, "undeclared namespace prefix %q on attribute %s", a.prefix, qname(a.prefix, a.local))
			}
			a.uri = uri
		}
		for _, b := range n.attrs[:i] {
			if b.local == a.local && b.uri == a.uri && b.isDecl() == a.isDecl() {
				return p.fail(start, "attribute %s repeated on <%s>", qname(a.prefix, a.local), qname(prefix, local))
			}
		}
	}
	if len(p.stack) > maxDepth {
		return p.fail(start, "elements nested more than %d deep", maxDepth)
	}
	p.add(n, p.src[start:p.i])
	if selfClosing {
		p.closeScope()
		return nil
	}
	p.stack = append(p.stack, n)
	return nil
}

// maxDepth bounds how deep elements may nest. Writing and querying the tree recurse once per level,
// about a kilobyte of stack each: a document a million levels deep (7 MB, under the core's stdin bound)
// overflowed Go's stack, a fatal error no recover catches, so a filter hook died with a Go stack trace.
// libvirt's own parser (libxml2) refuses documents deeper than 256 levels unless told otherwise, so no
// document libvirt sends comes near this bound.
const maxDepth = 10_000

// isNCName reports whether s is an XML name without a colon.
func isNCName(s string) bool {
	for i, r := range s {
		ok := i == 0 && xmlchar.IsNameStartChar(r) || i > 0 && xmlchar.IsNameChar(r)
		if !ok || r == utf8.RuneError {
			return false
		}
	}
	return s != ""
}

// qname returns prefix:local, or local without a prefix.
func qname(prefix, local string) string {
	if prefix == "" {
		return local
	}
	return prefix + ":" + local
}
