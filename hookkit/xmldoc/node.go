package xmldoc

import (
	"errors"
	"fmt"
)

// Node is one node of a Document: an element, an attribute, a text node or a comment, as selected by an
// XPath expression. Its query methods take expressions relative to it; absolute paths still start at the
// document root. Its edit methods change the document it belongs to.
type Node struct {
	doc  *Document
	n    *node // the node; for an attribute, the element that carries it
	attr *attrRef
}

type attrRef struct{ uri, local string }

// IsElement reports whether the node is an element.
func (n *Node) IsElement() bool { return n.attr == nil && n.n.kind == elementNode }

// IsAttr reports whether the node is an attribute.
func (n *Node) IsAttr() bool { return n.attr != nil }

// place is the node as a query's context node: the attribute itself for an attribute node, so that
// "." is its value and ".." its element.
func (n *Node) place() place {
	if n.attr == nil {
		return place{n.n, -1}
	}
	return place{n.n, n.attrIndex()}
}

func (n *Node) attrIndex() int {
	for i, a := range n.n.attrs {
		if a.local == n.attr.local && a.uri == n.attr.uri && !a.isDecl() {
			return i
		}
	}
	return -1
}

// Name returns the qualified name as the document writes it ("qemu:arg", "ns0:arg", "file"); "" for text
// and comments.
func (n *Node) Name() string {
	if n.attr != nil {
		if i := n.attrIndex(); i >= 0 {
			return qname(n.n.attrs[i].prefix, n.n.attrs[i].local)
		}
		return n.attr.local
	}
	if n.n.kind != elementNode {
		return ""
	}
	return qname(n.n.prefix, n.n.name)
}

// LocalName returns the name without its prefix.
func (n *Node) LocalName() string {
	if n.attr != nil {
		return n.attr.local
	}
	if n.n.kind != elementNode {
		return ""
	}
	return n.n.name
}

// NamespaceURI returns the namespace of an element or attribute, "" for none.
func (n *Node) NamespaceURI() string {
	if n.attr != nil {
		return n.attr.uri
	}
	return n.n.uri
}

// Value returns an attribute's value, the text content of an element, or the text of a text node or
// comment.
func (n *Node) Value() string {
	if n.attr != nil {
		if i := n.attrIndex(); i >= 0 {
			return n.n.attrs[i].value
		}
		return ""
	}
	return n.n.text()
}

// Parent returns the element that contains the node (for an attribute, its element), or nil for the
// document element.
func (n *Node) Parent() *Node {
	if n.attr != nil {
		return &Node{doc: n.doc, n: n.n}
	}
	if p := n.n.parent; p != nil && p.kind == elementNode {
		return &Node{doc: n.doc, n: p}
	}
	return nil
}

// Attr returns the value of the element's attribute name ("type", or "prefix:local" with a bound prefix)
// and whether the element has it.
func (n *Node) Attr(name string) (string, bool) {
	if !n.IsElement() {
		return "", false
	}
	uri, local, err := n.doc.attrName(n.n, name)
	if err != nil {
		return "", false
	}
	return n.n.attr(uri, local)
}

// SetValue sets an attribute's value, the text of a text node or comment, or replaces everything inside
// an element with the text value.
func (n *Node) SetValue(value string) error {
	if err := checkValue(value); err != nil {
		return err
	}
	n.doc.touch()
	if n.attr != nil {
		i := n.attrIndex()
		if i < 0 {
			return fmt.Errorf("xmldoc: attribute %s was removed", n.attr.local)
		}
		n.n.attrs[i].value = value
		return nil
	}
	switch n.n.kind {
	case elementNode:
		if c := n.n.first; c != nil && c == n.n.last && c.kind == textNode {
			c.data = value
			return nil
		}
		for c := n.n.first; c != nil; c = n.n.first {
			c.remove()
		}
		if value != "" {
			n.n.appendChild(&node{kind: textNode, data: value})
		}
	case commentNode:
		if err := checkComment(value); err != nil {
			return err
		}
		n.n.data = value
	case textNode, cdataNode:
		n.n.data = value
	default:
		return errors.New("xmldoc: this node has no value to set")
	}
	return nil
}

