package hookkit

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// span is a byte range of the input.
type span struct{ start, end int }

func (s span) valid() bool { return s.end > s.start }

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

func (e *XMLError) Error() string {
	if e.Offset < 0 {
		return "bad XML on stdin: " + e.Msg
	}
	return fmt.Sprintf("malformed XML on stdin at line %d, byte %d: %s", e.Line, e.Offset, e.Msg)
}

type frame struct {
	name  xml.Name
	start int
	decls []xml.Attr
}

// scanDocument makes one pass over in. wantRoot is the root element the payload must have ("domain" or
// "hookData"; a bare "network" is accepted for "hookData").
func scanDocument(in []byte, wantRoot string) (*docIndex, error) {
	if len(bytes.TrimSpace(in)) == 0 {
		return nil, &XMLError{Offset: -1, Msg: fmt.Sprintf("stdin is empty, expected a <%s> document", wantRoot)}
	}
	ix := &docIndex{}
	d := xml.NewDecoder(bytes.NewReader(in))
	d.Strict = true
	var (
		stack      []frame
		rootClosed bool
		capture    *string // element text being collected
		captureAt  int     // depth of the element being captured
		text       []byte
		domAt      = -1 // depth of the <domain> element
		netAt      = -1
		portAt     = -1
		metaAt     = -1 // depth of <domain><metadata>
	)
	fail := func(off int64, msg string) error {
		return &XMLError{Offset: off, Line: 1 + bytes.Count(in[:min(int(off), len(in))], []byte{'\n'}), Msg: msg}
	}
	for {
		off := d.InputOffset()
		tok, err := d.RawToken()
		if err == io.EOF {
			if len(stack) > 0 {
				return nil, fail(int64(len(in)), fmt.Sprintf("unexpected end of input: <%s> is not closed", qname(stack[len(stack)-1].name)))
			}
			if ix.root == "" {
				return nil, fail(int64(len(in)), "no root element")
			}
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			msg := err.Error()
			if errors.As(err, &se) {
				msg = se.Msg
			}
			if msg == "unexpected EOF" && len(stack) > 0 {
				msg = fmt.Sprintf("unexpected end of input inside <%s>", qname(stack[len(stack)-1].name))
			}
			return nil, fail(d.InputOffset(), msg)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if rootClosed {
				return nil, fail(off, fmt.Sprintf("element <%s> after the root element", qname(t.Name)))
			}
			depth := len(stack)
			stack = append(stack, frame{name: t.Name, start: int(off), decls: nsDecls(t.Attr)})
			local := ""
			if t.Name.Space == "" {
				local = t.Name.Local
			}
			if depth == 0 {
				ix.root = t.Name.Local
				if t.Name.Local != wantRoot && !(wantRoot == "hookData" && t.Name.Local == "network") {
					return nil, fail(off, fmt.Sprintf("root element is <%s>, expected <%s>", qname(t.Name), wantRoot))
				}
			}
			switch {
			case (depth == 0 || depth == 1 && ix.root == "hookData") && local == "domain":
				domAt = depth
				ix.hasDomain = true
				ix.dom.typ = attr(t.Attr, "type")
				ix.dom.id = attr(t.Attr, "id")
			case (depth == 0 || depth == 1 && ix.root == "hookData") && local == "network":
				netAt = depth
				ix.hasNet = true
			case depth == 1 && ix.root == "hookData" && local == "networkport":
				portAt = depth
				ix.hasPort = true
			case domAt >= 0 && depth == domAt+1:
				switch local {
				case "name":
					capture, captureAt = &ix.dom.name, depth
				case "uuid":
					capture, captureAt = &ix.dom.uuid, depth
				case "metadata":
					metaAt = depth
				}
			case metaAt >= 0 && depth == metaAt+1:
				ns := resolveNS(stack, t.Name.Space)
				ix.dom.metadata = append(ix.dom.metadata, metaEntry{ns: ns, local: t.Name.Local,
					span: span{start: int(off)}, inherited: inheritedDecls(stack, t.Name.Space)})
			case netAt >= 0 && depth == netAt+1:
				switch local {
				case "name":
					capture, captureAt = &ix.net.name, depth
				case "uuid":
					capture, captureAt = &ix.net.uuid, depth
				case "bridge":
					ix.net.bridge = attr(t.Attr, "name")
				}
			case portAt >= 0 && depth == portAt+1:
				switch local {
				case "uuid":
					capture, captureAt = &ix.port.uuid, depth
				case "group":
					capture, captureAt = &ix.port.group, depth
				case "mac":
					ix.port.mac = attr(t.Attr, "address")
				case "plug":
					ix.port.plug = PortPlug{Type: attr(t.Attr, "type"), Bridge: attr(t.Attr, "bridge"),
						Dev: attr(t.Attr, "dev"), Mode: attr(t.Attr, "mode")}
				}
			case portAt >= 0 && depth == portAt+2 && stack[depth-1].name.Local == "owner" && stack[depth-1].name.Space == "":
				switch local {
				case "name":
					capture, captureAt = &ix.port.ownerName, depth
				case "uuid":
					capture, captureAt = &ix.port.ownerUUID, depth
				}
			}
		case xml.EndElement:
			if len(stack) == 0 {
				return nil, fail(off, fmt.Sprintf("unexpected end tag </%s>", qname(t.Name)))
			}
			top := stack[len(stack)-1]
			if top.name != t.Name {
				return nil, fail(off, fmt.Sprintf("element <%s> closed by </%s>", qname(top.name), qname(t.Name)))
			}
			depth := len(stack) - 1
			stack = stack[:depth]
			end := int(d.InputOffset())
			if capture != nil && depth == captureAt {
				*capture = strings.TrimSpace(string(text))
				capture, text = nil, text[:0]
			}
			switch depth {
			case domAt:
				ix.domSpan, domAt = span{top.start, end}, -1
			case netAt:
				ix.netSpan, netAt = span{top.start, end}, -1
			case portAt:
				ix.portSpan, portAt = span{top.start, end}, -1
			case metaAt:
				metaAt = -1
			}
			if metaAt >= 0 && depth == metaAt+1 {
				ix.dom.metadata[len(ix.dom.metadata)-1].span.end = end
			}
			if depth == 0 {
				rootClosed = true
			}
		case xml.CharData:
			if capture != nil {
				text = append(text, t...)
			} else if len(stack) == 0 && len(bytes.TrimSpace(t)) > 0 {
				return nil, fail(off, "text outside the root element")
			}
		case xml.Directive:
			return nil, fail(off, "DOCTYPE and other <!...> declarations are not allowed in hook input")
		}
	}
	return ix, nil
}

