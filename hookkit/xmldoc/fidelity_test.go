package xmldoc

import (
	"strings"
	"testing"

	"github.com/antchfx/xmlquery"
	"github.com/hookkit-dev/hookkit/hookkit/internal/stdxml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fidelityCases are the constructs the serializer must keep. Each is checked with no edit (the output
// is the input, byte for byte) and, where edit is set, with an edit elsewhere or of the construct
// itself (the output is want, byte for byte).
var fidelityCases = []struct {
	name string
	in   string
	edit func(d *Document) error
	want string
	// xmlqueryLoses is true where xmlquery's own OutputXML changes the canonical form without any edit.
	xmlqueryLoses bool
}{
	{
		name: "namespace prefixes kept",
		in:   `<domain xmlns:ns0='http://libvirt.org/schemas/domain/qemu/1.0'><name>a</name><ns0:commandline><ns0:arg value='-s'/></ns0:commandline></domain>`,
		edit: func(d *Document) error { return d.Set("/domain/name", "b") },
		want: `<domain xmlns:ns0='http://libvirt.org/schemas/domain/qemu/1.0'><name>b</name><ns0:commandline><ns0:arg value='-s'/></ns0:commandline></domain>`,
	},
	{
		name: "prefix of a namespace redeclared under another prefix",
		in:   `<x:a xmlns:x='urn:u'><b xmlns:y='urn:u'/><x:c/></x:a>`,
		edit: func(d *Document) error { return d.SetAttr("/*/*[2]", "k", "v") },
		want: `<x:a xmlns:x='urn:u'><b xmlns:y='urn:u'/><x:c k='v'/></x:a>`,
		// xmlquery remembers the last prefix seen for a URI, so <x:c> comes out as <c>, out of its namespace.
		xmlqueryLoses: true,
	},
	{
		name: "default namespace kept",
		in:   `<a xmlns='urn:d'><b/></a>`,
		edit: func(d *Document) error { _, err := d.AddElement("/*", "c"); return err },
		want: `<a xmlns='urn:d'><b/><c/></a>`,
	},
	{
		name: "unknown elements kept",
		in:   "<domain>\n  <name>a</name>\n  <future-thing x='1'><deeper/></future-thing>\n</domain>",
		edit: func(d *Document) error { return d.Set("/domain/name", "b") },
		want: "<domain>\n  <name>b</name>\n  <future-thing x='1'><deeper/></future-thing>\n</domain>",
	},
	{
		name: "custom metadata kept",
		in:   `<domain><metadata><app:cfg xmlns:app="urn:app" app:k="1"><app:v>2</app:v></app:cfg></metadata><name>a</name></domain>`,
		edit: func(d *Document) error { return d.Set("/domain/name", "b") },
		want: `<domain><metadata><app:cfg xmlns:app="urn:app" app:k="1"><app:v>2</app:v></app:cfg></metadata><name>b</name></domain>`,
	},
	{
		name: "comments kept",
		in:   "<!-- before --><domain><!-- inside --><name>a</name></domain><!-- after -->",
		edit: func(d *Document) error { return d.Set("/domain/name", "b") },
		want: "<!-- before --><domain><!-- inside --><name>b</name></domain><!-- after -->",
		// xmlquery drops the comment before the root element.
		xmlqueryLoses: true,
	},
	{
		name: "processing instructions kept",
		in:   "<?top  data here ?><domain><?inner x='1'?><name>a</name></domain>",
		edit: func(d *Document) error { return d.Set("/domain/name", "b") },
		want: "<?top  data here ?><domain><?inner x='1'?><name>b</name></domain>",
		// xmlquery trims the instruction's data.
		xmlqueryLoses: true,
	},
	{
		name: "attribute order kept",
		in:   `<a z='1' b='2' m='3' a='4'/>`,
		edit: func(d *Document) error { return d.SetAttr("/a", "m", "x") },
		want: `<a z='1' b='2' m='x' a='4'/>`,
	},
	{
		name: "whitespace inside tags kept where untouched",
		in:   "<a  z = '1'\n   b='2'  />",
		edit: func(d *Document) error { return d.SetAttr("/a", "b", "3") },
		want: "<a  z = '1' b='3'/>",
	},
	{
		name: "character references kept",
		in:   `<a v='&#x41;&#66;'>&#x43;&#68;&#233;</a>`,
		edit: func(d *Document) error { return d.SetAttr("/a", "w", "new") },
		want: `<a v='&#x41;&#66;' w='new'>&#x43;&#68;&#233;</a>`,
	},
	{
		name: "CDATA kept",
		in:   `<a><![CDATA[<x> & y]]><b/></a>`,
		edit: func(d *Document) error { return d.SetAttr("/a/b", "k", "v") },
		want: `<a><![CDATA[<x> & y]]><b k='v'/></a>`,
	},
	{
		name: "CDATA edited stays CDATA",
		in:   `<a><![CDATA[old]]></a>`,
		edit: func(d *Document) error { return d.Set("/a/text()", "x ]]> y") },
		want: `<a><![CDATA[x ]]]]><![CDATA[> y]]></a>`,
	},
	{
		name: "newline tab and carriage return in a set attribute are escaped",
		in:   `<a v='x'/>`,
		edit: func(d *Document) error { return d.SetAttr("/a", "v", "1\n2\t3\r4") },
		want: `<a v='1&#10;2&#9;3&#13;4'/>`,
	},
	{
		name: "escaped newline and tab in an attribute kept",
		in:   `<a v='1&#10;2&#9;3&#13;4'/>`,
		// xmlquery writes them back raw: a parser then reads spaces.
		xmlqueryLoses: true,
	},
	{
		name: "literal newline in an attribute kept as written",
		in:   "<a v='1\n2'/>",
		edit: func(d *Document) error { return d.SetAttr("/a", "w", "x") },
		want: "<a v='1\n2' w='x'/>",
	},
	{
		name: "quote lt amp gt escaped in single-quoted attributes",
		in:   `<a v='x'/>`,
		edit: func(d *Document) error { return d.SetAttr("/a", "v", `"<&>'`) },
		want: `<a v='"&lt;&amp;&gt;&apos;'/>`,
	},
	{
		name: "quote lt amp gt escaped in double-quoted attributes",
		in:   `<a v="x"/>`,
		edit: func(d *Document) error { return d.SetAttr("/a", "v", `"<&>'`) },
		want: `<a v="&quot;&lt;&amp;&gt;'"/>`,
	},
	{
		name: "lt amp gt escaped in text",
		in:   `<a>x</a>`,
		edit: func(d *Document) error { return d.Set("/a", "<&>\"'\r") },
		want: `<a>&lt;&amp;&gt;"'&#13;</a>`,
	},
	{
		name: "escaped quotes in attributes kept",
		in:   `<a v="&quot;x&quot;" w='&apos;y&apos;'/>`,
		edit: func(d *Document) error { return d.SetAttr("/a", "z", "1") },
		want: `<a v="&quot;x&quot;" w='&apos;y&apos;' z="1"/>`,
	},
	{
		name: "XML declaration kept",
		in:   "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n<a>x</a>\n",
		edit: func(d *Document) error { return d.Set("/a", "y") },
		want: "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n<a>y</a>\n",
	},
	{
		name: "XML declaration with spaces around = kept",
		in:   "<?xml version = \"1.0\"\tencoding= 'utf-8' ?><a>x</a>",
		edit: func(d *Document) error { return d.Set("/a", "y") },
		want: "<?xml version = \"1.0\"\tencoding= 'utf-8' ?><a>y</a>",
	},
	{
		name: "no XML declaration added",
		in:   "<a>x</a>",
		edit: func(d *Document) error { return d.Set("/a", "y") },
		want: "<a>y</a>",
	},
	{
		name: "whitespace text nodes kept",
		in:   "<a>\n\t<b>  </b>\n  \r\n<c/> </a>\n",
		edit: func(d *Document) error { return d.SetAttr("/a/c", "k", "v") },
		want: "<a>\n\t<b>  </b>\n  \r\n<c k='v'/> </a>\n",
	},
	{
		name: "empty element written with an end tag kept",
		in:   `<a><b></b><c/></a>`,
		edit: func(d *Document) error { return d.SetAttr("/a/b", "k", "v") },
		want: `<a><b k='v'></b><c/></a>`,
	},
	{
		name: "quotes kept: new attributes follow the element's quotes",
		in:   `<a><b x="1"/><c y='2'/></a>`,
		edit: func(d *Document) error {
			if err := d.SetAttr("/a/b", "n", "3"); err != nil {
				return err
			}
			return d.SetAttr("/a/c", "n", "4")
		},
		want: `<a><b x="1" n="3"/><c y='2' n='4'/></a>`,
	},
	{
		name: "DOCTYPE kept",
		in:   "<!DOCTYPE a>\n<a>x</a>",
		edit: func(d *Document) error { return d.Set("/a", "y") },
		want: "<!DOCTYPE a>\n<a>y</a>",
	},
	{
		name: "empty element gaining a child gets an end tag and indentation",
		in:   "<a>\n  <b/>\n</a>",
		edit: func(d *Document) error { _, err := d.AddElement("/a/b", "c"); return err },
		want: "<a>\n  <b>\n    <c/>\n  </b>\n</a>",
	},
}

func TestFidelity(t *testing.T) {
	for _, tc := range fidelityCases {
		t.Run(tc.name, func(t *testing.T) {
			doc := mustParse(t, tc.in)
			assert.Equal(t, tc.in, doc.serialize(doc.top), "no edit")
			assert.False(t, doc.Changed())
			if tc.edit == nil {
				return
			}
			require.NoError(t, tc.edit(doc))
			got := string(doc.Bytes())
			assert.Equal(t, tc.want, got)
			assert.True(t, doc.Changed())
			// What was written reads back as what was set.
			again := mustParse(t, got)
			c1, err := canonical([]byte(got))
			require.NoError(t, err)
			c2, err := canonical([]byte(again.serialize(again.top)))
			require.NoError(t, err)
			assert.Equal(t, string(c1), string(c2))
		})
	}
}

// TestXMLQueryOutputLoses documents why the package has its own serializer: xmlquery's OutputXML changes
// these documents without any edit.
func TestXMLQueryOutputLoses(t *testing.T) {
	for _, tc := range fidelityCases {
		if !tc.xmlqueryLoses {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			n, err := xmlquery.Parse(strings.NewReader(tc.in))
			require.NoError(t, err)
			theirs, err := canonical([]byte(n.OutputXML(false)))
			require.NoError(t, err)
			want, err := canonical([]byte(tc.in))
			require.NoError(t, err)
			assert.NotEqual(t, string(want), string(theirs), "xmlquery now keeps this: the case can go")
		})
	}
}

