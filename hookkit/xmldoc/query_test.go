package xmldoc

import (
	"testing"

	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/hookkit/hookkittest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const nsDomain = `<domain type='kvm' xmlns:ns0='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>vm1</name>
  <memory unit='KiB'>1048576</memory>
  <vcpu>2</vcpu>
  <features><acpi/></features>
  <metadata>
    <m:cfg xmlns:m='urn:example:hook' port='8080'><m:owner>ops</m:owner></m:cfg>
  </metadata>
  <devices>
    <disk type='file'><source file='/a.qcow2'/><target dev='vda'/></disk>
    <disk type='block'><source dev='/dev/sdb'/><target dev='vdb'/></disk>
  </devices>
  <ns0:commandline>
    <ns0:arg value='-s'/>
    <ns0:arg value='-S'/>
  </ns0:commandline>
</domain>`

func TestQueryNamespacesMatchByURI(t *testing.T) {
	doc := mustParse(t, nsDomain)
	// The document writes ns0:, the query says qemu: (bound by default).
	args, err := doc.Nodes("/domain/qemu:commandline/qemu:arg/@value")
	require.NoError(t, err)
	require.Len(t, args, 2)
	assert.Equal(t, "-s", args[0].Value())
	assert.True(t, args[0].IsAttr())
	assert.Equal(t, "value", args[0].Name())

	n, err := doc.Node("/domain/qemu:commandline")
	require.NoError(t, err)
	assert.Equal(t, "ns0:commandline", n.Name(), "names come back as the document writes them")
	assert.Equal(t, QEMUNamespace, n.NamespaceURI())
	assert.Equal(t, "commandline", n.LocalName())

	// A prefix bound by the caller.
	doc.Bind("hook", "urn:example:hook")
	owner, err := doc.String("/domain/metadata/hook:cfg/hook:owner")
	require.NoError(t, err)
	assert.Equal(t, "ops", owner)

	// The document's own prefix does not match when bound elsewhere by the caller.
	doc.Bind("m", "urn:other")
	none, err := doc.Nodes("/domain/metadata/m:cfg")
	require.NoError(t, err)
	assert.Empty(t, none)
}

func TestQueryTypedResults(t *testing.T) {
	doc := mustParse(t, nsDomain)
	tests := []struct {
		expr string
		str  string
		num  int
		numE string // Int error, when it fails
		b    bool
	}{
		{expr: "/domain/name", str: "vm1", numE: `"vm1" is not an integer`, b: true},
		{expr: "/domain/memory", str: "1048576", num: 1048576, b: true},
		{expr: "/domain/memory/@unit", str: "KiB", numE: "not an integer", b: true},
		{expr: "count(/domain/devices/disk)", str: "2", num: 2, b: true},
		{expr: "/domain/vcpu * 2", str: "4", num: 4, b: true},
		{expr: "/domain/vcpu div 4", str: "0.5", numE: "0.5 is not an integer", b: true},
		{expr: "/domain/missing", str: "", numE: "no match", b: false},
		{expr: "/domain/features/acpi", str: "", numE: `"" is not an integer`, b: true},
		{expr: "/domain/@type = 'kvm'", str: "true", numE: "boolean", b: true},
		{expr: "concat(/domain/name, '-x')", str: "vm1-x", numE: "not an integer", b: true},
		{expr: "string(/domain/missing)", str: "", numE: "not an integer", b: false},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			s, err := doc.String(tc.expr)
			require.NoError(t, err)
			assert.Equal(t, tc.str, s)
			n, err := doc.Int(tc.expr)
			if tc.numE != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.numE)
				assert.Contains(t, err.Error(), tc.expr)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tc.num, n)
			}
			b, err := doc.Bool(tc.expr)
			require.NoError(t, err)
			assert.Equal(t, tc.b, b)
		})
	}
}

func TestQueryErrorsNameTheExpression(t *testing.T) {
	doc := mustParse(t, nsDomain)
	tests := []struct{ expr, msg string }{
		{"/domain/devices/disk[", "bad XPath expression"},
		{"", "empty expression"},
		{"/domain/nope:thing", "nope"},
		{"count(", "bad XPath expression"},
		{"/domain/name[unknownfn()]", "bad XPath expression"},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := doc.String(tc.expr)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
			assert.Contains(t, err.Error(), `"`+tc.expr+`"`)
			var ee *ExprError
			assert.ErrorAs(t, err, &ee)
			assert.Equal(t, tc.expr, ee.Expr)
		})
	}
	_, err := doc.Nodes("count(/domain/devices/disk)")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "evaluates to a number, not to nodes")
	_, err = doc.Node("/domain/none")
	assert.ErrorIs(t, err, ErrNoMatch)
}

