package hookkit

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/hookkit-dev/hookkit/hookkit/internal/xmlchar"
)

// span is a byte range of the input.
type span struct{ start, end int }

// metaEntry is one child element of <domain><metadata>: its namespace URI, its bytes, and the namespace
// declarations it inherits from its ancestors (needed to decode the slice on its own).
type metaEntry struct {
	ns        string
	local     string
	span      span
	inherited []xml.Attr
}

// domainIdent is what every domain hook needs, read without building the libvirtxml model.
type domainIdent struct {
	typ, id, name, uuid string
	metadata            []metaEntry
}

// networkIdent is the identity of a <network>.
type networkIdent struct {
	name, uuid, bridge string
}

// PortPlug says how a network port is plugged into the host: the <plug> element of a <networkport>.
type PortPlug struct {
	// Type is network, bridge, direct, hostdev-pci or none.
	Type string
	// Bridge is the host bridge for the network and bridge types.
	Bridge string
	// Dev is the host device for the direct type.
	Dev string
	// Mode is the macvtap mode for the direct type.
	Mode string
}

// portIdent is the identity of a <networkport>.
type portIdent struct {
	uuid, ownerName, ownerUUID, group, mac string
	plug                                   PortPlug
}

// docIndex is the result of the single token pass hookkit makes over stdin: it checks the document is
// well-formed, finds the identity fields and remembers where the sub-documents are.
type docIndex struct {
	root                       string
	dom                        domainIdent
	net                        networkIdent
	port                       portIdent
	domSpan, netSpan, portSpan span
	hasDomain, hasNet, hasPort bool
}

// XMLError reports stdin that is not the XML libvirt sends: malformed, empty, or with an unexpected root.
type XMLError struct {
	// Offset is the byte offset of the problem in stdin, or -1 when it has none.
	Offset int64
	// Line is the line of the problem, or 0 when it has none.
	Line int
	// Msg says what is wrong.
	Msg string
}

// Error says what is wrong with stdin, with the line and byte offset of the problem when it has one.
func (e *XMLError) Error() string {
	if e.Offset < 0 {
		return "bad XML on stdin: " + e.Msg
	}
	return fmt.Sprintf("malformed XML on stdin at line %d, byte %d: %s", e.Line, e.Offset, e.Msg)
}

// frame is an open element during the scan. Its names are slices of the input: the scan allocates
// nothing per element, which matters more in a fresh hook process (where every new allocation size
// touches fresh memory) than in a warm benchmark loop.
type frame struct {
	prefix, local []byte
	start         int
	decls         []xml.Attr
}

func (f frame) qname() string {
	if len(f.prefix) > 0 {
		return string(f.prefix) + ":" + string(f.local)
	}
	return string(f.local)
}

// scanDocument makes one pass over in: it checks that in is one well-formed XML document whose root is
// wantRoot ("domain" or "hookData"; a bare "network" is accepted for "hookData"), and indexes the identity
// fields and sub-documents. It is a small hand-written scanner rather than encoding/xml, which allocates
// for every token: the scan runs on every hook call and must cost microseconds, not a tenth of a millisecond.
// It refuses DOCTYPE declarations, so no entity is ever defined or expanded.
func scanDocument(in []byte, wantRoot string) (*docIndex, error) {
	if len(bytes.TrimSpace(in)) == 0 {
		return nil, &XMLError{Offset: -1, Msg: fmt.Sprintf("stdin is empty, expected a <%s> document", wantRoot)}
	}
	m := new(scanMemory)
	s := scanner{in: in, wantRoot: wantRoot, ix: &m.ix, domAt: -1, netAt: -1, portAt: -1, metaAt: -1,
		stack: m.stack[:0], attrs: m.attrs[:0], text: m.text[:0]}
	if err := s.checkChars(); err != nil {
		return nil, err
	}
	if err := s.run(); err != nil {
		return nil, err
	}
	return s.ix, nil
}

// scanMemory is what the token pass keeps on the heap, in one allocation: the index it returns and the
// initial buffers of the scanner (they grow by append past these sizes). In a fresh hook process each
// allocation of a new size class takes a fresh span, a page fault that costs several microseconds in a
// VM, so one allocation instead of four is part of a hook's start-up cost, not a micro-optimisation.
type scanMemory struct {
	ix    docIndex
	stack [16]frame
	attrs [8]rawAttr
	text  [64]byte
}