func TestEditedValuesReadBack(t *testing.T) {
	values := []string{"plain", "a\nb", "\t\r\n", `"'<>&`, "]]>", "é ☃ 𝄞", " lead and trail "}
	for _, quote := range []string{`'`, `"`} {
		for _, v := range values {
			doc := mustParse(t, "<a v="+quote+"x"+quote+"><b>x</b></a>")
			require.NoError(t, doc.SetAttr("/a", "v", v))
			require.NoError(t, doc.Set("/a/b", v))
			again := mustParse(t, string(doc.Bytes()))
			got, err := again.String("/a/@v")
			require.NoError(t, err)
			assert.Equal(t, v, got, "attribute, quote %s", quote)
			got, err = again.String("/a/b")
			require.NoError(t, err)
			assert.Equal(t, v, got, "text")
		}
	}
}

// TestEditedCDATAReadsBack: a value set on a CDATA text node reads back as set, carriage returns
// included (a parser turns a CR inside CDATA into a newline, so such a value is written as text).
func TestEditedCDATAReadsBack(t *testing.T) {
	for _, v := range []string{"a\r\nb\rc", "plain", "]]>", "a\nb"} {
		doc := mustParse(t, "<domain><description><![CDATA[x]]></description></domain>")
		n, err := doc.Node("/domain/description/text()")
		require.NoError(t, err)
		require.NoError(t, n.SetValue(v))
		again := mustParse(t, string(doc.Bytes()))
		got, err := again.String("/domain/description")
		require.NoError(t, err)
		assert.Equal(t, v, got, "written as %q", doc.Bytes())
		require.NoError(t, stdxml.Refusal(doc.Bytes()))
	}
}

