package xmldoc

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"
)

// child returns the first element child of n named name in no namespace, or nil.
func child(n *node, name string) *node {
	if n == nil {
		return nil
	}
	for c := n.first; c != nil; c = c.next {
		if c.kind == elementNode && c.name == name && c.uri == "" {
			return c
		}
	}
	return nil
}

// children returns the element children of n named name in no namespace.
func children(n *node, name string) []*node {
	var out []*node
	if n == nil {
		return nil
	}
	for c := n.first; c != nil; c = c.next {
		if c.kind == elementNode && c.name == name && c.uri == "" {
			out = append(out, c)
		}
	}
	return out
}

// attr returns the value of n's attribute name in no namespace.
func attr(n *node, name string) string {
	if n == nil {
		return ""
	}
	v, _ := n.attr("", name)
	return v
}

func (d *Document) domainChild(name string) (*node, *node, error) {
	dom, err := d.Domain()
	if err != nil {
		return nil, nil, err
	}
	return dom.n, child(dom.n, name), nil
}

// disk returns the <disk> whose <target dev> is target.
func (d *Document) disk(target string) (*node, error) {
	_, devices, err := d.domainChild("devices")
	if err != nil {
		return nil, err
	}
	for _, disk := range children(devices, "disk") {
		if attr(child(disk, "target"), "dev") == target {
			return disk, nil
		}
	}
	return nil, fmt.Errorf("xmldoc: no disk with target dev %q: %w", target, ErrNoMatch)
}

// sourcePathAttr returns the attribute of <source> that holds the path of a disk or backing store of
// the given type attribute (libvirt's default type is file).
func sourcePathAttr(typ string) (string, bool) {
	switch typ {
	case "", "file":
		return "file", true
	case "block":
		return "dev", true
	case "dir":
		return "dir", true
	}
	return "", false
}

// DiskSource returns the source path (the file, block device or directory) of the disk whose target dev
// is target ("vda", "sdb"): "" for a disk without a source, such as an empty CD-ROM drive.
func (d *Document) DiskSource(target string) (string, error) {
	disk, err := d.disk(target)
	if err != nil {
		return "", err
	}
	a, ok := sourcePathAttr(attr(disk, "type"))
	if !ok {
		return "", fmt.Errorf("xmldoc: disk %s has type %q: its source is not a path", target, attr(disk, "type"))
	}
	return attr(child(disk, "source"), a), nil
}

// SetDiskSource sets the source path of the disk whose target dev is target: <source file> for a file
// disk, <source dev> for a block disk, <source dir> for a directory. A disk without <source> (an empty
// CD-ROM drive) gets one.
func (d *Document) SetDiskSource(target, path string) error {
	disk, err := d.disk(target)
	if err != nil {
		return err
	}
	a, ok := sourcePathAttr(attr(disk, "type"))
	if !ok {
		return fmt.Errorf("xmldoc: disk %s has type %q: its source is not a path", target, attr(disk, "type"))
	}
	src := child(disk, "source")
	if src == nil {
		if src, err = d.newElement(disk, "source"); err != nil {
			return err
		}
		if drv := child(disk, "driver"); drv != nil {
			insertAfterIndented(drv, src)
		} else {
			appendIndented(disk, src)
		}
	}
	return (&Node{doc: d, n: src}).SetAttr(a, path)
}

// ReplaceDiskSource sets the source path of every disk, and of every backing store in their chains, whose
// path is oldPath, to newPath; it returns how many it changed (none is not an error).
func (d *Document) ReplaceDiskSource(oldPath, newPath string) (int, error) {
	if err := checkValue(newPath); err != nil {
		return 0, err
	}
	_, devices, err := d.domainChild("devices")
	if err != nil {
		return 0, err
	}
	count := 0
	for _, disk := range children(devices, "disk") {
		for el := disk; el != nil; el = child(el, "backingStore") {
			a, ok := sourcePathAttr(attr(el, "type"))
			src := child(el, "source")
			if !ok || src == nil || attr(src, a) != oldPath {
				continue
			}
			if err := (&Node{doc: d, n: src}).SetAttr(a, newPath); err != nil {
				return count, err
			}
			count++
		}
	}
	return count, nil
}

