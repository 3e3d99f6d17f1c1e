package xmldoc

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// canonical returns the W3C Canonical XML 1.0 form, with comments, of a well-formed document without a
// DTD: what xmllint --c14n writes. It is a separate small scanner that shares no code with the
// package's parser, so that the round-trip tests do not check the parser against itself (and xmllint
// checks it in turn). It handles namespaces (superfluous declarations dropped, declarations and attributes sorted),
// attribute-value normalization, references, CDATA, comments, processing instructions and the prolog.
func canonical(in []byte) ([]byte, error) {
	s := strings.ReplaceAll(string(in), "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.TrimPrefix(s, "\uFEFF")
	c := &canon{s: s}
	if err := c.document(); err != nil {
		return nil, fmt.Errorf("canonical: at byte %d: %w", c.i, err)
	}
	return []byte(c.out.String()), nil
}

type canon struct {
	s     string
	i     int
	out   strings.Builder
	scope []map[string]string // in-scope namespaces per open element
}

func (c *canon) rest() string { return c.s[c.i:] }

func (c *canon) skipSpace() {
	for c.i < len(c.s) && strings.IndexByte(" \t\n", c.s[c.i]) >= 0 {
		c.i++
	}
}

// until returns the text up to delim and moves past delim.
func (c *canon) until(delim string) (string, error) {
	j := strings.Index(c.rest(), delim)
	if j < 0 {
		return "", fmt.Errorf("missing %q", delim)
	}
	t := c.s[c.i : c.i+j]
	c.i += j + len(delim)
	return t, nil
}

func (c *canon) document() error {
	if strings.HasPrefix(c.s, "<?xml") && len(c.s) > 5 && strings.IndexByte(" \t\n", c.s[5]) >= 0 {
		if _, err := c.until("?>"); err != nil {
			return err
		}
	}
	seenRoot := false
	for {
		c.skipSpace()
		if c.i >= len(c.s) {
			break
		}
		r := c.rest()
		switch {
		case strings.HasPrefix(r, "<!--"), strings.HasPrefix(r, "<?"):
			node, err := c.misc()
			if err != nil {
				return err
			}
			if seenRoot {
				c.out.WriteString("\n" + node)
			} else {
				c.out.WriteString(node + "\n")
			}
		case strings.HasPrefix(r, "<!DOCTYPE"):
			if err := c.doctype(); err != nil {
				return err
			}
		case strings.HasPrefix(r, "<") && !seenRoot:
			seenRoot = true
			c.scope = []map[string]string{{"xml": xmlURI}}
			if err := c.element(); err != nil {
				return err
			}
		default:
			return errors.New("content outside the root element")
		}
	}
	if !seenRoot {
		return errors.New("no root element")
	}
	return nil
}

func (c *canon) doctype() error {
	depth := 0
	for ; c.i < len(c.s); c.i++ {
		switch c.s[c.i] {
		case '[':
			depth++
		case ']':
			depth--
		case '>':
			if depth == 0 {
				c.i++
				return nil
			}
		}
	}
	return errors.New("unterminated DOCTYPE")
}

// misc returns a comment or a processing instruction in canonical form.
func (c *canon) misc() (string, error) {
	if strings.HasPrefix(c.rest(), "<!--") {
		c.i += 4
		t, err := c.until("-->")
		return "<!--" + t + "-->", err
	}
	c.i += 2
	t, err := c.until("?>")
	if err != nil {
		return "", err
	}
	target, data := t, ""
	if j := strings.IndexAny(t, " \t\n"); j >= 0 {
		target, data = t[:j], strings.TrimLeft(t[j:], " \t\n")
	}
	if data != "" {
		return "<?" + target + " " + data + "?>", nil
	}
	return "<?" + target + "?>", nil
}

func (c *canon) name() string {
	j := c.i
	for j < len(c.s) && strings.IndexByte(" \t\n/>=", c.s[j]) < 0 {
		j++
	}
	n := c.s[c.i:j]
	c.i = j
	return n
}

type canonAttr struct{ prefix, local, uri, value string }

func (c *canon) element() error {
	c.i++ // <
	qn := c.name()
	if qn == "" {
		return errors.New("empty element name")
	}
	var attrs []canonAttr
	decls := map[string]string{}
	for {
		c.skipSpace()
		if c.i >= len(c.s) {
			return errors.New("unterminated start tag")
		}
		if c.s[c.i] == '>' || c.s[c.i] == '/' {
			break
		}
		an := c.name()
		c.skipSpace()
		if c.i >= len(c.s) || c.s[c.i] != '=' {
			return fmt.Errorf("attribute %s without value", an)
		}
		c.i++
		c.skipSpace()
		if c.i >= len(c.s) || (c.s[c.i] != '"' && c.s[c.i] != '\'') {
			return fmt.Errorf("attribute %s value not quoted", an)
		}
		q := c.s[c.i : c.i+1]
		c.i++
		raw, err := c.until(q)
		if err != nil {
			return err
		}
		v, err := decodeRefs(raw, true)
		if err != nil {
			return err
		}
		switch {
		case an == "xmlns":
			decls[""] = v
		case strings.HasPrefix(an, "xmlns:"):
			decls[an[6:]] = v
		default:
			p, l, ok := strings.Cut(an, ":")
			if !ok {
				p, l = "", an
			}
			attrs = append(attrs, canonAttr{prefix: p, local: l, value: v})
		}
	}
	parent := c.scope[len(c.scope)-1]
	scope := make(map[string]string, len(parent)+len(decls))
	for k, v := range parent {
		scope[k] = v
	}
	var rendered []string
	for p, v := range decls {
		if p == "xml" {
			continue
		}
		if parent[p] != v {
			if p == "" && v == "" && parent[""] == "" {
				continue
			}
			rendered = append(rendered, p)
		}
		if v == "" {
			delete(scope, p)
		} else {
			scope[p] = v
		}
	}
	slices.Sort(rendered)
	for i := range attrs {
		if attrs[i].prefix != "" {
			uri, ok := scope[attrs[i].prefix]
			if !ok {
				return fmt.Errorf("undeclared prefix %q", attrs[i].prefix)
			}
			attrs[i].uri = uri
		}
	}
	slices.SortFunc(attrs, func(a, b canonAttr) int {
		if a.uri != b.uri {
			return strings.Compare(a.uri, b.uri)
		}
		return strings.Compare(a.local, b.local)
	})
	if p, _, ok := strings.Cut(qn, ":"); ok {
		if _, ok := scope[p]; !ok {
			return fmt.Errorf("undeclared prefix %q", p)
		}
	}
	c.out.WriteString("<" + qn)
	for _, p := range rendered {
		name := "xmlns"
		if p != "" {
			name += ":" + p
		}
		c.out.WriteString(" " + name + `="` + canonEscape(decls[p], true) + `"`)
	}
	for _, a := range attrs {
		c.out.WriteString(" " + qname(a.prefix, a.local) + `="` + canonEscape(a.value, true) + `"`)
	}
	c.out.WriteString(">")
	if strings.HasPrefix(c.rest(), "/>") {
		c.i += 2
		c.out.WriteString("</" + qn + ">")
		return nil
	}
	c.i++ // >
	c.scope = append(c.scope, scope)
	defer func() { c.scope = c.scope[:len(c.scope)-1] }()
	for {
		if c.i >= len(c.s) {
			return fmt.Errorf("<%s> not closed", qn)
		}
		r := c.rest()
		switch {
		case strings.HasPrefix(r, "</"):
			c.i += 2
			end := c.name()
			c.skipSpace()
			if end != qn || !strings.HasPrefix(c.rest(), ">") {
				return fmt.Errorf("end tag </%s> for <%s>", end, qn)
			}
			c.i++
			c.out.WriteString("</" + qn + ">")
			return nil
		case strings.HasPrefix(r, "<![CDATA["):
			c.i += 9
			t, err := c.until("]]>")
			if err != nil {
				return err
			}
			c.out.WriteString(canonEscape(t, false))
		case strings.HasPrefix(r, "<!--"), strings.HasPrefix(r, "<?"):
			node, err := c.misc()
			if err != nil {
				return err
			}
			c.out.WriteString(node)
		case strings.HasPrefix(r, "<"):
			if err := c.element(); err != nil {
				return err
			}
		default:
			j := strings.IndexByte(r, '<')
			if j < 0 {
				j = len(r)
			}
			t, err := decodeRefs(r[:j], false)
			if err != nil {
				return err
			}
			c.i += j
			c.out.WriteString(canonEscape(t, false))
		}
	}
}

// decodeRefs replaces references; in an attribute value each literal whitespace character is a space.
func decodeRefs(s string, attr bool) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case attr && (ch == '\t' || ch == '\n'):
			b.WriteByte(' ')
		case ch == '&':
			j := strings.IndexByte(s[i:], ';')
			if j < 0 {
				return "", errors.New("unterminated reference")
			}
			ref := s[i+1 : i+j]
			i += j
			switch ref {
			case "lt":
				b.WriteByte('<')
			case "gt":
				b.WriteByte('>')
			case "amp":
				b.WriteByte('&')
			case "quot":
				b.WriteByte('"')
			case "apos":
				b.WriteByte('\'')
			default:
				var n uint64
				var err error
				switch {
				case strings.HasPrefix(ref, "#x"):
					n, err = strconv.ParseUint(ref[2:], 16, 32)
				case strings.HasPrefix(ref, "#"):
					n, err = strconv.ParseUint(ref[1:], 10, 32)
				default:
					err = fmt.Errorf("unknown entity &%s;", ref)
				}
				if err != nil {
					return "", err
				}
				b.WriteRune(rune(n))
			}
		default:
			b.WriteByte(ch)
		}
	}
	return b.String(), nil
}

