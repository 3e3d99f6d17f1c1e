package xmldoc

import (
	"encoding/xml"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const devicesDomain = `<domain type='kvm'>
  <name>vm1</name>
  <uuid>ae77e974-8cd8-45d5-b11f-8ff5bba678ca</uuid>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/vm1.qcow2'/>
      <backingStore type='file'>
        <format type='qcow2'/>
        <source file='/var/lib/libvirt/images/base.qcow2'/>
        <backingStore/>
      </backingStore>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='block' device='disk'>
      <source dev='/dev/vg/vm1'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <target dev='sda' bus='sata'/>
    </disk>
    <disk type='network' device='disk'>
      <source protocol='rbd' name='pool/vm1'/>
      <target dev='vdc' bus='virtio'/>
    </disk>
    <interface type='bridge'>
      <mac address='52:54:00:AA:BB:CC'/>
      <source bridge='br0'/>
    </interface>
    <interface type='network'>
      <mac address='52:54:00:11:22:33'/>
      <source network='default' bridge='virbr0'/>
    </interface>
  </devices>
</domain>
`

func TestDiskSource(t *testing.T) {
	doc := mustParse(t, devicesDomain)
	for dev, want := range map[string]string{"vda": "/var/lib/libvirt/images/vm1.qcow2", "vdb": "/dev/vg/vm1", "sda": ""} {
		got, err := doc.DiskSource(dev)
		require.NoError(t, err)
		assert.Equal(t, want, got, dev)
	}
	_, err := doc.DiskSource("vdc")
	assert.ErrorContains(t, err, `disk vdc has type "network": its source is not a path`)
	_, err = doc.DiskSource("vdz")
	assert.ErrorIs(t, err, ErrNoMatch)

	require.NoError(t, doc.SetDiskSource("vda", "/srv/vm1.qcow2"))
	require.NoError(t, doc.SetDiskSource("vdb", "/dev/vg2/vm1"))
	require.NoError(t, doc.SetDiskSource("sda", "/srv/install.iso"))
	assert.Error(t, doc.SetDiskSource("vdc", "/x"))
	out := string(doc.Bytes())
	assert.Contains(t, out, "<source file='/srv/vm1.qcow2'/>")
	assert.Contains(t, out, "<source dev='/dev/vg2/vm1'/>")
	assert.Contains(t, out, "      <driver name='qemu' type='raw'/>\n      <source file='/srv/install.iso'/>\n      <target dev='sda' bus='sata'/>",
		"a CD-ROM without a source gets one after <driver>, indented")
	assert.Contains(t, out, "<source file='/var/lib/libvirt/images/base.qcow2'/>", "the backing store is not the disk's source")
}

func TestReplaceDiskSource(t *testing.T) {
	doc := mustParse(t, devicesDomain)
	n, err := doc.ReplaceDiskSource("/var/lib/libvirt/images/base.qcow2", "/nfs/base.qcow2")
	require.NoError(t, err)
	assert.Equal(t, 1, n, "found in the backing chain")
	n, err = doc.ReplaceDiskSource("/dev/vg/vm1", "/dev/vg9/vm1")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	n, err = doc.ReplaceDiskSource("/nowhere", "/x")
	require.NoError(t, err)
	assert.Zero(t, n)
	out := string(doc.Bytes())
	assert.Contains(t, out, "<source file='/nfs/base.qcow2'/>")
	assert.Contains(t, out, "<source dev='/dev/vg9/vm1'/>")
}

func TestInterfaceBridge(t *testing.T) {
	doc := mustParse(t, devicesDomain)
	br, err := doc.InterfaceBridge("52:54:00:aa:bb:cc")
	require.NoError(t, err)
	assert.Equal(t, "br0", br, "MAC addresses compare without regard to case")
	br, err = doc.InterfaceBridge("52:54:00:11:22:33")
	require.NoError(t, err)
	assert.Equal(t, "virbr0", br)
	_, err = doc.InterfaceBridge("00:00:00:00:00:00")
	assert.ErrorIs(t, err, ErrNoMatch)

	require.NoError(t, doc.SetInterfaceBridge("52:54:00:AA:BB:CC", "vmbr0"))
	assert.ErrorContains(t, doc.SetInterfaceBridge("52:54:00:11:22:33", "x"), `has type "network", not bridge`)
	assert.Contains(t, string(doc.Bytes()), "<source bridge='vmbr0'/>")

	n, err := doc.ReplaceBridge("vmbr0", "br9")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	n, err = doc.ReplaceBridge("virbr0", "br9")
	require.NoError(t, err)
	assert.Zero(t, n, "network interfaces are left alone")
	assert.Contains(t, string(doc.Bytes()), "<source bridge='br9'/>")
}

func TestDescription(t *testing.T) {
	doc := mustParse(t, devicesDomain)
	d, err := doc.Description()
	require.NoError(t, err)
	assert.Empty(t, d)
	require.NoError(t, doc.SetDescription("restored by hook\n<ok> & done"))
	assert.Contains(t, string(doc.Bytes()),
		"  <uuid>ae77e974-8cd8-45d5-b11f-8ff5bba678ca</uuid>\n  <description>restored by hook\n&lt;ok&gt; &amp; done</description>\n  <devices>")
	again := mustParse(t, string(doc.Bytes()))
	d, err = again.Description()
	require.NoError(t, err)
	assert.Equal(t, "restored by hook\n<ok> & done", d)
	require.NoError(t, again.SetDescription("second"))
	assert.Contains(t, string(again.Bytes()), "<description>second</description>")
}

type hookCfg struct {
	XMLName xml.Name `xml:"cfg"`
	Port    int      `xml:"port,attr"`
	Owner   string   `xml:"owner"`
}

func TestMetadata(t *testing.T) {
	const ns = "urn:example:hook"
	doc := mustParse(t, devicesDomain)
	var cfg hookCfg
	found, err := doc.Metadata(ns, &cfg)
	require.NoError(t, err)
	assert.False(t, found)

	require.NoError(t, doc.SetMetadata(ns, hookCfg{Port: 8080, Owner: "ops"}))
	out := string(doc.Bytes())
	assert.Contains(t, out, "  <uuid>ae77e974-8cd8-45d5-b11f-8ff5bba678ca</uuid>\n  <metadata>\n    <app:cfg xmlns:app='urn:example:hook' port='8080'><owner>ops</owner></app:cfg>\n  </metadata>\n")

	again := mustParse(t, out)
	found, err = again.Metadata(ns, &cfg)
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, hookCfg{XMLName: xml.Name{Space: ns, Local: "cfg"}, Port: 8080, Owner: "ops"}, cfg)

	// Replaced in place; other metadata is kept.
	require.NoError(t, again.SetMetadata("urn:other", struct {
		XMLName xml.Name `xml:"urn:other o"`
	}{}))
	require.NoError(t, again.SetMetadata(ns, hookCfg{Port: 9090}))
	out = string(again.Bytes())
	assert.Contains(t, out, "<metadata>\n    <app:cfg xmlns:app='urn:example:hook' port='9090'><owner/></app:cfg>\n    <o xmlns='urn:other'/>\n  </metadata>")

	removed, err := again.RemoveMetadata(ns)
	require.NoError(t, err)
	assert.True(t, removed)
	assert.NotContains(t, string(again.Bytes()), "cfg")

	assert.ErrorContains(t, again.SetMetadata(ns, struct {
		XMLName xml.Name `xml:"urn:wrong x"`
	}{}), `namespace "urn:wrong"`)

	fresh := mustParse(t, devicesDomain)
	assert.Error(t, fresh.SetMetadata(ns, struct {
		XMLName xml.Name `xml:"urn:wrong x"`
	}{}))
	assert.False(t, fresh.Changed(), "a failed SetMetadata leaves no empty <metadata>")
}

func TestMetadataWithPrefixDeclaredOnTheDomain(t *testing.T) {
	b, err := os.ReadFile("testdata/domain-5k.xml")
	require.NoError(t, err)
	doc := mustParse(t, string(b))
	var os struct {
		OS struct {
			ID string `xml:"id,attr"`
		} `xml:"os"`
	}
	found, err := doc.Metadata("http://libosinfo.org/xmlns/libvirt/domain/1.0", &os)
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, "http://fedoraproject.org/fedora/29", os.OS.ID)

	doc = mustParse(t, `<domain xmlns:h="urn:h"><name>x</name><metadata><h:c v="1"/></metadata></domain>`)
	var c struct {
		V string `xml:"v,attr"`
	}
	found, err = doc.Metadata("urn:h", &c)
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, "1", c.V)
	require.NoError(t, doc.SetMetadata("urn:h", struct {
		XMLName xml.Name `xml:"c"`
		V       string   `xml:"v,attr"`
	}{V: "2"}))
	assert.Equal(t, `<domain xmlns:h="urn:h"><name>x</name><metadata><h:c v="2"/></metadata></domain>`, string(doc.Bytes()))
}