// iface returns the <interface> whose <mac address> is mac (compared without regard to case).
func (d *Document) iface(mac string) (*node, error) {
	_, devices, err := d.domainChild("devices")
	if err != nil {
		return nil, err
	}
	for _, n := range children(devices, "interface") {
		if strings.EqualFold(attr(child(n, "mac"), "address"), mac) {
			return n, nil
		}
	}
	return nil, fmt.Errorf("xmldoc: no interface with MAC address %s: %w", mac, ErrNoMatch)
}

// InterfaceBridge returns the host bridge of the interface whose MAC address is mac: <source bridge>,
// which libvirt also fills in for a running domain's network interfaces; "" when there is none.
func (d *Document) InterfaceBridge(mac string) (string, error) {
	n, err := d.iface(mac)
	if err != nil {
		return "", err
	}
	return attr(child(n, "source"), "bridge"), nil
}

// SetInterfaceBridge connects the bridge interface whose MAC address is mac to the host bridge bridge. It
// fails for interfaces of other types (a network interface takes its bridge from the network).
func (d *Document) SetInterfaceBridge(mac, bridge string) error {
	n, err := d.iface(mac)
	if err != nil {
		return err
	}
	if typ := attr(n, "type"); typ != "bridge" {
		return fmt.Errorf("xmldoc: interface %s has type %q, not bridge: its bridge is not set in the domain", mac, typ)
	}
	src := child(n, "source")
	if src == nil {
		if src, err = d.newElement(n, "source"); err != nil {
			return err
		}
		appendIndented(n, src)
	}
	return (&Node{doc: d, n: src}).SetAttr("bridge", bridge)
}

// ReplaceBridge moves every bridge interface connected to host bridge oldBridge to newBridge (the usual
// edit when hosts name their bridges differently) and returns how many it changed.
func (d *Document) ReplaceBridge(oldBridge, newBridge string) (int, error) {
	if err := checkValue(newBridge); err != nil {
		return 0, err
	}
	_, devices, err := d.domainChild("devices")
	if err != nil {
		return 0, err
	}
	count := 0
	for _, n := range children(devices, "interface") {
		src := child(n, "source")
		if attr(n, "type") != "bridge" || src == nil || attr(src, "bridge") != oldBridge {
			continue
		}
		if err := (&Node{doc: d, n: src}).SetAttr("bridge", newBridge); err != nil {
			return count, err
		}
		count++
	}
	return count, nil
}

// Description returns the domain's <description>, "" when it has none.
func (d *Document) Description() (string, error) {
	_, desc, err := d.domainChild("description")
	if err != nil {
		return "", err
	}
	if desc == nil {
		return "", nil
	}
	return desc.text(), nil
}

// SetDescription sets the domain's <description>, adding one after <title>, <uuid> or <name> when it has
// none.
func (d *Document) SetDescription(text string) error {
	dom, desc, err := d.domainChild("description")
	if err != nil {
		return err
	}
	if desc == nil {
		if desc, err = d.addTopLevel(dom, "description", "title", "genid", "uuid", "name"); err != nil {
			return err
		}
	}
	return (&Node{doc: d, n: desc}).SetValue(text)
}

// addTopLevel adds element name to the domain after the first of the elements after that it has, or last.
func (d *Document) addTopLevel(dom *node, name string, after ...string) (*node, error) {
	el, err := d.newElement(dom, name)
	if err != nil {
		return nil, err
	}
	for _, a := range after {
		if sib := child(dom, a); sib != nil {
			insertAfterIndented(sib, el)
			return el, nil
		}
	}
	appendIndented(dom, el)
	return el, nil
}

// metadata returns the element in namespace ns under the domain's <metadata>, and <metadata> itself.
func (d *Document) metadata(ns string) (dom, meta, el *node, err error) {
	dom, meta, err = d.domainChild("metadata")
	if err != nil || meta == nil {
		return dom, nil, nil, err
	}
	for c := meta.first; c != nil; c = c.next {
		if c.kind == elementNode && c.uri == ns {
			return dom, meta, c, nil
		}
	}
	return dom, meta, nil, nil
}