// TestDepthBound: a document nested past the bound is refused with an error, not a stack overflow when
// it is written back (a fatal error that no recover catches).
func TestDepthBound(t *testing.T) {
	deep := func(n int) string {
		return "<domain>" + strings.Repeat("<a>", n) + strings.Repeat("</a>", n) + "</domain>"
	}
	doc, err := Parse([]byte(deep(maxDepth - 1)))
	require.NoError(t, err, "maxDepth levels, the root included, are fine")
	require.NoError(t, doc.SetAttr("/domain", "x", "1"))
	out := string(doc.Bytes())
	assert.True(t, strings.HasPrefix(out, `<domain x=`), "%.30s", out)

	_, err = Parse([]byte(deep(1_000_000)))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "elements nested more than 10000 deep")
}

func TestParseNormalizesAttributesLikeLibvirt(t *testing.T) {
	doc := mustParse(t, "<a v='1\n2\t3\r\n4' w='1&#10;2'/>")
	v, err := doc.String("/a/@v")
	require.NoError(t, err)
	assert.Equal(t, "1 2 3 4", v, "literal whitespace in an attribute reads as spaces")
	w, err := doc.String("/a/@w")
	require.NoError(t, err)
	assert.Equal(t, "1\n2", w, "a character reference reads as itself")
}