type scanner struct {
	in       []byte
	pos      int
	wantRoot string
	ix       *docIndex
	stack    []frame

	capture   *string // element text being collected
	captureAt int
	text      []byte

	domAt, netAt, portAt, metaAt int // depth of <domain>, <network>, <networkport>, <metadata>; -1 outside

	attrs []rawAttr // reused for every start tag
}

func (s *scanner) fail(off int, format string, args ...any) error {
	off = min(off, len(s.in))
	return &XMLError{Offset: int64(off), Line: 1 + bytes.Count(s.in[:off], []byte{'\n'}), Msg: fmt.Sprintf(format, args...)}
}

// checkChars rejects what XML 1.0 forbids anywhere in a document: invalid UTF-8, control characters other
// than tab, newline and carriage return, and U+FFFE/U+FFFF.
func (s *scanner) checkChars() error {
	in := s.in
	for i := 0; i < len(in); {
		// Eight bytes at a time while they are all printable ASCII: a byte below 0x20 sets its high bit
		// when 0x20 is subtracted, a byte from 0x80 up has it set already. (A borrow only ever comes from
		// a byte below 0x20, so the test has no false negatives; a false positive just takes the slow path.)
		for i+8 <= len(in) {
			x := binary.LittleEndian.Uint64(in[i:])
			if ((x-0x2020202020202020)|x)&0x8080808080808080 != 0 {
				break
			}
			i += 8
		}
		if i >= len(in) {
			break
		}
		c := in[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return s.fail(i, "illegal character code U+%04X", c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(in[i:])
		if r == utf8.RuneError && n == 1 {
			return s.fail(i, "invalid UTF-8")
		}
		if !xmlchar.IsChar(r) {
			return s.fail(i, "illegal character code U+%04X", r)
		}
		i += n
	}
	return nil
}

func (s *scanner) run() error {
	in := s.in
	rootClosed := false
	for s.pos < len(in) {
		lt := bytes.IndexByte(in[s.pos:], '<')
		if lt < 0 {
			lt = len(in) - s.pos
		}
		if lt > 0 {
			if err := s.chardata(s.pos, s.pos+lt); err != nil {
				return err
			}
			s.pos += lt
			continue
		}
		start := s.pos
		rest := in[s.pos:]
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			end := bytes.Index(rest[4:], []byte("-->"))
			if end < 0 {
				return s.fail(len(in), "unexpected end of input inside a comment")
			}
			if bytes.Contains(rest[4:4+end], []byte("--")) || 4+end > 4 && rest[4+end-1] == '-' {
				return s.fail(start, `invalid sequence "--" not allowed in comments`)
			}
			s.pos += 4 + end + 3
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			if len(s.stack) == 0 {
				return s.fail(start, "CDATA section outside the root element")
			}
			end := bytes.Index(rest[9:], []byte("]]>"))
			if end < 0 {
				return s.fail(len(in), "unexpected end of input inside a CDATA section")
			}
			if s.capture != nil {
				s.text = append(s.text, rest[9:9+end]...)
			}
			s.pos += 9 + end + 3
		case bytes.HasPrefix(rest, []byte("<!")):
			return s.fail(start, "DOCTYPE and other <!...> declarations are not allowed in hook input")
		case bytes.HasPrefix(rest, []byte("<?")):
			if err := s.procInst(); err != nil {
				return err
			}
		case bytes.HasPrefix(rest, []byte("</")):
			if err := s.endElement(); err != nil {
				return err
			}
			if len(s.stack) == 0 {
				rootClosed = true
			}
		default:
			if rootClosed {
				return s.fail(start, "element after the root element")
			}
			if err := s.startElement(); err != nil {
				return err
			}
			if len(s.stack) == 0 {
				rootClosed = true
			}
		}
	}
	if len(s.stack) > 0 {
		return s.fail(len(in), "unexpected end of input: <%s> is not closed", s.stack[len(s.stack)-1].qname())
	}
	if s.ix.root == "" {
		return s.fail(len(in), "no root element")
	}
	return nil
}

// chardata checks text between markup and collects it when an identity field is being captured.
func (s *scanner) chardata(from, to int) error {
	t := s.in[from:to]
	if len(s.stack) == 0 {
		if len(bytes.TrimLeft(t, " \t\r\n")) > 0 {
			return s.fail(from, "text outside the root element")
		}
		return nil
	}
	if i := bytes.Index(t, []byte("]]>")); i >= 0 {
		return s.fail(from+i, "the sequence ]]> is not allowed in character data")
	}
	if bytes.IndexByte(t, '&') >= 0 {
		u, err := s.unescape(t, from)
		if err != nil {
			return err
		}
		t = u
	}
	if s.capture != nil {
		s.text = append(s.text, t...)
	}
	return nil
}

// procInst skips <?target ...?>; the XML declaration is allowed only at the very start.
func (s *scanner) procInst() error {
	start := s.pos
	end := bytes.Index(s.in[s.pos+2:], []byte("?>"))
	if end < 0 {
		return s.fail(len(s.in), "unexpected end of input inside a processing instruction")
	}
	body := s.in[s.pos+2 : s.pos+2+end]
	name, n := s.nameAt(s.pos + 2)
	if n == 0 {
		return s.fail(start+2, "expected target name after <?")
	}
	if len(body) > len(name) && !isSpace(body[len(name)]) {
		return s.fail(start+2+len(name), "expected space after the processing instruction target")
	}
	if strings.EqualFold(string(name), "xml") {
		if string(name) != "xml" || start != 0 {
			return s.fail(start, "XML declaration not at the start of the input")
		}
		if at, msg := checkXMLDecl(body[len(name):]); msg != "" {
			return s.fail(start+2+len(name)+at, "malformed XML declaration: %s", msg)
		}
	}
	s.pos += 2 + end + 2
	return nil
}

// checkXMLDecl checks what follows "<?xml" in the XML declaration, up to "?>", against XML 1.0's
// grammar: version, then optionally encoding, then optionally standalone, each after white space, in
// that order. libvirt (libxml2) refuses a declaration that breaks it, and encoding/xml does not check
// it. It returns the offset in decl and what is wrong, or "" when nothing is.
func checkXMLDecl(decl []byte) (at int, msg string) {
	i := 0
	pseudo := func(name string) (value string, ok bool, at int, msg string) {
		j := i
		for j < len(decl) && isSpace(decl[j]) {
			j++
		}
		if j == i || !bytes.HasPrefix(decl[j:], []byte(name)) {
			return "", false, 0, ""
		}
		j += len(name)
		for j < len(decl) && isSpace(decl[j]) {
			j++
		}
		if j >= len(decl) || decl[j] != '=' {
			return "", false, j, "expected = after " + name
		}
		j++
		for j < len(decl) && isSpace(decl[j]) {
			j++
		}
		if j >= len(decl) || decl[j] != '"' && decl[j] != '\'' {
			return "", false, j, "expected a quoted value of " + name
		}
		end := bytes.IndexByte(decl[j+1:], decl[j])
		if end < 0 {
			return "", false, j, "unterminated value of " + name
		}
		value = string(decl[j+1 : j+1+end])
		i = j + 1 + end + 1
		return value, true, 0, ""
	}
	v, ok, at, msg := pseudo("version")
	switch {
	case msg != "":
		return at, msg
	case !ok:
		return i, "version is missing or not first"
	case !validVersion(v):
		return i, "version must be 1.x"
	}
	if v, ok, at, msg := pseudo("encoding"); msg != "" {
		return at, msg
	} else if ok && !validEncName(v) {
		return i, "invalid encoding name"
	}
	if v, ok, at, msg := pseudo("standalone"); msg != "" {
		return at, msg
	} else if ok && v != "yes" && v != "no" {
		return i, "standalone must be yes or no"
	}
	for i < len(decl) && isSpace(decl[i]) {
		i++
	}
	if i != len(decl) {
		return i, "unexpected text (pseudo-attributes are version, encoding and standalone, in that order, separated by white space)"
	}
	return 0, ""
}

func validVersion(v string) bool {
	rest, ok := strings.CutPrefix(v, "1.")
	if !ok || rest == "" {
		return false
	}
	for _, c := range []byte(rest) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func validEncName(v string) bool {
	for k, c := range []byte(v) {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if k == 0 && !letter || k > 0 && !letter && !(c >= '0' && c <= '9') && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return v != ""
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isNameByte(c byte, first bool) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == ':', c >= utf8.RuneSelf:
		return true
	case c >= '0' && c <= '9', c == '-', c == '.':
		return !first
	}
	return false
}

// nameAt returns the XML name starting at i and its length in bytes (0 when there is none).
func (s *scanner) nameAt(i int) ([]byte, int) {
	j := i
	for j < len(s.in) && isNameByte(s.in[j], j == i) {
		if s.in[j] >= utf8.RuneSelf {
			r, n := utf8.DecodeRune(s.in[j:])
			if j == i && !xmlchar.IsNameStartChar(r) || !xmlchar.IsNameChar(r) {
				break
			}
			j += n
			continue
		}
		j++
	}
	return s.in[i:j], j - i
}

// isQName reports whether name, an XML name as nameAt reads it, is also a qualified name of Namespaces in
// XML: no colon, or one colon between a non-empty prefix and a local part that starts like a name. ("::" or
// "a:1" are names of XML 1.0 but not qualified names; libvirt never writes them and encoding/xml refuses them.)
func isQName(name []byte) bool {
	i := bytes.IndexByte(name, ':')
	if i < 0 {
		return true
	}
	local := name[i+1:]
	if i == 0 || len(local) == 0 || bytes.IndexByte(local, ':') >= 0 {
		return false
	}
	if c := local[0]; c < utf8.RuneSelf {
		return isNameByte(c, true)
	}
	r, _ := utf8.DecodeRune(local)
	return xmlchar.IsNameStartChar(r)
}

// sameQName reports whether name, as written in an end tag, is the qualified name of f.
func sameQName(f frame, name []byte) bool {
	if len(f.prefix) == 0 {
		return bytes.Equal(f.local, name)
	}
	return len(name) == len(f.prefix)+1+len(f.local) && bytes.HasPrefix(name, f.prefix) &&
		name[len(f.prefix)] == ':' && bytes.HasSuffix(name, f.local)
}

func splitName(n []byte) (prefix, local []byte) {
	if i := bytes.IndexByte(n, ':'); i > 0 && i < len(n)-1 {
		return n[:i], n[i+1:]
	}
	return nil, n
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.in) && isSpace(s.in[s.pos]) {
		s.pos++
	}
}

// rawAttr is an attribute as written; value is unescaped.
type rawAttr struct{ prefix, local, value []byte }

func (s *scanner) startElement() error {
	start := s.pos
	s.pos++
	name, n := s.nameAt(s.pos)
	if n == 0 {
		return s.fail(start+1, "expected element name after <")
	}
	if !isQName(name) {
		return s.fail(start+1, "element name %q is not a name of the form local or prefix:local", name)
	}
	s.pos += n
	attrs := s.attrs[:0]
	selfClosing := false
	for {
		hadSpace := s.pos < len(s.in) && isSpace(s.in[s.pos])
		s.skipSpace()
		if s.pos >= len(s.in) {
			return s.fail(len(s.in), "unexpected end of input inside the tag <%s", name)
		}
		if c := s.in[s.pos]; c == '>' {
			s.pos++
			break
		} else if c == '/' {
			if s.pos+1 >= len(s.in) || s.in[s.pos+1] != '>' {
				return s.fail(s.pos, "expected /> in element <%s>", name)
			}
			s.pos += 2
			selfClosing = true
			break
		}
		if !hadSpace {
			return s.fail(s.pos, "expected space before an attribute of <%s>", name)
		}
		an, n := s.nameAt(s.pos)
		if n == 0 {
			return s.fail(s.pos, "expected attribute name in element <%s>", name)
		}
		if !isQName(an) {
			return s.fail(s.pos, "attribute name %q in element <%s> is not a name of the form local or prefix:local", an, name)
		}
		p, l := splitName(an)
		for _, a := range attrs {
			// XML's "Unique Att Spec": libvirt (libxml2) refuses the document ("Attribute x redefined"),
			// which encoding/xml does not check. The message names the attribute, never a value.
			if bytes.Equal(a.local, l) && bytes.Equal(a.prefix, p) {
				return s.fail(s.pos, "attribute %s appears twice in element <%s>", an, name)
			}
		}
		s.pos += n
		s.skipSpace()
		if s.pos >= len(s.in) || s.in[s.pos] != '=' {
			return s.fail(s.pos, "attribute %s of <%s> has no value", an, name)
		}
		s.pos++
		s.skipSpace()
		if s.pos >= len(s.in) || s.in[s.pos] != '"' && s.in[s.pos] != '\'' {
			return s.fail(s.pos, "unquoted or missing value of attribute %s", an)
		}
		q := s.in[s.pos]
		// One pass over the value finds the closing quote, a '<' (not allowed) and a '&' (to unescape).
		end, amp := -1, false
		for i, c := range s.in[s.pos+1:] {
			if c == q {
				end = i
				break
			}
			if c == '<' {
				return s.fail(s.pos+1+i, "unescaped < inside the value of attribute %s", an)
			}
			amp = amp || c == '&'
		}
		if end < 0 {
			return s.fail(len(s.in), "unexpected end of input inside the value of attribute %s", an)
		}
		raw := s.in[s.pos+1 : s.pos+1+end]
		v := raw
		if amp {
			u, err := s.unescape(raw, s.pos+1)
			if err != nil {
				return err
			}
			v = u
		}
		// Attribute value normalization, as encoding/xml does not do it either: keep the value as written.
		attrs = append(attrs, rawAttr{prefix: p, local: l, value: v})
		s.pos += 1 + end + 1
	}
	s.attrs = attrs
	prefix, local := splitName(name)
	depth := len(s.stack)
	f := frame{prefix: prefix, local: local, start: start}
	for _, a := range attrs {
		if string(a.prefix) == "xmlns" {
			f.decls = append(f.decls, xml.Attr{Name: xml.Name{Space: "xmlns", Local: string(a.local)}, Value: string(a.value)})
		} else if len(a.prefix) == 0 && string(a.local) == "xmlns" {
			f.decls = append(f.decls, xml.Attr{Name: xml.Name{Local: "xmlns"}, Value: string(a.value)})
		}
	}
	s.stack = append(s.stack, f)
	s.index(depth, prefix, local, attrs, start)
	if depth == 0 && s.ix.root != s.wantRoot && !(s.wantRoot == "hookData" && s.ix.root == "network") {
		return s.fail(start, "root element is <%s>, expected <%s>", name, s.wantRoot)
	}
	if selfClosing {
		s.closeTop(s.pos)
	}
	return nil
}

func (s *scanner) endElement() error {
	start := s.pos
	s.pos += 2
	name, n := s.nameAt(s.pos)
	if n == 0 {
		return s.fail(start+2, "expected element name after </")
	}
	s.pos += n
	s.skipSpace()
	if s.pos >= len(s.in) && len(s.stack) > 0 {
		return s.fail(len(s.in), "unexpected end of input: <%s> is not closed", s.stack[len(s.stack)-1].qname())
	}
	if s.pos >= len(s.in) {
		return s.fail(len(s.in), "unexpected end of input inside </%s", name)
	}
	if s.in[s.pos] != '>' {
		return s.fail(s.pos, "invalid characters between </%s and >", name)
	}
	s.pos++
	if len(s.stack) == 0 {
		return s.fail(start, "unexpected end tag </%s>", name)
	}
	if top := s.stack[len(s.stack)-1]; !sameQName(top, name) {
		return s.fail(start, "element <%s> closed by </%s>", top.qname(), name)
	}
	s.closeTop(s.pos)
	return nil
}

// index records the identity fields and sub-document positions for a start tag at depth.
func (s *scanner) index(depth int, prefixB, localB []byte, attrs []rawAttr, start int) {
	ix := s.ix
	if depth == 0 {
		switch {
		case len(prefixB) > 0:
			ix.root = string(prefixB) + ":" + string(localB)
		case string(localB) == s.wantRoot:
			ix.root = s.wantRoot
		default:
			ix.root = string(localB)
		}
	}
	// local is compared with constants only: string(localB) in a comparison or switch does not allocate.
	local := localB
	if len(prefixB) > 0 {
		local = nil // libvirt's own elements are never prefixed; only metadata children are
	}
	get := func(name string) string {
		for _, a := range attrs {
			if len(a.prefix) == 0 && string(a.local) == name {
				return string(a.value)
			}
		}
		return ""
	}
	topLevel := depth == 0 || depth == 1 && ix.root == "hookData"
	switch {
	case topLevel && string(local) == "domain":
		s.domAt = depth
		ix.hasDomain = true
		ix.dom.typ, ix.dom.id = get("type"), get("id")
	case topLevel && string(local) == "network":
		s.netAt = depth
		ix.hasNet = true
	case depth == 1 && ix.root == "hookData" && string(local) == "networkport":
		s.portAt = depth
		ix.hasPort = true
	case s.domAt >= 0 && depth == s.domAt+1:
		switch string(local) {
		case "name":
			s.capture, s.captureAt = &ix.dom.name, depth
		case "uuid":
			s.capture, s.captureAt = &ix.dom.uuid, depth
		case "metadata":
			s.metaAt = depth
		}
	case s.metaAt >= 0 && depth == s.metaAt+1:
		f := s.stack[len(s.stack)-1]
		ix.dom.metadata = append(ix.dom.metadata, metaEntry{ns: resolveNS(s.stack, f.prefix), local: string(f.local),
			span: span{start: start}, inherited: inheritedDecls(s.stack, f.prefix)})
	case s.netAt >= 0 && depth == s.netAt+1:
		switch string(local) {
		case "name":
			s.capture, s.captureAt = &ix.net.name, depth
		case "uuid":
			s.capture, s.captureAt = &ix.net.uuid, depth
		case "bridge":
			ix.net.bridge = get("name")
		}
	case s.portAt >= 0 && depth == s.portAt+1:
		switch string(local) {
		case "uuid":
			s.capture, s.captureAt = &ix.port.uuid, depth
		case "group":
			s.capture, s.captureAt = &ix.port.group, depth
		case "mac":
			ix.port.mac = get("address")
		case "plug":
			ix.port.plug = PortPlug{Type: get("type"), Bridge: get("bridge"), Dev: get("dev"), Mode: get("mode")}
		}
	case s.portAt >= 0 && depth == s.portAt+2 && string(s.stack[depth-1].local) == "owner" && len(s.stack[depth-1].prefix) == 0:
		switch string(local) {
		case "name":
			s.capture, s.captureAt = &ix.port.ownerName, depth
		case "uuid":
			s.capture, s.captureAt = &ix.port.ownerUUID, depth
		}
	}
}

// closeTop pops the innermost element, which ends at byte end.
func (s *scanner) closeTop(end int) {
	depth := len(s.stack) - 1
	top := s.stack[depth]
	s.stack = s.stack[:depth]
	if s.capture != nil && depth == s.captureAt {
		*s.capture = strings.TrimSpace(string(s.text))
		s.capture, s.text = nil, s.text[:0]
	}
	ix := s.ix
	switch depth {
	case s.domAt:
		ix.domSpan, s.domAt = span{top.start, end}, -1
	case s.netAt:
		ix.netSpan, s.netAt = span{top.start, end}, -1
	case s.portAt:
		ix.portSpan, s.portAt = span{top.start, end}, -1
	case s.metaAt:
		s.metaAt = -1
	}
	if s.metaAt >= 0 && depth == s.metaAt+1 {
		ix.dom.metadata[len(ix.dom.metadata)-1].span.end = end
	}
}

// unescape resolves the five predefined entities and character references in t, which starts at byte off.
func (s *scanner) unescape(t []byte, off int) ([]byte, error) {
	out := make([]byte, 0, len(t))
	for i := 0; i < len(t); {
		if t[i] != '&' {
			out = append(out, t[i])
			i++
			continue
		}
		semi := bytes.IndexByte(t[i:], ';')
		if semi < 0 {
			return nil, s.fail(off+i, "invalid character entity (no semicolon)")
		}
		ref := string(t[i+1 : i+semi])
		r, ok := xmlchar.Ref(ref)
		if !ok {
			// The reference is not quoted: what runs from & to ; may be part of a password in the
			// migrate XML, and this message reaches libvirt's error and its logs.
			return nil, s.fail(off+i, "invalid entity or character reference (allowed: &lt; &gt; &amp; &apos; &quot;, and &#N; or &#xN; of a character XML allows)")
		}
		out = utf8.AppendRune(out, r)
		i += semi + 1
	}
	return out, nil
}

// resolveNS returns the namespace URI of prefix (the default namespace for "") in the scope of stack.
func resolveNS(stack []frame, prefix []byte) string {
	for i := len(stack) - 1; i >= 0; i-- {
		for _, a := range stack[i].decls {
			if len(prefix) == 0 && a.Name.Space == "" && a.Name.Local == "xmlns" || len(prefix) > 0 && a.Name.Space == "xmlns" && a.Name.Local == string(prefix) {
				return a.Value
			}
		}
	}
	return ""
}

// inheritedDecls returns the declaration of prefix when it comes from an ancestor of the top of stack,
// so that the element can be decoded on its own.
func inheritedDecls(stack []frame, prefix []byte) []xml.Attr {
	top := stack[len(stack)-1]
	for _, a := range top.decls {
		if len(prefix) == 0 && a.Name.Local == "xmlns" && a.Name.Space == "" || a.Name.Space == "xmlns" && a.Name.Local == string(prefix) {
			return nil
		}
	}
	uri := resolveNS(stack[:len(stack)-1], prefix)
	if uri == "" {
		return nil
	}
	if len(prefix) == 0 {
		return []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: uri}}
	}
	return []xml.Attr{{Name: xml.Name{Space: "xmlns", Local: string(prefix)}, Value: uri}}
}