func qname(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

func attr(attrs []xml.Attr, local string) string {
	for _, a := range attrs {
		if a.Name.Space == "" && a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// nsDecls returns the xmlns and xmlns:prefix attributes among attrs.
func nsDecls(attrs []xml.Attr) []xml.Attr {
	var out []xml.Attr
	for _, a := range attrs {
		if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
			out = append(out, a)
		}
	}
	return out
}

// resolveNS returns the namespace URI of prefix (the default namespace for "") in the scope of stack.
func resolveNS(stack []frame, prefix string) string {
	for i := len(stack) - 1; i >= 0; i-- {
		for _, a := range stack[i].decls {
			if prefix == "" && a.Name.Space == "" && a.Name.Local == "xmlns" || prefix != "" && a.Name.Space == "xmlns" && a.Name.Local == prefix {
				return a.Value
			}
		}
	}
	return ""
}

// inheritedDecls returns the declaration of prefix when it comes from an ancestor of the top of stack,
// so that the element can be decoded on its own.
func inheritedDecls(stack []frame, prefix string) []xml.Attr {
	top := stack[len(stack)-1]
	for _, a := range top.decls {
		if prefix == "" && a.Name.Local == "xmlns" && a.Name.Space == "" || a.Name.Space == "xmlns" && a.Name.Local == prefix {
			return nil
		}
	}
	uri := resolveNS(stack[:len(stack)-1], prefix)
	if uri == "" {
		return nil
	}
	if prefix == "" {
		return []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: uri}}
	}
	return []xml.Attr{{Name: xml.Name{Space: "xmlns", Local: prefix}, Value: uri}}
}
