package xmldoc

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const indented = "<domain>\n  <name>vm1</name>\n  <devices>\n    <disk type='file'>\n      <source file='/a'/>\n    </disk>\n  </devices>\n</domain>\n"

func TestEditByXPath(t *testing.T) {
	tests := []struct {
		name string
		edit func(d *Document) error
		want string
	}{
		{"set element text", func(d *Document) error { return d.Set("/domain/name", "vm2") },
			"<domain>\n  <name>vm2</name>\n  <devices>\n    <disk type='file'>\n      <source file='/a'/>\n    </disk>\n  </devices>\n</domain>\n"},
		{"set attribute", func(d *Document) error { return d.Set("//source/@file", "/b") },
			"<domain>\n  <name>vm1</name>\n  <devices>\n    <disk type='file'>\n      <source file='/b'/>\n    </disk>\n  </devices>\n</domain>\n"},
		{"add attribute", func(d *Document) error { return d.SetAttr("//disk", "device", "disk") },
			"<domain>\n  <name>vm1</name>\n  <devices>\n    <disk type='file' device='disk'>\n      <source file='/a'/>\n    </disk>\n  </devices>\n</domain>\n"},
		{"remove attribute", func(d *Document) error { _, err := d.Remove("//disk/@type"); return err },
			"<domain>\n  <name>vm1</name>\n  <devices>\n    <disk>\n      <source file='/a'/>\n    </disk>\n  </devices>\n</domain>\n"},
		{"remove element with its indentation", func(d *Document) error { _, err := d.Remove("//disk"); return err },
			"<domain>\n  <name>vm1</name>\n  <devices>\n  </devices>\n</domain>\n"},
		{"add element indented like its siblings", func(d *Document) error {
			n, err := d.AddElement("/domain/devices", "disk")
			if err != nil {
				return err
			}
			return n.SetAttr("type", "block")
		}, "<domain>\n  <name>vm1</name>\n  <devices>\n    <disk type='file'>\n      <source file='/a'/>\n    </disk>\n    <disk type='block'/>\n  </devices>\n</domain>\n"},
		{"add XML fragment", func(d *Document) error {
			_, err := d.AddXML("/domain/devices/disk", "<target dev='vda' bus='virtio'/>")
			return err
		}, "<domain>\n  <name>vm1</name>\n  <devices>\n    <disk type='file'>\n      <source file='/a'/>\n      <target dev='vda' bus='virtio'/>\n    </disk>\n  </devices>\n</domain>\n"},
		{"add namespaced element with the bound prefix declared", func(d *Document) error {
			n, err := d.AddElement("/domain", "qemu:commandline")
			if err != nil {
				return err
			}
			_, err = n.AddXML("<qemu:arg value='-s'/>")
			return err
		}, "<domain>\n  <name>vm1</name>\n  <devices>\n    <disk type='file'>\n      <source file='/a'/>\n    </disk>\n  </devices>\n  <qemu:commandline xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n    <qemu:arg value='-s'/>\n  </qemu:commandline>\n</domain>\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := mustParse(t, indented)
			require.NoError(t, tc.edit(doc))
			assert.Equal(t, tc.want, string(doc.Bytes()))
			assert.True(t, doc.Changed())
			_, err := Parse(doc.Bytes())
			require.NoError(t, err)
		})
	}
}

func TestEditUsesTheDocumentsPrefix(t *testing.T) {
	doc := mustParse(t, `<domain xmlns:ns0='http://libvirt.org/schemas/domain/qemu/1.0'><ns0:commandline/></domain>`)
	_, err := doc.AddXML("/domain/qemu:commandline", `<qemu:arg value='-s'/>`)
	require.NoError(t, err)
	n, err := doc.AddElement("/domain/qemu:commandline", "qemu:env")
	require.NoError(t, err)
	require.NoError(t, n.SetAttr("name", "X"))
	assert.Equal(t, `<domain xmlns:ns0='http://libvirt.org/schemas/domain/qemu/1.0'><ns0:commandline><qemu:arg xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0' value='-s'/><ns0:env name='X'/></ns0:commandline></domain>`,
		string(doc.Bytes()))
	args, err := doc.Nodes("//qemu:arg | //qemu:env")
	require.NoError(t, err)
	assert.Len(t, args, 2)

	// A namespaced attribute: the document's prefix where one is in scope, else the bound one declared.
	doc = mustParse(t, `<a xmlns:x='urn:x'><b/></a>`)
	doc.Bind("p", "urn:x")
	doc.Bind("q", "urn:q")
	require.NoError(t, doc.SetAttr("/a/b", "p:k", "1"))
	require.NoError(t, doc.SetAttr("/a/b", "q:k", "2"))
	assert.Equal(t, `<a xmlns:x='urn:x'><b x:k='1' xmlns:q='urn:q' q:k='2'/></a>`, string(doc.Bytes()))
	v, ok := (mustNode(t, doc, "/a/b")).Attr("q:k")
	assert.True(t, ok)
	assert.Equal(t, "2", v)
}

