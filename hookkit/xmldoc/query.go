package xmldoc

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/antchfx/xpath"
	"github.com/hookkit-dev/hookkit/hookkit/internal/xmlchar"
)

func (d *Document) compile(expr string) (*xpath.Expr, error) {
	if e, ok := d.exprs[expr]; ok {
		return e, nil
	}
	if strings.TrimSpace(expr) == "" {
		return nil, &ExprError{Expr: expr, Err: errors.New("empty expression")}
	}
	if p := prefixWildcard(expr); p != "" {
		// antchfx/xpath (v1.3.9) compares the wildcard's empty local name with each node's: such a test
		// would match nothing, and Remove or Set would report 0 nodes instead of failing.
		return nil, &ExprError{Expr: expr, Err: fmt.Errorf("%s:* is not supported (it would match nothing); use *[namespace-uri()='...'] or name each element", p)}
	}
	e, err := xpath.CompileWithNS(expr, d.ns)
	if err != nil {
		return nil, &ExprError{Expr: expr, Err: err}
	}
	if d.exprs == nil {
		d.exprs = make(map[string]*xpath.Expr)
	}
	d.exprs[expr] = e
	return e, nil
}

// prefixWildcard returns the prefix of the first "prefix:*" name test in expr, outside string
// literals, or "".
func prefixWildcard(expr string) string {
	var quote byte
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == ':' && i+1 < len(expr) && expr[i+1] == '*' && (i+2 >= len(expr) || expr[i+2] != ':'):
			j := i
			for j > 0 {
				r, size := utf8.DecodeLastRuneInString(expr[:j])
				if r == ':' || !xmlchar.IsNameChar(r) {
					break
				}
				j -= size
			}
			if j < i {
				return expr[j:i]
			}
		}
	}
	return ""
}

// place is a context node for a query: an element, text or comment node, or the attribute attr of
// element n (attr -1 when the place is n itself).
type place struct {
	n    *node
	attr int
}

// eval evaluates expr with at as the context node: the result is a bool, a float64, a string or a
// []*Node.
func (d *Document) eval(at place, expr string) (res any, err error) {
	e, err := d.compile(expr)
	if err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, &ExprError{Expr: expr, Err: fmt.Errorf("%v", r)}
		}
	}()
	// The root stays the document node, so that absolute paths mean the whole document in queries
	// relative to n.
	v := e.Evaluate(&navigator{root: d.top, cur: at.n, attr: at.attr})
	it, ok := v.(*xpath.NodeIterator)
	if !ok {
		return v, nil
	}
	nodes := []*Node{}
	for it.MoveNext() {
		nav := it.Current().(*navigator)
		found := &Node{doc: d, n: nav.cur}
		if nav.attr >= 0 {
			found.attr = &attrRef{uri: nav.cur.attrs[nav.attr].uri, local: nav.cur.attrs[nav.attr].local}
		}
		nodes = append(nodes, found)
	}
	return nodes, nil
}

func (d *Document) queryString(at place, expr string) (string, error) {
	v, err := d.eval(at, expr)
	if err != nil {
		return "", err
	}
	switch v := v.(type) {
	case []*Node:
		if len(v) == 0 {
			return "", nil
		}
		return v[0].Value(), nil
	case string:
		return v, nil
	case float64:
		return formatNumber(v), nil
	case bool:
		return strconv.FormatBool(v), nil
	}
	return "", &ExprError{Expr: expr, Err: fmt.Errorf("unexpected result type %T", v)}
}

func formatNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func (d *Document) queryInt(at place, expr string) (int, error) {
	v, err := d.eval(at, expr)
	if err != nil {
		return 0, err
	}
	var s string
	switch v := v.(type) {
	case []*Node:
		if len(v) == 0 {
			return 0, fmt.Errorf("xmldoc: %s: %w", expr, ErrNoMatch)
		}
		s = v[0].Value()
	case float64:
		if v != math.Trunc(v) || math.IsInf(v, 0) || v > math.MaxInt64 || v < math.MinInt64 {
			return 0, fmt.Errorf("xmldoc: %s: %s is not an integer", expr, formatNumber(v))
		}
		return int(v), nil
	case string:
		s = v
	case bool:
		return 0, fmt.Errorf("xmldoc: %s: a boolean is not an integer", expr)
	}
	i, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("xmldoc: %s: %q is not an integer", expr, s)
	}
	return i, nil
}

func (d *Document) queryBool(at place, expr string) (bool, error) {
	v, err := d.eval(at, expr)
	if err != nil {
		return false, err
	}
	switch v := v.(type) {
	case []*Node:
		return len(v) > 0, nil
	case float64:
		return v != 0 && !math.IsNaN(v), nil
	case string:
		return v != "", nil
	case bool:
		return v, nil
	}
	return false, &ExprError{Expr: expr, Err: fmt.Errorf("unexpected result type %T", v)}
}

func (d *Document) queryNodes(at place, expr string) ([]*Node, error) {
	v, err := d.eval(at, expr)
	if err != nil {
		return nil, err
	}
	nodes, ok := v.([]*Node)
	if !ok {
		return nil, fmt.Errorf("xmldoc: %s: evaluates to a %s, not to nodes", expr, kindOf(v))
	}
	return nodes, nil
}

func kindOf(v any) string {
	switch v.(type) {
	case float64:
		return "number"
	case string:
		return "string"
	case bool:
		return "boolean"
	}
	return fmt.Sprintf("%T", v)
}

func (d *Document) queryNode(at place, expr string) (*Node, error) {
	nodes, err := d.queryNodes(at, expr)
	if err != nil {
		return nil, err
	}
	if len(nodes) == 0 {
		return nil, fmt.Errorf("xmldoc: %s: %w", expr, ErrNoMatch)
	}
	return nodes[0], nil
}

// String evaluates the XPath expression expr and returns its string value: for nodes, the value of the
// first one (an attribute's value, an element's text content), "" when none matches.
func (d *Document) String(expr string) (string, error) { return d.queryString(place{d.top, -1}, expr) }

// Int evaluates expr as an integer: a number, or the first node's value parsed as a decimal integer. It
// fails when nothing matches (wrapping ErrNoMatch) or the value is not an integer.
func (d *Document) Int(expr string) (int, error) { return d.queryInt(place{d.top, -1}, expr) }

// Bool evaluates expr as XPath's boolean(): true for a non-empty node set, a non-empty string or a
// non-zero number. Bool("/domain/features/acpi") tells whether the element exists.
func (d *Document) Bool(expr string) (bool, error) { return d.queryBool(place{d.top, -1}, expr) }

// Nodes returns the nodes expr selects, in document order (none is not an error). It fails when expr
// evaluates to a number, a string or a boolean.
func (d *Document) Nodes(expr string) ([]*Node, error) { return d.queryNodes(place{d.top, -1}, expr) }

// Node returns the first node expr selects; it fails, wrapping ErrNoMatch, when none matches.
func (d *Document) Node(expr string) (*Node, error) { return d.queryNode(place{d.top, -1}, expr) }