// TestDoctypeForms: the DOCTYPE shapes XML 1.0 allows are kept byte for byte, and encoding/xml reads
// each of them too.
func TestDoctypeForms(t *testing.T) {
	for _, in := range []string{
		"<!DOCTYPE a><a/>",
		"<!DOCTYPE  a:b ><a:b xmlns:a='u'/>",
		`<!DOCTYPE a SYSTEM "a.dtd"><a/>`,
		`<!DOCTYPE a PUBLIC "-//x//y" 'a>b.dtd'><a/>`,
		`<!DOCTYPE a [<!ELEMENT a (#PCDATA)> <!-- a > comment ] --> <!ATTLIST a k CDATA "x>]">]><a/>`,
		"<!DOCTYPE a[]>\n<a/>",
	} {
		t.Run(in, func(t *testing.T) {
			d, err := Parse([]byte(in))
			require.NoError(t, err)
			assert.Equal(t, in, string(d.Bytes()))
			assert.NoError(t, stdxml.Refusal([]byte(in)))
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, in, msg string }{
		{"empty", "", "empty document"},
		{"not closed", "<a><b></b>", "<a> is not closed"},
		{"mismatched end tag", "<a></b>", "unexpected end tag </b>"},
		{"two roots", "<a/><b/>", "second root element <b>"},
		{"text outside", "<a/>x", "text outside the root element"},
		{"undeclared prefix", "<x:a/>", `undeclared namespace prefix "x"`},
		{"repeated attribute", "<a k='1' k='2'/>", "attribute k repeated"},
		{"repeated namespaced attribute", "<a xmlns:p='u' xmlns:q='u' p:k='1' q:k='2'/>", "attribute q:k repeated"},
		{"declaration not first", " <?xml version='1.0'?><a/>", "XML declaration not at the start"},
		{"no root", "<!-- only -->", "no root element"},
		{"control character in a comment", "<a/><!--\x10-->", "a character XML does not allow"},
		{"invalid UTF-8", "<a>\xff</a>", "a character XML does not allow"},
		{"declaration without version", "<?xml ?><a/>", "malformed XML declaration"},
		{"declaration with an unquoted value", "<?xml version=1.0?><a/>", "malformed XML declaration"},
		{"declaration with junk", "<?xml version='1.0' junk?><a/>", "malformed XML declaration"},
		{"declaration with another encoding", "<?xml version='1.0' encoding= 'latin1'?><a/>", "encoding UTF-8"},
		{"processing instruction target run into its data", "<?A!?><a/>", "bad processing instruction target \"A!\""},
		{"bad entity", "<a>&nope;</a>", "invalid entity or character reference"},
		{"broken syntax", "<a><</a>", "line 1"},
		{"attributes without a space between", `<a b="1"c="2"/>`, "expected a space before an attribute"},
		{"unquoted attribute", "<a b=1/>", "unquoted value of attribute b"},
		{"< in an attribute", "<a b='<'/>", "< in the value of attribute b"},
		{"attribute without value", "<a b/>", "attribute b without a value"},
		{"unterminated comment", "<a><!-- x</a>", "unterminated comment"},
		{"-- in a comment", "<a><!-- x -- y --></a>", `"--" inside a comment`},
		{"reference to a character XML does not allow", "<a>&#0;</a>", "invalid entity or character reference"},
		{"reference to a surrogate", "<a>&#xD800;</a>", "invalid entity or character reference"},
		{"]]> in text", "<a>]]></a>", "]]> outside a CDATA section"},
		{"bad name", "<1a/>", `bad name "1a"`},
		{"two colons", "<a:b:c/>", `bad name "a:b:c"`},
		{"unterminated start tag", "<a b='1'", "unterminated start tag <a"},
		{"second line", "<a>\n</b>", "line 2"},
		{"DOCTYPE without a name", "<!DOCTYPE<><a></a>", "<!DOCTYPE must be followed by whitespace"},
		{"DOCTYPE with a bad name", "<!DOCTYPE 1a><a/>", `bad name "1a" in <!DOCTYPE>`},
		{"< after the DOCTYPE name", "<!DOCTYPE a <b>><a/>", `unexpected '<' in <!DOCTYPE>`},
		{"> alone in the internal subset", "<!DOCTYPE a [ > ]><a/>", "unexpected '>' in <!DOCTYPE>"},
		{"unbalanced declaration", "<!DOCTYPE a [<!ELEMENT a ANY]><a/>", "unterminated internal subset"},
		{"unterminated literal", `<!DOCTYPE a SYSTEM "x><a/>`, "unterminated literal in <!DOCTYPE>"},
		{"two internal subsets", "<!DOCTYPE a [] []><a/>", `unexpected '[' in <!DOCTYPE>`},
		{"unterminated DOCTYPE", "<!DOCTYPE a", "unterminated <!DOCTYPE>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
			assert.NotContains(t, err.Error(), "\n")
			var se *SyntaxError
			assert.ErrorAs(t, err, &se)
		})
	}
}