func mustNode(t *testing.T, d *Document, expr string) *Node {
	t.Helper()
	n, err := d.Node(expr)
	require.NoError(t, err)
	return n
}

func TestEditErrors(t *testing.T) {
	doc := mustParse(t, indented)
	tests := []struct {
		name string
		edit func() error
		msg  string
	}{
		{"set matches nothing", func() error { return doc.Set("/domain/nothing", "x") }, "no match"},
		{"set attr matches nothing", func() error { return doc.SetAttr("/domain/nothing", "k", "v") }, "no match"},
		{"add to several", func() error { _, err := doc.AddElement("//*", "x"); return err }, "want one"},
		{"bad element name", func() error { _, err := doc.AddElement("/domain", "1x"); return err }, "not an element name"},
		{"unbound prefix", func() error { _, err := doc.AddElement("/domain", "zz:x"); return err }, `prefix "zz" is neither bound`},
		{"bad attribute name", func() error { return doc.SetAttr("/domain", "a b", "v") }, "not an attribute name"},
		{"xmlns is not an attribute to set", func() error { return doc.SetAttr("/domain", "xmlns:x", "v") }, "not an attribute name"},
		{"control character", func() error { return doc.Set("/domain/name", "a\x00b") }, "cannot carry at byte 1"},
		{"invalid UTF-8", func() error { return doc.SetAttr("/domain", "k", "a\xffb") }, "cannot carry"},
		{"bad fragment", func() error { _, err := doc.AddXML("/domain", "<a>"); return err }, "bad XML fragment"},
		{"fragment without element", func() error { _, err := doc.AddXML("/domain", "text"); return err }, "holds no element"},
		{"fragment with a declaration", func() error { _, err := doc.AddXML("/domain", "<?xml version='1.0'?><a/>"); return err }, "XML declaration"},
		{"remove the root", func() error { _, err := doc.Remove("/domain"); return err }, "document element"},
		{"comment with --", func() error {
			d := mustParse(t, "<a><!-- c --></a>")
			return mustNode(t, d, "//comment()").SetValue("x--y")
		}, `cannot contain "--"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.edit()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
	assert.False(t, doc.Changed(), "failed edits change nothing")
	assert.Equal(t, indented, string(doc.Bytes()))
}

func TestChangedTracksContentNotCalls(t *testing.T) {
	doc := mustParse(t, indented)
	assert.False(t, doc.Changed())
	require.NoError(t, doc.Set("/domain/name", "vm1"))
	assert.False(t, doc.Changed(), "setting the same value is no change")
	require.NoError(t, doc.Set("/domain/name", "vm2"))
	assert.True(t, doc.Changed())
	require.NoError(t, doc.Set("/domain/name", "vm1"))
	assert.False(t, doc.Changed(), "setting it back is no change")
	assert.Equal(t, indented, string(doc.Bytes()))

}

func TestNodeEdits(t *testing.T) {
	doc := mustParse(t, `<a><b k='1'>text<c/></b><!-- note --></a>`)
	b := mustNode(t, doc, "/a/b")
	removed, err := b.RemoveAttr("k")
	require.NoError(t, err)
	assert.True(t, removed)
	removed, err = b.RemoveAttr("k")
	require.NoError(t, err)
	assert.False(t, removed)
	require.NoError(t, b.SetValue("only text"))
	require.NoError(t, mustNode(t, doc, "//comment()").SetValue(" changed "))
	assert.Equal(t, `<a><b>only text</b><!-- changed --></a>`, string(doc.Bytes()))
	assert.Equal(t, `<b>only text</b>`, b.XML())
	require.NoError(t, b.SetAttr("q", `"x"`))
	assert.Equal(t, `q="&quot;x&quot;"`, mustNode(t, doc, "/a/b/@q").XML())
	require.NoError(t, mustNode(t, doc, "/a/b/@q").Remove())
	b = mustNode(t, doc, "/a/b")
	require.NoError(t, b.Remove())
	require.NoError(t, b.Remove(), "removing twice is harmless")
	assert.Equal(t, `<a><!-- changed --></a>`, string(doc.Bytes()))
}
