// Package rewrite is a migrate/restore filter that maps the disk source paths of an incoming domain from
// the source host's storage layout to this host's, and sets a value in the domain's <metadata> (e.g. the
// site the domain now runs in), changing nothing else: every byte outside the edited attribute values and
// text is written back exactly as libvirt sent it (hookkit/xmldoc).
//
// The migrate XML carries secrets (VNC/SPICE passwords, LUKS secret UUIDs...): this package never logs
// it, nor any value of it but the disk paths it maps.
package rewrite

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/hookkit-dev/hookkit/hookkit"
	"github.com/hookkit-dev/hookkit/hookkit/xmldoc"
)

// Rules is the rules file.
//
//	{
//	  "disks": [
//	    {"prefix": "/var/lib/libvirt/images", "replacement": "/srv/nfs/images"},
//	    {"prefix": "/dev/vg_src", "replacement": "/dev/vg_dst"}
//	  ],
//	  "metadata": {"namespace": "https://example.com/site/1", "xpath": "m:location/m:site", "value": "dc2"}
//	}
type Rules struct {
	// Disks map disk source paths by prefix; the longest matching prefix wins.
	Disks []DiskRule `json:"disks"`
	// Metadata, optional, sets one value in the domain's metadata.
	Metadata *MetadataEdit `json:"metadata,omitempty"`
}

// DiskRule maps the paths under Prefix (Prefix itself, or Prefix/...) to the same paths under Replacement.
// Both are absolute, clean paths; a prefix matches whole path elements only ("/images" does not match
// "/images2/a").
type DiskRule struct {
	Prefix      string `json:"prefix"`
	Replacement string `json:"replacement"`
}

// MetadataEdit sets the value of the nodes XPath selects, relative to the <metadata> element, with the
// prefix "m" bound to Namespace: "m:location/m:site" sets the text of <site> in
// <location xmlns="https://example.com/site/1">, "m:location/@site" an attribute. Nothing is added when
// nothing matches.
type MetadataEdit struct {
	Namespace string `json:"namespace"`
	XPath     string `json:"xpath"`
	Value     string `json:"value"`
}

// Validate checks the rules before any is applied.
func (r *Rules) Validate() error {
	for i, d := range r.Disks {
		if err := checkPath(d.Prefix); err != nil {
			return fmt.Errorf("disks[%d].prefix: %w", i, err)
		}
		if err := checkPath(d.Replacement); err != nil {
			return fmt.Errorf("disks[%d].replacement: %w", i, err)
		}
		for j := range i {
			if r.Disks[j].Prefix == d.Prefix {
				return fmt.Errorf("disks[%d].prefix: %q is also disks[%d].prefix", i, d.Prefix, j)
			}
		}
	}
	if m := r.Metadata; m != nil {
		if m.Namespace == "" || m.XPath == "" {
			return errors.New("metadata: namespace and xpath are required")
		}
		if strings.HasPrefix(m.XPath, "/") {
			return errors.New("metadata.xpath: must be relative to <metadata>, not start with /")
		}
	}
	return nil
}

// checkPath accepts an absolute, clean path without control characters.
func checkPath(p string) error {
	switch {
	case p == "":
		return errors.New("empty path")
	case !strings.HasPrefix(p, "/"):
		return fmt.Errorf("%q is not absolute", p)
	case path.Clean(p) != p:
		return fmt.Errorf("%q is not clean (want %q)", p, path.Clean(p))
	case strings.IndexFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0:
		return fmt.Errorf("%q holds a control character", p)
	}
	return nil
}

// Map returns the path p maps to, and whether a rule matched.
func (r *Rules) Map(p string) (string, bool) {
	best := -1
	for i, d := range r.Disks {
		if under(p, d.Prefix) && (best < 0 || len(d.Prefix) > len(r.Disks[best].Prefix)) {
			best = i
		}
	}
	if best < 0 {
		return p, false
	}
	d := r.Disks[best]
	rest := strings.TrimPrefix(p, d.Prefix)
	if d.Prefix == "/" {
		rest = "/" + rest
	}
	if d.Replacement == "/" {
		return path.Clean("/" + rest), true
	}
	return d.Replacement + rest, true
}

// under reports whether p is prefix or a path below it.
func under(p, prefix string) bool {
	if prefix == "/" {
		return strings.HasPrefix(p, "/")
	}
	return p == prefix || strings.HasPrefix(p, prefix+"/")
}

// diskSources selects the path attributes of every disk source, backing stores included.
const diskSources = "/domain/devices/disk//source/@file | /domain/devices/disk//source/@dev | /domain/devices/disk//source/@dir"

// Result says what Apply changed.
type Result struct {
	// Disks are the mapped paths, old to new.
	Disks [][2]string
	// Metadata is how many metadata nodes were set.
	Metadata int
}

// Apply edits doc by the rules.
func (r *Rules) Apply(doc *xmldoc.Document) (Result, error) {
	var res Result
	nodes, err := doc.Nodes(diskSources)
	if err != nil {
		return res, err
	}
	for _, n := range nodes {
		old := n.Value()
		// A relative or unclean path is not something a prefix rule can map safely: leave it.
		if checkPath(old) != nil {
			continue
		}
		if p, ok := r.Map(old); ok && p != old {
			if err := n.SetValue(p); err != nil {
				return res, fmt.Errorf("disk source %s: %w", old, err)
			}
			res.Disks = append(res.Disks, [2]string{old, p})
		}
	}
	if m := r.Metadata; m != nil {
		doc.Bind("m", m.Namespace)
		nodes, err := doc.Nodes("/domain/metadata/" + m.XPath)
		if err != nil {
			return res, fmt.Errorf("metadata: %w", err)
		}
		for _, n := range nodes {
			if err := n.SetValue(m.Value); err != nil {
				return res, fmt.Errorf("metadata: %w", err)
			}
			res.Metadata++
		}
	}
	return res, nil
}

// Filter returns the migrate/restore handler. load is called on every call, so a rules file edited on
// the host applies to the next migration; a load or validation error fails the call, and libvirt aborts
// the migration or restore rather than starting the domain on paths that do not exist here.
func Filter(load func() (*Rules, error)) func(*hookkit.Domain) error {
	return xmldoc.Filter(func(dom *hookkit.Domain, doc *xmldoc.Document) error {
		rules, err := load()
		if err != nil {
			return fmt.Errorf("migrate-rewrite: %w", err)
		}
		if err := rules.Validate(); err != nil {
			return fmt.Errorf("migrate-rewrite: rules: %w", err)
		}
		res, err := rules.Apply(doc)
		if err != nil {
			return fmt.Errorf("migrate-rewrite: %w", err)
		}
		for _, d := range res.Disks {
			dom.Logger().Info("migrate-rewrite: disk path mapped", "from", d[0], "to", d[1])
		}
		if res.Metadata > 0 {
			dom.Logger().Info("migrate-rewrite: metadata set", "namespace", rules.Metadata.Namespace, "nodes", res.Metadata)
		}
		return nil
	})
}

// Register adds the filter to r for the migrate hooks (qemu, libxl) and the qemu restore hook.
func Register(r *hookkit.Router, load func() (*Rules, error)) {
	f := Filter(load)
	r.OnDomainMigrate(f)
	r.OnDomainRestore(f)
}
