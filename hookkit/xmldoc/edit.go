package xmldoc

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// matches returns the nodes expr selects, failing with ErrNoMatch when there are none.
func (d *Document) matches(expr string) ([]*Node, error) {
	nodes, err := d.queryNodes(place{d.top, -1}, expr)
	if err != nil {
		return nil, err
	}
	if len(nodes) == 0 {
		return nil, fmt.Errorf("xmldoc: %s: %w", expr, ErrNoMatch)
	}
	return nodes, nil
}

// one returns the element expr selects, failing unless there is exactly one.
func (d *Document) one(expr string) (*Node, error) {
	nodes, err := d.matches(expr)
	if err != nil {
		return nil, err
	}
	if len(nodes) > 1 {
		return nil, fmt.Errorf("xmldoc: %s: selects %d nodes, want one", expr, len(nodes))
	}
	if !nodes[0].IsElement() {
		return nil, fmt.Errorf("xmldoc: %s: selects a node that is not an element", expr)
	}
	return nodes[0], nil
}

// Set sets the value of every node expr selects (see Node.SetValue): Set("/domain/name", "vm2"),
// Set("/domain/devices/disk[target/@dev='vda']/source/@file", "/new/path"). It fails, wrapping
// ErrNoMatch, when expr selects nothing.
func (d *Document) Set(expr, value string) error {
	nodes, err := d.matches(expr)
	if err != nil {
		return err
	}
	for _, n := range nodes {
		if err := n.SetValue(value); err != nil {
			return err
		}
	}
	return nil
}

// SetAttr sets attribute name to value on every element expr selects, adding it where it is missing. It
// fails, wrapping ErrNoMatch, when expr selects nothing.
func (d *Document) SetAttr(expr, name, value string) error {
	nodes, err := d.matches(expr)
	if err != nil {
		return err
	}
	for _, n := range nodes {
		if err := n.SetAttr(name, value); err != nil {
			return err
		}
	}
	return nil
}

// Remove removes every node expr selects (elements, attributes, text) and returns how many it removed;
// selecting nothing is not an error.
func (d *Document) Remove(expr string) (int, error) {
	nodes, err := d.queryNodes(place{d.top, -1}, expr)
	if err != nil {
		return 0, err
	}
	for i, n := range nodes {
		if err := n.Remove(); err != nil {
			return i, err
		}
	}
	return len(nodes), nil
}

// AddElement appends a new empty element name to the one element expr selects (see Node.AddElement).
func (d *Document) AddElement(expr, name string) (*Node, error) {
	n, err := d.one(expr)
	if err != nil {
		return nil, err
	}
	return n.AddElement(name)
}

// AddXML appends the XML fragment to the one element expr selects (see Node.AddXML).
func (d *Document) AddXML(expr, fragment string) ([]*Node, error) {
	n, err := d.one(expr)
	if err != nil {
		return nil, err
	}
	return n.AddXML(fragment)
}

// checkValue refuses what XML 1.0 cannot carry, even escaped.
func checkValue(s string) error {
	if i := firstInvalid(s); i >= 0 {
		return fmt.Errorf("xmldoc: value has a character XML cannot carry at byte %d", i)
	}
	return nil
}

func checkComment(s string) error {
	if strings.Contains(s, "--") || strings.HasSuffix(s, "-") {
		return errors.New(`xmldoc: a comment cannot contain "--" or end with "-"`)
	}
	return checkValue(s)
}

// isName reports whether s is an XML name with at most one colon, between a prefix and a local name.
func isName(s string) bool {
	prefix, local, found := strings.Cut(s, ":")
	if !found {
		return isNCName(s)
	}
	return isNCName(prefix) && isNCName(local)
}

// decl returns the attribute that declares prefix for uri.
func decl(prefix, uri string) attribute {
	return attribute{prefix: "xmlns", local: prefix, uri: xmlnsURI, value: uri}
}

// inScope returns the namespace declarations in scope at element el, nearest first, without the ones
// that nearer declarations of the same prefix hide.
func inScope(el *node) []nsBinding {
	var out []nsBinding
	for a := el; a != nil; a = a.parent {
		for _, at := range a.attrs {
			if !at.isDecl() {
				continue
			}
			p := at.local
			if at.prefix == "" {
				p = ""
			}
			if !slices.ContainsFunc(out, func(b nsBinding) bool { return b.prefix == p }) {
				out = append(out, nsBinding{p, at.value})
			}
		}
	}
	return out
}

// resolve returns the namespace URI of prefix: the caller's binding, else the document's declaration in
// scope at el.
func (d *Document) resolve(el *node, prefix string) (string, error) {
	if prefix == "xml" {
		return xmlURI, nil
	}
	if uri, ok := d.ns[prefix]; ok {
		return uri, nil
	}
	for _, b := range inScope(el) {
		if b.prefix == prefix && b.uri != "" {
			return b.uri, nil
		}
	}
	return "", fmt.Errorf("xmldoc: prefix %q is neither bound (Document.Bind) nor declared in the document", prefix)
}

// attrName splits an attribute name given by the caller into namespace URI and local name.
func (d *Document) attrName(el *node, name string) (uri, local string, err error) {
	if !isName(name) || name == "xmlns" || strings.HasPrefix(name, "xmlns:") {
		return "", "", fmt.Errorf("xmldoc: %q is not an attribute name this package sets", name)
	}
	prefix, local, found := strings.Cut(name, ":")
	if !found {
		return "", name, nil
	}
	uri, err = d.resolve(el, prefix)
	return uri, local, err
}

