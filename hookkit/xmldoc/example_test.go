package xmldoc_test

import (
	"encoding/xml"
	"fmt"

	"github.com/hookkit-dev/hookkit/hookkit"
	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/hookkit/hookkittest"
	"github.com/hookkit-dev/hookkit/hookkit/xmldoc"
)

const guest = `<domain type='kvm'>
  <name>guest</name>
  <devices>
    <disk type='file' device='disk'>
      <source file='/var/lib/libvirt/images/guest.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
`

// A restore filter that moves a disk: libvirt gets the whole document back only because it changed.
func ExampleFilter() {
	r := router()
	r.OnDomainRestore(xmldoc.Filter(func(dom *hookkit.Domain, doc *xmldoc.Document) error {
		_, err := doc.ReplaceDiskSource("/var/lib/libvirt/images/"+dom.Name()+".qcow2", "/srv/"+dom.Name()+".qcow2")
		return err
	}))
	res := hookkittest.Run(r, hookkittest.Event(event.QEMU, "restore").WithStdin([]byte(guest)))
	fmt.Print(res.Code, "\n", res.Stdout)
	// Output:
	// 0
	// <domain type='kvm'>
	//   <name>guest</name>
	//   <devices>
	//     <disk type='file' device='disk'>
	//       <source file='/srv/guest.qcow2'/>
	//       <target dev='vda' bus='virtio'/>
	//     </disk>
	//   </devices>
	// </domain>
}

// Prefixes in queries match by namespace URI: the document writes ns0:, the query says qemu:.
func ExampleDocument_Nodes() {
	doc, err := xmldoc.Parse([]byte(`<domain xmlns:ns0='http://libvirt.org/schemas/domain/qemu/1.0'>
  <ns0:commandline><ns0:arg value='-s'/><ns0:arg value='-S'/></ns0:commandline>
</domain>`))
	if err != nil {
		fmt.Println(err)
		return
	}
	args, err := doc.Nodes("/domain/qemu:commandline/qemu:arg/@value")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, a := range args {
		fmt.Println(a.Value())
	}
	// Output:
	// -s
	// -S
}

// A network hook's stdin is a <hookData>: Network and Port return its parts for relative queries.
func ExampleDocument_Network() {
	doc, err := xmldoc.Parse(hookkittest.Fixture(event.Network, "port-created"))
	if err != nil {
		fmt.Println(err)
		return
	}
	net, _ := doc.Network()
	port, _ := doc.Port()
	bridge, _ := net.String("bridge/@name")
	owner, _ := port.String("owner/name")
	fmt.Println(bridge, owner)
	// Output: virbr-hook hooktest-net
}

// The hook keeps its per-VM settings in the domain's metadata, in its own namespace.
func ExampleDocument_SetMetadata() {
	type backup struct {
		XMLName xml.Name `xml:"backup"`
		Target  string   `xml:"target,attr"`
	}
	doc, _ := xmldoc.Parse([]byte("<domain>\n  <name>guest</name>\n</domain>"))
	if err := doc.SetMetadata("urn:example:backup", backup{Target: "nas1"}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(doc.Bytes()))
	var b backup
	found, err := doc.Metadata("urn:example:backup", &b)
	fmt.Println(found, err, b.Target)
	// Output:
	// <domain>
	//   <name>guest</name>
	//   <metadata>
	//     <app:backup xmlns:app='urn:example:backup' target='nas1'/>
	//   </metadata>
	// </domain>
	// true <nil> nas1
}