// SetAttr sets the element's attribute name ("type", or "prefix:local" with a bound prefix) to value,
// adding it after the existing ones when the element does not have it.
func (n *Node) SetAttr(name, value string) error {
	if !n.IsElement() {
		return fmt.Errorf("xmldoc: cannot set attribute %s on a non-element", name)
	}
	if err := checkValue(value); err != nil {
		return err
	}
	uri, local, err := n.doc.attrName(n.n, name)
	if err != nil {
		return err
	}
	n.doc.touch()
	for i, a := range n.n.attrs {
		if a.local == local && a.uri == uri && !a.isDecl() {
			n.n.attrs[i].value = value
			return nil
		}
	}
	prefix := ""
	if uri != "" {
		if prefix, err = n.doc.prefixFor(n.n, name, uri); err != nil {
			return err
		}
	}
	n.n.attrs = append(n.n.attrs, attribute{prefix: prefix, local: local, uri: uri, value: value})
	return nil
}

// RemoveAttr removes the element's attribute name and reports whether it had it.
func (n *Node) RemoveAttr(name string) (bool, error) {
	if !n.IsElement() {
		return false, fmt.Errorf("xmldoc: cannot remove attribute %s from a non-element", name)
	}
	uri, local, err := n.doc.attrName(n.n, name)
	if err != nil {
		return false, err
	}
	for i, a := range n.n.attrs {
		if a.local == local && a.uri == uri && !a.isDecl() {
			n.doc.touch()
			n.n.attrs = append(n.n.attrs[:i:i], n.n.attrs[i+1:]...)
			return true, nil
		}
	}
	return false, nil
}

// Remove removes the node from the document; an element goes with the indentation before it.
func (n *Node) Remove() error {
	if n.attr != nil {
		if i := n.attrIndex(); i >= 0 {
			n.doc.touch()
			n.n.attrs = append(n.n.attrs[:i:i], n.n.attrs[i+1:]...)
		}
		return nil
	}
	if n.n.parent == nil {
		return nil // removed already
	}
	if n.n.parent == n.doc.top && n.n.kind == elementNode {
		return errors.New("xmldoc: cannot remove the document element")
	}
	n.doc.touch()
	if p := n.n.prev; n.n.kind == elementNode && isSpace(p) {
		p.remove()
	}
	n.n.remove()
	return nil
}

// AddElement appends a new empty element name ("source", or "prefix:local" with a bound prefix) to the
// element, indented like its siblings, and returns it.
func (n *Node) AddElement(name string) (*Node, error) {
	if !n.IsElement() {
		return nil, fmt.Errorf("xmldoc: cannot add <%s> to a non-element", name)
	}
	c, err := n.doc.newElement(n.n, name)
	if err != nil {
		return nil, err
	}
	appendIndented(n.n, c)
	return &Node{doc: n.doc, n: c}, nil
}

// AddXML parses fragment (one or more elements, e.g. `<qemu:arg value='-s'/>`) and appends it to the
// element, indented like its siblings. The fragment may use the prefixes in scope in the document and the
// bound ones; it returns the elements added.
func (n *Node) AddXML(fragment string) ([]*Node, error) {
	if !n.IsElement() {
		return nil, errors.New("xmldoc: cannot add XML to a non-element")
	}
	return n.doc.addXML(n.n, fragment)
}

// XML returns the node written as XML, as it would appear in Bytes: an element with its content, an
// attribute as name="value", a text node escaped.
func (n *Node) XML() string {
	if n.attr != nil {
		i := n.attrIndex()
		if i < 0 {
			return ""
		}
		a := n.n.attrs[i]
		w := writer{}
		w.b.WriteString(qname(a.prefix, a.local) + `="`)
		w.attrValue(a.value, '"')
		w.b.WriteString(`"`)
		return w.b.String()
	}
	return n.doc.serialize(n.n)
}

// String evaluates expr relative to the node, as Document.String does.
func (n *Node) String(expr string) (string, error) { return n.doc.queryString(n.place(), expr) }

// Int evaluates expr relative to the node, as Document.Int does.
func (n *Node) Int(expr string) (int, error) { return n.doc.queryInt(n.place(), expr) }

// Bool evaluates expr relative to the node, as Document.Bool does.
func (n *Node) Bool(expr string) (bool, error) { return n.doc.queryBool(n.place(), expr) }

// Nodes returns the nodes expr selects relative to the node, as Document.Nodes does.
func (n *Node) Nodes(expr string) ([]*Node, error) { return n.doc.queryNodes(n.place(), expr) }

// Node returns the first node expr selects relative to the node, as Document.Node does.
func (n *Node) Node(expr string) (*Node, error) { return n.doc.queryNode(n.place(), expr) }
