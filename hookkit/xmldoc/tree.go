package xmldoc

import (
	"strings"

	"github.com/antchfx/xpath"
)

// kind is the type of a node.
type kind uint8

const (
	documentNode kind = iota
	elementNode
	textNode
	cdataNode
	commentNode
	piNode      // processing instruction: name is the target, data the instruction
	declNode    // the XML declaration: attrs are its pseudo-attributes
	doctypeNode // <!DOCTYPE ...>: data is what is between <! and >
)

// attribute is one attribute of an element; namespace declarations are attributes too (prefix "xmlns",
// or no prefix and local name "xmlns"), as written.
type attribute struct {
	prefix, local, uri, value string
}

// isDecl reports whether a declares a namespace.
func (a attribute) isDecl() bool { return a.prefix == "xmlns" || a.prefix == "" && a.local == "xmlns" }

// node is a node of the document tree. A parsed node also records how the input wrote it, so that the
// serializer writes it back byte for byte as long as it is unchanged.
type node struct {
	parent, first, last, prev, next *node

	kind   kind
	name   string // element: local name; processing instruction: target
	prefix string // element: the prefix it is written with
	uri    string // element: namespace URI
	attrs  []attribute
	data   string // text, CDATA, comment, instruction, DOCTYPE

	parsed bool     // orig holds how the input wrote the node
	orig   nodeInfo // valid when parsed
}

// nodeInfo is how a node was written in the input, and the content it had then. Names are not recorded:
// nothing renames a parsed node (a node that must change its name is forgotten first).
type nodeInfo struct {
	raw   string // element: the start tag; any other node: the whole node as written
	end   string // element: the end tag; "" when written as an empty-element tag
	data  string
	attrs []rawAttr
	quote byte // element: the quote of its first attribute, 0 without attributes
}

// rawAttr is an attribute as parsed; raw holds the whitespace before it, its name, "=" and the quoted value.
type rawAttr struct {
	prefix, local, value string
	raw                  string
}

func (n *node) appendChild(c *node) {
	c.parent, c.prev, c.next = n, n.last, nil
	if n.last != nil {
		n.last.next = c
	} else {
		n.first = c
	}
	n.last = c
}

// insertBefore inserts c as the sibling right before n.
func (n *node) insertBefore(c *node) {
	c.parent, c.prev, c.next = n.parent, n.prev, n
	if n.prev != nil {
		n.prev.next = c
	} else {
		n.parent.first = c
	}
	n.prev = c
}

// insertAfter inserts c as the sibling right after n.
func (n *node) insertAfter(c *node) {
	c.parent, c.prev, c.next = n.parent, n, n.next
	if n.next != nil {
		n.next.prev = c
	} else {
		n.parent.last = c
	}
	n.next = c
}

// remove detaches n from its parent.
func (n *node) remove() {
	if n.parent == nil {
		return
	}
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		n.parent.first = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else {
		n.parent.last = n.prev
	}
	n.parent, n.prev, n.next = nil, nil, nil
}

// text returns the text content: the concatenated text and CDATA of n and its descendants.
func (n *node) text() string {
	switch n.kind {
	case textNode, cdataNode:
		return n.data
	case elementNode, documentNode:
		if c := n.first; c != nil && c.next == nil && (c.kind == textNode || c.kind == cdataNode) {
			return c.data
		}
		var b strings.Builder
		var walk func(*node)
		walk = func(n *node) {
			for c := n.first; c != nil; c = c.next {
				switch c.kind {
				case textNode, cdataNode:
					b.WriteString(c.data)
				case elementNode:
					walk(c)
				}
			}
		}
		walk(n)
		return b.String()
	}
	return n.data
}

// attr returns the value of n's attribute local in namespace uri.
func (n *node) attr(uri, local string) (string, bool) {
	for _, a := range n.attrs {
		if a.local == local && a.uri == uri && !a.isDecl() {
			return a.value, true
		}
	}
	return "", false
}

// navigator is the cursor antchfx/xpath evaluates expressions with. Namespace declarations are not
// attributes to XPath, and processing instructions, the XML declaration and the DOCTYPE are not visible.
type navigator struct {
	root, cur *node
	attr      int // index in cur.attrs of the current attribute, -1 when on cur itself
}

var _ xpath.NodeNavigator = (*navigator)(nil)

// visible reports whether XPath sees n.
func visible(n *node) bool {
	switch n.kind {
	case elementNode, textNode, cdataNode, commentNode:
		return true
	}
	return false
}

func (x *navigator) NodeType() xpath.NodeType {
	switch x.cur.kind {
	case elementNode:
		if x.attr >= 0 {
			return xpath.AttributeNode
		}
		return xpath.ElementNode
	case textNode, cdataNode:
		return xpath.TextNode
	case commentNode:
		return xpath.CommentNode
	}
	return xpath.RootNode
}

func (x *navigator) LocalName() string {
	if x.attr >= 0 {
		return x.cur.attrs[x.attr].local
	}
	if x.cur.kind == elementNode {
		return x.cur.name
	}
	return ""
}

func (x *navigator) Prefix() string {
	if x.attr >= 0 {
		return x.cur.attrs[x.attr].prefix
	}
	return x.cur.prefix
}

// NamespaceURL lets antchfx/xpath match names by namespace URI rather than by prefix.
func (x *navigator) NamespaceURL() string {
	if x.attr >= 0 {
		return x.cur.attrs[x.attr].uri
	}
	return x.cur.uri
}

func (x *navigator) Value() string {
	if x.attr >= 0 {
		return x.cur.attrs[x.attr].value
	}
	return x.cur.text()
}

func (x *navigator) String() string { return x.Value() }

func (x *navigator) Copy() xpath.NodeNavigator {
	c := *x
	return &c
}

func (x *navigator) MoveToRoot() { x.cur, x.attr = x.root, -1 }

func (x *navigator) MoveToParent() bool {
	if x.attr >= 0 {
		x.attr = -1
		return true
	}
	if x.cur.parent == nil {
		return false
	}
	x.cur = x.cur.parent
	return true
}

func (x *navigator) MoveToNextAttribute() bool {
	if x.cur.kind != elementNode {
		return false
	}
	for i := x.attr + 1; i < len(x.cur.attrs); i++ {
		if !x.cur.attrs[i].isDecl() {
			x.attr = i
			return true
		}
	}
	return false
}

func (x *navigator) moveWhile(start *node, step func(*node) *node) bool {
	for c := start; c != nil; c = step(c) {
		if visible(c) {
			x.cur = c
			return true
		}
	}
	return false
}

func (x *navigator) MoveToChild() bool {
	return x.attr < 0 && x.moveWhile(x.cur.first, func(n *node) *node { return n.next })
}

func (x *navigator) MoveToNext() bool {
	return x.attr < 0 && x.moveWhile(x.cur.next, func(n *node) *node { return n.next })
}

func (x *navigator) MoveToPrevious() bool {
	return x.attr < 0 && x.moveWhile(x.cur.prev, func(n *node) *node { return n.prev })
}

func (x *navigator) MoveToFirst() bool {
	if x.attr >= 0 || x.cur.parent == nil {
		return false
	}
	cur := x.cur
	if !x.moveWhile(cur.parent.first, func(n *node) *node { return n.next }) || x.cur == cur {
		x.cur = cur
		return false
	}
	return true
}

func (x *navigator) MoveTo(other xpath.NodeNavigator) bool {
	o, ok := other.(*navigator)
	if !ok || o.root != x.root {
		return false
	}
	x.cur, x.attr = o.cur, o.attr
	return true
}