// prefixFor returns the prefix to write for namespace uri on element el (an attribute's element): one in
// scope there, or the prefix of name, declared on el.
func (d *Document) prefixFor(el *node, name, uri string) (string, error) {
	if uri == xmlURI {
		return "xml", nil
	}
	scope := inScope(el)
	for _, b := range scope {
		if b.uri == uri && b.prefix != "" {
			return b.prefix, nil
		}
	}
	prefix, _, _ := strings.Cut(name, ":")
	if slices.ContainsFunc(scope, func(b nsBinding) bool { return b.prefix == prefix }) {
		return "", fmt.Errorf("xmldoc: cannot declare prefix %q for %s on <%s>: the document uses it for another namespace", prefix, uri, qname(el.prefix, el.name))
	}
	el.attrs = append(el.attrs, decl(prefix, uri))
	return prefix, nil
}

// newElement returns a detached element named name for a place under parent.
func (d *Document) newElement(parent *node, name string) (*node, error) {
	if !isName(name) {
		return nil, fmt.Errorf("xmldoc: %q is not an element name", name)
	}
	prefix, local, found := strings.Cut(name, ":")
	scope := inScope(parent)
	if !found {
		c := &node{kind: elementNode, name: name}
		for _, b := range scope {
			if b.prefix == "" {
				c.uri = b.uri
			}
		}
		d.touch()
		return c, nil
	}
	uri, err := d.resolve(parent, prefix)
	if err != nil {
		return nil, err
	}
	d.touch()
	c := &node{kind: elementNode, name: local, uri: uri}
	for _, b := range scope {
		if b.uri == uri {
			c.prefix = b.prefix
			return c, nil
		}
	}
	c.prefix = prefix
	c.attrs = []attribute{decl(prefix, uri)}
	return c, nil
}

// addXML parses fragment in the scope of parent and appends its nodes to parent.
func (d *Document) addXML(parent *node, fragment string) ([]*Node, error) {
	scope := inScope(parent)
	var callerOnly []nsBinding
	for p, uri := range d.ns {
		if !slices.ContainsFunc(scope, func(b nsBinding) bool { return b.prefix == p }) {
			callerOnly = append(callerOnly, nsBinding{p, uri})
		}
	}
	slices.SortFunc(callerOnly, func(a, b nsBinding) int { return strings.Compare(a.prefix, b.prefix) })
	parseScope := slices.Clone(callerOnly)
	for i := len(scope) - 1; i >= 0; i-- {
		parseScope = append(parseScope, scope[i])
	}
	top, err := parse(fragment, true, parseScope)
	if err != nil {
		return nil, fmt.Errorf("xmldoc: bad XML fragment: %w", err)
	}
	var nodes []*node
	hasElement := false
	for c := top.first; c != nil; c = c.next {
		if !isSpace(c) {
			nodes = append(nodes, c)
			hasElement = hasElement || c.kind == elementNode
		}
	}
	if !hasElement {
		return nil, errors.New("xmldoc: the XML fragment holds no element")
	}
	d.touch()
	var added []*Node
	for _, c := range nodes {
		c.remove()
		if c.kind == elementNode {
			var decls []attribute
			for _, b := range callerOnly {
				if usesPrefix(c, b.prefix) && !slices.ContainsFunc(c.attrs, func(a attribute) bool {
					return a.prefix == "xmlns" && a.local == b.prefix
				}) {
					decls = append(decls, decl(b.prefix, b.uri))
				}
			}
			c.attrs = append(decls, c.attrs...)
			added = append(added, &Node{doc: d, n: c})
		}
		appendIndented(parent, c)
	}
	return added, nil
}

// usesPrefix reports whether n or an element under it writes prefix on its name or an attribute's.
func usesPrefix(n *node, prefix string) bool {
	if n.kind != elementNode {
		return false
	}
	if n.prefix == prefix {
		return true
	}
	for _, a := range n.attrs {
		if a.prefix == prefix && !a.isDecl() {
			return true
		}
	}
	for c := n.first; c != nil; c = c.next {
		if usesPrefix(c, prefix) {
			return true
		}
	}
	return false
}

// isSpace reports whether n is a text node of whitespace only (indentation).
func isSpace(n *node) bool {
	return n != nil && n.kind == textNode && strings.TrimLeft(n.data, " \t\r\n") == ""
}

func spaceNode(s string) *node { return &node{kind: textNode, data: s} }

// appendIndented appends child as parent's last child, with the indentation its element siblings have
// (or one level deeper than parent's own), so that libvirt-formatted XML stays formatted.
func appendIndented(parent, child *node) {
	last := parent.last
	switch {
	case last != nil && isSpace(last) && strings.Contains(last.data, "\n"):
		indent := last.data + "  "
		for c := last.prev; c != nil; c = c.prev {
			if c.kind == elementNode {
				if isSpace(c.prev) {
					indent = c.prev.data
				}
				break
			}
		}
		last.insertBefore(spaceNode(indent))
		last.insertBefore(child)
	case last == nil && isSpace(parent.prev) && strings.Contains(parent.prev.data, "\n"):
		outer := parent.prev.data
		parent.appendChild(spaceNode(outer + "  "))
		parent.appendChild(child)
		parent.appendChild(spaceNode(outer))
	default:
		parent.appendChild(child)
	}
}

// insertAfterIndented inserts child right after sibling, with sibling's indentation.
func insertAfterIndented(sibling, child *node) {
	sibling.insertAfter(child)
	if isSpace(sibling.prev) {
		sibling.insertAfter(spaceNode(sibling.prev.data))
	}
}
