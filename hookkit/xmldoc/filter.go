package xmldoc

import "github.com/hookkit-dev/hookkit/hookkit"

// Filter adapts fn into a handler for the filter hooks (qemu and libxl migrate, qemu restore):
//
//	r.OnDomainRestore(xmldoc.Filter(func(dom *hookkit.Domain, doc *xmldoc.Document) error {
//		return doc.SetDiskSource("vda", "/srv/images/"+dom.Name()+".qcow2")
//	}))
//
// The handler parses the current document (the input, or what an earlier handler of the same hook
// replaced it with), calls fn, and when fn returns nil and the document changed, hands it to
// dom.ReplaceXML. The router writes it to stdout once, after every handler succeeded; when nothing
// changed it writes nothing and libvirt keeps its own XML; when any handler fails it writes nothing.
// Registered for a hook that is not a filter, a change fails with hookkit.ErrNotFilter.
func Filter(fn func(dom *hookkit.Domain, doc *Document) error) func(*hookkit.Domain) error {
	return func(dom *hookkit.Domain) error {
		doc, err := Parse(dom.XML())
		if err != nil {
			return err
		}
		if err := fn(dom, doc); err != nil {
			return err
		}
		if out := doc.output(); out != doc.src {
			return dom.ReplaceXML([]byte(out))
		}
		return nil
	}
}
