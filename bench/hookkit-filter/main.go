// Command hookkit-filter is the hookkit restore filter the benchmark suite measures: it changes the source
// file of disk vda with package xmldoc and lets the router print the new domain, the same edit as the
// bash+xmlstarlet and python3 filters of the suite.
package main

import (
	"github.com/hookkit-dev/hookkit/hookkit"
	"github.com/hookkit-dev/hookkit/hookkit/xmldoc"
)

func main() {
	r := hookkit.New()
	r.OnDomainRestore(xmldoc.Filter(func(_ *hookkit.Domain, doc *xmldoc.Document) error {
		return doc.SetDiskSource("vda", "/srv/restored/vda.qcow2")
	}))
	r.Main()
}
