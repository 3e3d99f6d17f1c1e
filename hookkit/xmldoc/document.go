package xmldoc

import (
	"errors"
	"fmt"
	"maps"

	"github.com/antchfx/xpath"
)

// Namespace URIs of libvirt's XML extensions. Every Document binds them to the prefixes qemu, lxc, bhyve,
// xen and dnsmasq, whatever prefixes the document itself uses.
const (
	QEMUNamespace    = "http://libvirt.org/schemas/domain/qemu/1.0"
	LXCNamespace     = "http://libvirt.org/schemas/domain/lxc/1.0"
	BhyveNamespace   = "http://libvirt.org/schemas/domain/bhyve/1.0"
	XenNamespace     = "http://libvirt.org/schemas/domain/xen/1.0"
	DnsmasqNamespace = "http://libvirt.org/schemas/network/dnsmasq/1.0"
)

// Document is a parsed XML document that can be queried with XPath, edited, and written back. What an
// edit does not touch is written back exactly as it was read: Bytes returns the input unchanged when
// nothing was edited. A Document is not safe for concurrent use.
type Document struct {
	src     string
	top     *node // the document node
	quote   byte
	ns      map[string]string
	exprs   map[string]*xpath.Expr
	touched bool   // an edit ran
	out     string // the serialized document, valid while outOK
	outOK   bool
}

// touch records an edit.
func (d *Document) touch() {
	d.touched = true
	d.outOK = false
}

// output returns the document as XML.
func (d *Document) output() string {
	switch {
	case !d.touched:
		return d.src
	case d.outOK:
		return d.out
	}
	d.out, d.outOK = d.serialize(d.top), true
	return d.out
}

// Parse parses a whole XML document: a domain, a network, a <hookData>, or any other.
func Parse(b []byte) (*Document, error) {
	d := &Document{
		src: string(b),
		ns: map[string]string{
			"qemu": QEMUNamespace, "lxc": LXCNamespace, "bhyve": BhyveNamespace,
			"xen": XenNamespace, "dnsmasq": DnsmasqNamespace,
		},
	}
	if len(b) == 0 {
		return nil, &SyntaxError{Msg: "empty document"}
	}
	top, err := parse(d.src, false, nil)
	if err != nil {
		return nil, err
	}
	d.top = top
	d.quote = firstQuote(top)
	if d.quote == 0 {
		d.quote = '\'' // as libvirt writes
	}
	return d, nil
}

// Bind binds prefix to the namespace uri for the XPath expressions and the element and attribute names
// given to this document's methods. Names match by URI, not by the prefix the document writes: with
// Bind("app", "urn:x"), "app:cfg" finds <ns0:cfg xmlns:ns0="urn:x">. Elements added with a bound prefix use
// the document's own prefix for that URI where one is in scope, or declare the bound one.
func (d *Document) Bind(prefix, uri string) {
	d.ns[prefix] = uri
	d.exprs = nil
}

// Namespaces returns a copy of the prefix bindings used to read XPath expressions and names.
func (d *Document) Namespaces() map[string]string { return maps.Clone(d.ns) }

// Root returns the document element (<domain>, <network>, <hookData>...).
func (d *Document) Root() *Node {
	for c := d.top.first; c != nil; c = c.next {
		if c.kind == elementNode {
			return &Node{doc: d, n: c}
		}
	}
	return nil // unreachable: Parse requires a root element
}

// payload returns the document element when it is named name, or its child named name under <hookData>.
func (d *Document) payload(name string) (*Node, error) {
	root := d.Root()
	if root.n.name == name && root.n.uri == "" {
		return root, nil
	}
	if root.n.name == "hookData" && root.n.uri == "" {
		if c := child(root.n, name); c != nil {
			return &Node{doc: d, n: c}, nil
		}
	}
	return nil, fmt.Errorf("xmldoc: no <%s> in the <%s> document: %w", name, qname(root.n.prefix, root.n.name), ErrNoMatch)
}

// Domain returns the <domain> element: the document element of a domain hook's input, or the <domain>
// inside the <hookData> of the legacy network plugged/unplugged hooks.
func (d *Document) Domain() (*Node, error) { return d.payload("domain") }

// Network returns the <network> element: inside the <hookData> of a network hook, or the document
// element. Its queries take relative paths: net.String("bridge/@name").
func (d *Document) Network() (*Node, error) { return d.payload("network") }

// Port returns the <networkport> inside the <hookData> of a network port-created or port-deleted hook.
func (d *Document) Port() (*Node, error) { return d.payload("networkport") }

// Bytes returns the document as XML: the input itself when nothing changed, otherwise the input with
// only the edited nodes rewritten.
func (d *Document) Bytes() []byte { return []byte(d.output()) }

// Changed reports whether the document now differs from the input it was parsed from. Setting a value
// back to what it was is no change.
func (d *Document) Changed() bool {
	return d.output() != d.src
}

func (d *Document) serialize(n *node) string {
	w := writer{quote: d.quote}
	w.b.Grow(len(d.src) + 256)
	w.node(n)
	return w.b.String()
}

// ErrNoMatch is wrapped by the errors of methods whose expression or lookup matched nothing.
var ErrNoMatch = errors.New("no match")

// ExprError reports an XPath expression that does not compile or cannot be evaluated.
type ExprError struct {
	// Expr is the expression as given.
	Expr string
	// Err is what went wrong.
	Err error
}

// Error names the expression and what is wrong with it.
func (e *ExprError) Error() string {
	return fmt.Sprintf("xmldoc: bad XPath expression %q: %v", e.Expr, e.Err)
}

// Unwrap returns Err.
func (e *ExprError) Unwrap() error { return e.Err }

// firstQuote returns the quote of the first attribute in document order, 0 when there is none.
func firstQuote(n *node) byte {
	if n.kind == elementNode && n.orig.quote != 0 {
		return n.orig.quote
	}
	for c := n.first; c != nil; c = c.next {
		if q := firstQuote(c); q != 0 {
			return q
		}
	}
	return 0
}
