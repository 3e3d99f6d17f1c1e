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

// frame is an open element during the scan, as offsets into the input: no pointers, so that pushing
// one is a plain copy, and nothing is allocated per element, which matters more in a fresh hook process
// (where every new allocation size touches fresh memory) than in a warm benchmark loop.
type frame struct {
	start int   // the offset of its '<'
	name  qname // its name
	decls int   // where its own namespace declarations start in scanner.decls
}

// qname is where a qualified name of an element or attribute is in the input.
type qname struct {
	start, end int
	colon      int // the offset of the ':' of a prefixed name, or -1
}

func (n qname) full(in []byte) []byte { return in[n.start:n.end] }

// prefix returns the name's prefix, nil when it has none.
func (n qname) prefix(in []byte) []byte {
	if n.colon < 0 {
		return nil
	}
	return in[n.start:n.colon]
}

func (n qname) local(in []byte) []byte {
	if n.colon < 0 {
		return in[n.start:n.end]
	}
	return in[n.colon+1 : n.end]
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
	decls    []xml.Attr // the namespace declarations of the open elements, outermost first

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

// The SWAR constants of checkChars: eight bytes of 0x7F, of 0x80, and of each allowed control character.
const (
	bytes7F  = 0x7f7f7f7f7f7f7f7f
	bytes80  = 0x8080808080808080
	bytesTab = 0x0909090909090909
	bytesLF  = 0x0a0a0a0a0a0a0a0a
	bytesCR  = 0x0d0d0d0d0d0d0d0d
)

// zeroBytes returns 0x80 in each byte of x that is zero and 0 in the others, exactly (no carry crosses
// a byte: (b&0x7F)+0x7F is at most 0xFE).
func zeroBytes(x uint64) uint64 { return ^((x&bytes7F + bytes7F) | x) & bytes80 }

// checkChars rejects what XML 1.0 forbids anywhere in a document: invalid UTF-8, control characters other
// than tab, newline and carriage return, and U+FFFE/U+FFFF.
func (s *scanner) checkChars() error {
	in := s.in
	for i := 0; i < len(in); {
		// Eight bytes at a time while they are ASCII and their control characters are tab, newline or
		// carriage return, so that the newline of every line does not leave the fast loop. For ASCII
		// bytes b+0x60 has its high bit set exactly when b >= 0x20, and carries into no other byte.
		for i+8 <= len(in) {
			x := binary.LittleEndian.Uint64(in[i:])
			if x&bytes80 != 0 {
				break
			}
			if ctl := ^(x + 0x6060606060606060) & bytes80; ctl != 0 &&
				ctl&^(zeroBytes(x^bytesTab)|zeroBytes(x^bytesLF)|zeroBytes(x^bytesCR)) != 0 {
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
		if in[s.pos] != '<' {
			if err := s.chardata(); err != nil {
				return err
			}
			continue
		}
		start := s.pos
		rest := in[s.pos:]
		var next byte
		if len(rest) > 1 {
			next = rest[1]
		}
		switch next {
		case '!':
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
			default:
				return s.fail(start, "DOCTYPE and other <!...> declarations are not allowed in hook input")
			}
		case '?':
			if err := s.procInst(); err != nil {
				return err
			}
		case '/':
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
		return s.fail(len(in), "unexpected end of input: <%s> is not closed", s.stack[len(s.stack)-1].name.full(s.in))
	}
	if s.ix.root == "" {
		return s.fail(len(in), "no root element")
	}
	return nil
}

// chardata reads the text from s.pos to the next '<' or the end of the input: it checks it and collects
// it when an identity field is being captured.
func (s *scanner) chardata() error {
	in, from := s.in, s.pos
	j, cdEnd, amp := from, -1, false
	for ; j < len(in); j++ {
		c := in[j]
		if charClass[c]&classTextStop == 0 {
			continue
		}
		if c == '<' {
			break
		}
		if c == '&' {
			amp = true
		} else if cdEnd < 0 && j-from >= 2 && in[j-1] == ']' && in[j-2] == ']' { // c == '>'
			cdEnd = j - 2
		}
	}
	s.pos = j
	t := in[from:j]
	if len(s.stack) == 0 {
		if len(bytes.TrimLeft(t, " \t\r\n")) > 0 {
			return s.fail(from, "text outside the root element")
		}
		return nil
	}
	if cdEnd >= 0 {
		return s.fail(cdEnd, "the sequence ]]> is not allowed in character data")
	}
	if amp {
		if err := s.checkRefs(t, from); err != nil {
			return err
		}
		if s.capture != nil {
			t = s.unescape(t)
		}
	}
	if s.capture != nil {
		s.text = append(s.text, t...)
	}
	return nil
}

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

// The classes of charClass, a table of one byte per input byte.
const (
	classNameStart = 1 << iota // may start an XML name: ASCII letters, '_' and ':'
	classNameChar              // may continue one: those, digits, '-' and '.'
	classNonASCII              // 0x80 and up: decode the rune to decide
	classValueStop             // ends or interrupts an attribute value: quotes, '<', '&'
	classTextStop              // ends or interrupts character data: '<', '&', '>'
)

// charClass holds the classes of each byte value (a constant, so that no init code builds it).
// TestCharClass checks it against the rules it encodes.
const charClass = "" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x08\x00\x00\x00\x18\x08\x00\x00\x00\x00\x00\x02\x02\x00" +
	"\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x03\x00\x18\x00\x10\x00" +
	"\x00\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03" +
	"\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x00\x00\x00\x00\x03" +
	"\x00\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03" +
	"\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x00\x00\x00\x00\x00" +
	"\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04" +
	"\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04" +
	"\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04" +
	"\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04" +
	"\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04" +
	"\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04" +
	"\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04" +
	"\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04"

// scanName reads the XML name starting at i. It returns where the name ends (i when there is none) and
// the offset of its first ':' (-1 when it has none).
func (s *scanner) scanName(i int) (end, colon int) {
	in := s.in
	j, colon := i, -1
	for j < len(in) {
		c := in[j]
		k := charClass[c]
		if j == i && k&(classNameStart|classNonASCII) == 0 || k&(classNameChar|classNonASCII) == 0 {
			break
		}
		if k&classNonASCII != 0 {
			r, n := utf8.DecodeRune(in[j:])
			if j == i && !xmlchar.IsNameStartChar(r) || !xmlchar.IsNameChar(r) {
				break
			}
			j += n
			continue
		}
		if c == ':' && colon < 0 {
			colon = j
		}
		j++
	}
	return j, colon
}

// nameAt returns the XML name starting at i and its length in bytes (0 when there is none).
func (s *scanner) nameAt(i int) ([]byte, int) {
	end, _ := s.scanName(i)
	return s.in[i:end], end - i
}

// isQName reports whether the name from i to end, read by scanName with its first colon at colon, is
// also a qualified name of Namespaces in XML: no colon, or one colon between a non-empty prefix and a
// local part that starts like a name. ("::" or "a:1" are names of XML 1.0 but not qualified names;
// libvirt never writes them and encoding/xml refuses them.)
func (s *scanner) isQName(i, end, colon int) bool {
	if colon < 0 {
		return true
	}
	local := s.in[colon+1 : end]
	if colon == i || len(local) == 0 || bytes.IndexByte(local, ':') >= 0 {
		return false
	}
	if c := local[0]; c < utf8.RuneSelf {
		return charClass[c]&classNameStart != 0
	}
	r, _ := utf8.DecodeRune(local)
	return xmlchar.IsNameStartChar(r)
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.in) && isSpace(s.in[s.pos]) {
		s.pos++
	}
}

// rawAttr is an attribute of the start tag being read, as offsets into the input.
type rawAttr struct {
	name             qname
	valStart, valEnd int // the value as written, between its quotes
	amp              bool
}

// attrValue returns the value of a, its references resolved (startElement has checked them).
// Attribute value normalization is not done, as encoding/xml does not do it either: the value is kept
// as written.
func (s *scanner) attrValue(a rawAttr) string {
	v := s.in[a.valStart:a.valEnd]
	if a.amp {
		v = s.unescape(v)
	}
	return string(v)
}

func (s *scanner) startElement() error {
	in := s.in
	start := s.pos
	s.pos++
	nameEnd, colon := s.scanName(s.pos)
	name := in[s.pos:nameEnd]
	if len(name) == 0 {
		return s.fail(start+1, "expected element name after <")
	}
	if !s.isQName(s.pos, nameEnd, colon) {
		return s.fail(start+1, "element name %q is not a name of the form local or prefix:local", name)
	}
	f := frame{start: start, name: qname{start: s.pos, end: nameEnd, colon: colon}, decls: len(s.decls)}
	s.pos = nameEnd
	attrs := s.attrs[:0]
	selfClosing := false
	for {
		hadSpace := s.pos < len(in) && isSpace(in[s.pos])
		s.skipSpace()
		if s.pos >= len(in) {
			return s.fail(len(in), "unexpected end of input inside the tag <%s", name)
		}
		if c := in[s.pos]; c == '>' {
			s.pos++
			break
		} else if c == '/' {
			if s.pos+1 >= len(in) || in[s.pos+1] != '>' {
				return s.fail(s.pos, "expected /> in element <%s>", name)
			}
			s.pos += 2
			selfClosing = true
			break
		}
		if !hadSpace {
			return s.fail(s.pos, "expected space before an attribute of <%s>", name)
		}
		a := rawAttr{name: qname{start: s.pos}}
		a.name.end, a.name.colon = s.scanName(s.pos)
		an := a.name.full(in)
		if len(an) == 0 {
			return s.fail(s.pos, "expected attribute name in element <%s>", name)
		}
		if !s.isQName(a.name.start, a.name.end, a.name.colon) {
			return s.fail(s.pos, "attribute name %q in element <%s> is not a name of the form local or prefix:local", an, name)
		}
		p, l := a.name.prefix(in), a.name.local(in)
		for _, b := range attrs {
			// XML's "Unique Att Spec": libvirt (libxml2) refuses the document ("Attribute x redefined"),
			// which encoding/xml does not check. The message names the attribute, never a value.
			if bytes.Equal(b.name.local(in), l) && bytes.Equal(b.name.prefix(in), p) {
				return s.fail(s.pos, "attribute %s appears twice in element <%s>", an, name)
			}
		}
		s.pos = a.name.end
		s.skipSpace()
		if s.pos >= len(in) || in[s.pos] != '=' {
			return s.fail(s.pos, "attribute %s of <%s> has no value", an, name)
		}
		s.pos++
		s.skipSpace()
		if s.pos >= len(in) || in[s.pos] != '"' && in[s.pos] != '\'' {
			return s.fail(s.pos, "unquoted or missing value of attribute %s", an)
		}
		// One pass over the value finds the closing quote, a '<' (not allowed) and a '&' (to check).
		q := in[s.pos]
		a.valStart = s.pos + 1
		j := a.valStart
		for ; j < len(in); j++ {
			c := in[j]
			if charClass[c]&classValueStop == 0 {
				continue
			}
			if c == q {
				break
			}
			if c == '<' {
				return s.fail(j, "unescaped < inside the value of attribute %s", an)
			}
			a.amp = a.amp || c == '&'
		}
		if j >= len(in) {
			return s.fail(len(in), "unexpected end of input inside the value of attribute %s", an)
		}
		a.valEnd = j
		if a.amp {
			if err := s.checkRefs(in[a.valStart:a.valEnd], a.valStart); err != nil {
				return err
			}
		}
		attrs = append(attrs, a)
		s.pos = j + 1
	}
	s.attrs = attrs
	for _, a := range attrs {
		if p := a.name.prefix(in); string(p) == "xmlns" {
			s.decls = append(s.decls, xml.Attr{Name: xml.Name{Space: "xmlns", Local: string(a.name.local(in))}, Value: s.attrValue(a)})
		} else if len(p) == 0 && string(a.name.local(in)) == "xmlns" {
			s.decls = append(s.decls, xml.Attr{Name: xml.Name{Local: "xmlns"}, Value: s.attrValue(a)})
		}
	}
	depth := len(s.stack)
	s.stack = append(s.stack, f)
	s.index(depth, f.name.prefix(in), f.name.local(in), attrs, start)
	if depth == 0 && s.ix.root != s.wantRoot && !(s.wantRoot == "hookData" && s.ix.root == "network") {
		return s.fail(start, "root element is <%s>, expected <%s>", name, s.wantRoot)
	}
	if selfClosing {
		s.closeTop(s.pos)
	}
	return nil
}

func (s *scanner) endElement() error {
	in := s.in
	start := s.pos
	s.pos += 2
	// The usual end tag, "</" the name of the open element ">", is matched as bytes.
	if n := len(s.stack); n > 0 {
		qn := s.stack[n-1].name.full(in)
		if end := s.pos + len(qn); end < len(in) && in[end] == '>' && bytes.Equal(in[s.pos:end], qn) {
			s.pos = end + 1
			s.closeTop(s.pos)
			return nil
		}
	}
	name, n := s.nameAt(s.pos)
	if n == 0 {
		return s.fail(start+2, "expected element name after </")
	}
	s.pos += n
	s.skipSpace()
	if s.pos >= len(in) && len(s.stack) > 0 {
		return s.fail(len(in), "unexpected end of input: <%s> is not closed", s.stack[len(s.stack)-1].name.full(s.in))
	}
	if s.pos >= len(in) {
		return s.fail(len(in), "unexpected end of input inside </%s", name)
	}
	if in[s.pos] != '>' {
		return s.fail(s.pos, "invalid characters between </%s and >", name)
	}
	s.pos++
	if len(s.stack) == 0 {
		return s.fail(start, "unexpected end tag </%s>", name)
	}
	if top := s.stack[len(s.stack)-1].name.full(s.in); !bytes.Equal(top, name) {
		return s.fail(start, "element <%s> closed by </%s>", top, name)
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
	get := func(name string) string { return s.attr(attrs, name) }
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
		s.addMetadata(start)
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
	case s.portAt >= 0 && depth == s.portAt+2 && s.stack[depth-1].name.colon < 0 && string(s.stack[depth-1].name.local(s.in)) == "owner":
		switch string(local) {
		case "name":
			s.capture, s.captureAt = &ix.port.ownerName, depth
		case "uuid":
			s.capture, s.captureAt = &ix.port.ownerUUID, depth
		}
	}
}

// attr returns the value of the unprefixed attribute name, "" when attrs has none.
//
//go:noinline
func (s *scanner) attr(attrs []rawAttr, name string) string {
	for _, a := range attrs {
		if a.name.colon < 0 && string(a.name.full(s.in)) == name {
			return s.attrValue(a)
		}
	}
	return ""
}

// addMetadata records the element just opened under <metadata>, which starts at byte start. It is a
// function of its own, as attr is, to keep index's frame small: the scan runs deep in a hook's stack.
//
//go:noinline
func (s *scanner) addMetadata(start int) {
	f := s.stack[len(s.stack)-1]
	p := f.name.prefix(s.in)
	s.ix.dom.metadata = append(s.ix.dom.metadata, metaEntry{ns: resolveNS(s.decls, p), local: string(f.name.local(s.in)),
		span: span{start: start}, inherited: inheritedDecls(s.decls[:f.decls], s.decls[f.decls:], p)})
}

// closeTop pops the innermost element, which ends at byte end.
func (s *scanner) closeTop(end int) {
	depth := len(s.stack) - 1
	top := s.stack[depth]
	s.stack = s.stack[:depth]
	s.decls = s.decls[:top.decls]
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

// checkRefs checks the entity and character references of t, which starts at byte off: the five
// predefined entities, and character references to characters XML allows.
func (s *scanner) checkRefs(t []byte, off int) error {
	for i := 0; i < len(t); {
		amp := bytes.IndexByte(t[i:], '&')
		if amp < 0 {
			break
		}
		i += amp
		semi := bytes.IndexByte(t[i:], ';')
		if semi < 0 {
			return s.fail(off+i, "invalid character entity (no semicolon)")
		}
		if _, ok := xmlchar.Ref(string(t[i+1 : i+semi])); !ok {
			// The reference is not quoted: what runs from & to ; may be part of a password in the
			// migrate XML, and this message reaches libvirt's error and its logs.
			return s.fail(off+i, "invalid entity or character reference (allowed: &lt; &gt; &amp; &apos; &quot;, and &#N; or &#xN; of a character XML allows)")
		}
		i += semi + 1
	}
	return nil
}

// unescape resolves the references of t, which checkRefs has accepted.
func (s *scanner) unescape(t []byte) []byte {
	out := make([]byte, 0, len(t))
	for i := 0; i < len(t); {
		amp := bytes.IndexByte(t[i:], '&')
		if amp < 0 {
			return append(out, t[i:]...)
		}
		out = append(out, t[i:i+amp]...)
		i += amp
		semi := bytes.IndexByte(t[i:], ';')
		r, _ := xmlchar.Ref(string(t[i+1 : i+semi]))
		out = utf8.AppendRune(out, r)
		i += semi + 1
	}
	return out
}

// resolveNS returns the namespace URI of prefix (the default namespace for "") in the scope of decls,
// the declarations of the open elements, outermost first.
func resolveNS(decls []xml.Attr, prefix []byte) string {
	for i := len(decls) - 1; i >= 0; i-- {
		a := decls[i]
		if len(prefix) == 0 && a.Name.Space == "" && a.Name.Local == "xmlns" || len(prefix) > 0 && a.Name.Space == "xmlns" && a.Name.Local == string(prefix) {
			return a.Value
		}
	}
	return ""
}

// inheritedDecls returns the declaration of prefix when an element whose own declarations are own gets
// it from an ancestor, whose declarations are outer, so that the element can be decoded on its own.
func inheritedDecls(outer, own []xml.Attr, prefix []byte) []xml.Attr {
	for _, a := range own {
		if len(prefix) == 0 && a.Name.Local == "xmlns" && a.Name.Space == "" || a.Name.Space == "xmlns" && a.Name.Local == string(prefix) {
			return nil
		}
	}
	uri := resolveNS(outer, prefix)
	if uri == "" {
		return nil
	}
	if len(prefix) == 0 {
		return []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: uri}}
	}
	return []xml.Attr{{Name: xml.Name{Space: "xmlns", Local: string(prefix)}, Value: uri}}
}