func canonEscape(s string, attr bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '&':
			b.WriteString("&amp;")
		case ch == '<':
			b.WriteString("&lt;")
		case ch == '>' && !attr:
			b.WriteString("&gt;")
		case ch == '"' && attr:
			b.WriteString("&quot;")
		case ch == '\t' && attr:
			b.WriteString("&#x9;")
		case ch == '\n' && attr:
			b.WriteString("&#xA;")
		case ch == '\r':
			b.WriteString("&#xD;")
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}

// xmllintC14N returns xmllint --c14n's output for each file, in order, in one process; ok is false when
// xmllint is not installed. The outputs have no separator, so it returns their concatenation.
func xmllintC14N(t testing.TB, files []string) (out []byte, ok bool) {
	t.Helper()
	path, err := exec.LookPath("xmllint")
	if err != nil {
		return nil, false
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(path, append([]string{"--c14n", "--nonet"}, files...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "xmllint: %s", stderr.String())
	return stdout.Bytes(), true
}

// canonCases are inputs with their canonical forms, checked against xmllint when it is installed.
var canonCases = []struct{ name, in, want string }{
	{"decl and empty element", `<?xml version="1.0"?>` + "\n<a x='1'/>\n", `<a x="1"></a>`},
	{"attribute order and namespaces", `<a xmlns:z="urn:z" b='2' z:a='3' a='1' xmlns="urn:d"><b xmlns="urn:d" xmlns:z="urn:z"/></a>`,
		`<a xmlns="urn:d" xmlns:z="urn:z" a="1" b="2" z:a="3"><b></b></a>`},
	{"attribute whitespace", "<a v='x\ty\nz' w='&#9;&#10;&#13;' q='&quot;&apos;&lt;&gt;&amp;'/>",
		`<a q="&quot;'&lt;>&amp;" v="x y z" w="&#x9;&#xA;&#xD;"></a>`},
	{"text escapes", "<a>&lt;&gt;&amp;&#13;&#x41;\"'<![CDATA[<&>]]></a>", "<a>&lt;&gt;&amp;&#xD;A\"'&lt;&amp;&gt;</a>"},
	{"comments and PIs", "<!--c1--><?pi  x ?>\n<a><!-- in --><?p?></a>\n<!--c2-->", "<!--c1-->\n<?pi x ?>\n<a><!-- in --><?p?></a>\n<!--c2-->"},
	{"line ends", "<a v='1\r\n2'>x\r\ny\rz</a>", `<a v="1 2">x` + "\n" + `y` + "\n" + `z</a>`},
	{"empty default namespace", `<a><b xmlns=""/></a>`, `<a><b></b></a>`},
}

func TestCanonical(t *testing.T) {
	for _, tc := range canonCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := canonical([]byte(tc.in))
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(got))
		})
	}
	t.Run("xmllint agrees", func(t *testing.T) {
		dir := t.TempDir()
		var files []string
		var want strings.Builder
		for i, tc := range canonCases {
			files = append(files, writeTemp(t, dir, fmt.Sprintf("c%d.xml", i), tc.in))
			want.WriteString(tc.want)
		}
		got, ok := xmllintC14N(t, files)
		if !ok {
			t.Skip("xmllint not installed")
		}
		assert.Equal(t, want.String(), string(got))
	})
}