// Metadata decodes the domain's metadata element in namespace ns (the hook's own configuration, set with
// virsh metadata --uri ns) into v with encoding/xml. It reports found=false and no error when there is
// none.
func (d *Document) Metadata(ns string, v any) (found bool, err error) {
	_, _, el, err := d.metadata(ns)
	if err != nil || el == nil {
		return false, err
	}
	// The element may use prefixes declared on its ancestors: declare them around it for the decoder.
	w := writer{}
	w.b.WriteString("<hookkit-wrap")
	for _, b := range inScope(el.parent) {
		w.b.WriteString(" " + strings.TrimSuffix("xmlns:"+b.prefix, ":") + `="`)
		w.attrValue(b.uri, '"')
		w.b.WriteString(`"`)
	}
	w.b.WriteString(">" + d.serialize(el) + "</hookkit-wrap>")
	dec := xml.NewDecoder(strings.NewReader(w.b.String()))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return true, fmt.Errorf("xmldoc: metadata %s: %w", ns, io.ErrUnexpectedEOF)
		}
		if err != nil {
			return true, fmt.Errorf("xmldoc: metadata %s: %w", ns, err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local != "hookkit-wrap" {
			if err := dec.DecodeElement(v, &se); err != nil {
				return true, fmt.Errorf("xmldoc: metadata %s: %w", ns, err)
			}
			return true, nil
		}
	}
}

// SetMetadata sets the domain's metadata element in namespace ns to v marshalled with encoding/xml,
// replacing the one there (in place) or adding it, and <metadata> with it when the domain has none. When
// v's XML name has no namespace the element is put in ns with the document's prefix for ns, or the prefix
// bound to ns with Bind, or "app"; a value in another namespace is an error.
func (d *Document) SetMetadata(ns string, v any) error {
	b, err := xml.Marshal(v)
	if err != nil {
		return fmt.Errorf("xmldoc: metadata %s: %w", ns, err)
	}
	b = bytes.TrimSpace(b)
	dom, meta, old, err := d.metadata(ns)
	if err != nil {
		return err
	}
	created := meta == nil
	if created {
		if meta, err = d.addTopLevel(dom, "metadata", "description", "title", "genid", "uuid", "name"); err != nil {
			return err
		}
	}
	undo := func() {
		if created {
			_ = (&Node{doc: d, n: meta}).Remove()
		}
	}
	added, err := d.addXML(meta, string(b))
	if err != nil {
		undo()
		return fmt.Errorf("xmldoc: metadata %s: %w", ns, err)
	}
	el := added[0].n
	if len(added) != 1 || (el.uri != "" && el.uri != ns) {
		for _, n := range added {
			_ = n.Remove()
		}
		undo()
		return fmt.Errorf("xmldoc: metadata %s: the value marshals to %d elements, the first in namespace %q", ns, len(added), el.uri)
	}
	// Written in the document's style rather than encoding/xml's.
	forget(el)
	if el.uri == "" {
		el.uri = ns
		el.prefix = d.metadataPrefix(meta, ns)
		if !slices.ContainsFunc(inScope(meta), func(b nsBinding) bool { return b.prefix == el.prefix && b.uri == ns }) {
			el.attrs = append([]attribute{decl(el.prefix, ns)}, el.attrs...)
		}
	}
	if old != nil {
		_ = added[0].Remove()
		old.insertBefore(el)
		old.remove()
	}
	return nil
}

// metadataPrefix chooses the prefix of a new metadata element in namespace ns.
func (d *Document) metadataPrefix(meta *node, ns string) string {
	for _, b := range inScope(meta) {
		if b.uri == ns && b.prefix != "" {
			return b.prefix
		}
	}
	var bound []string
	for p, uri := range d.ns {
		if uri == ns {
			bound = append(bound, p)
		}
	}
	if len(bound) > 0 {
		slices.Sort(bound)
		return bound[0]
	}
	return "app"
}

// RemoveMetadata removes the domain's metadata element in namespace ns and reports whether there was one.
func (d *Document) RemoveMetadata(ns string) (bool, error) {
	_, _, el, err := d.metadata(ns)
	if err != nil || el == nil {
		return false, err
	}
	return true, (&Node{doc: d, n: el}).Remove()
}

// forget drops how n and its descendants were written, so that the serializer writes them afresh.
func forget(n *node) {
	n.parsed = false
	for c := n.first; c != nil; c = c.next {
		forget(c)
	}
}