func TestQueryRelativeToANode(t *testing.T) {
	doc := mustParse(t, nsDomain)
	disks, err := doc.Nodes("/domain/devices/disk")
	require.NoError(t, err)
	require.Len(t, disks, 2)
	dev, err := disks[1].String("target/@dev")
	require.NoError(t, err)
	assert.Equal(t, "vdb", dev)
	// Absolute paths from a node still start at the document root.
	name, err := disks[1].String("/domain/name")
	require.NoError(t, err)
	assert.Equal(t, "vm1", name)
	pos, err := disks[1].Int("count(preceding-sibling::disk)")
	require.NoError(t, err)
	assert.Equal(t, 1, pos)
	parent := disks[1].Parent()
	require.NotNil(t, parent)
	assert.Equal(t, "devices", parent.Name())
	typ, ok := disks[0].Attr("type")
	assert.True(t, ok)
	assert.Equal(t, "file", typ)
}

func TestQueryNetworkHookData(t *testing.T) {
	doc, err := Parse(hookkittest.Fixture(event.Network, "port-created"))
	require.NoError(t, err)
	net, err := doc.Network()
	require.NoError(t, err)
	bridge, err := net.String("bridge/@name")
	require.NoError(t, err)
	assert.Equal(t, "virbr-hook", bridge)
	port, err := doc.Port()
	require.NoError(t, err)
	owner, err := port.String("owner/name")
	require.NoError(t, err)
	assert.Equal(t, "hooktest-net", owner)
	plug, err := port.String("plug/@bridge")
	require.NoError(t, err)
	assert.Equal(t, "virbr-hook", plug)
	_, err = doc.Domain()
	assert.ErrorIs(t, err, ErrNoMatch)

	started, err := Parse(hookkittest.Fixture(event.Network, "started"))
	require.NoError(t, err)
	_, err = started.Port()
	assert.ErrorIs(t, err, ErrNoMatch)
	assert.Contains(t, err.Error(), "no <networkport> in the <hookData> document")

	dom, err := Parse(hookkittest.Fixture(event.QEMU, "restore"))
	require.NoError(t, err)
	root, err := dom.Domain()
	require.NoError(t, err)
	assert.Equal(t, "domain", root.Name())
}

// TestQueryFromAnAttribute: a query relative to an attribute node starts at the attribute: "." is its
// value and ".." its element (it started at the element).
func TestQueryFromAnAttribute(t *testing.T) {
	doc := mustParse(t, `<domain><devices><disk type='file'><source file='/a.qcow2'/><target dev='vda'/></disk></devices></domain>`)
	f, err := doc.Node("/domain/devices/disk/source/@file")
	require.NoError(t, err)
	for expr, want := range map[string]string{
		"../../target/@dev": "vda",
		".":                 "/a.qcow2",
		"name()":            "file",
		"local-name(..)":    "source",
	} {
		got, err := f.String(expr)
		require.NoError(t, err, expr)
		assert.Equal(t, want, got, expr)
	}
}

// TestQueryPrefixWildcard: antchfx/xpath matches nothing for "prefix:*", so it is refused instead of
// silently selecting nothing; the namespace-uri() form it points to works.
func TestQueryPrefixWildcard(t *testing.T) {
	doc := mustParse(t, nsDomain)
	_, err := doc.Nodes("/domain/qemu:commandline/qemu:*")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "qemu:* is not supported")
	_, err = doc.Remove("/domain/qemu:commandline/qemu:*")
	assert.Error(t, err)
	args, err := doc.Nodes("/domain/qemu:commandline/*[namespace-uri()='http://libvirt.org/schemas/domain/qemu/1.0']")
	require.NoError(t, err)
	assert.Len(t, args, 2)
	_, err = doc.Nodes("/domain/child::*[name()='a:*']") // in a string literal, or an axis: not a wildcard test
	assert.NoError(t, err)
}
