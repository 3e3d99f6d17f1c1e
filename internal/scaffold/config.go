package scaffold

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"go/token"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/hookkit-dev/hookkit/templates"
)

// ConfigSpec describes a typed config decoder for a metadata namespace: either from a field list or
// from a sample of the element.
type ConfigSpec struct {
	// NS is the namespace URI (default with Sample: the sample root's namespace).
	NS string
	// Type is the root struct's name (default with Sample: the root element's name in CamelCase).
	Type string
	// Elem is the local name of the root element (default: Type in lower case, or the sample's root).
	Elem string
	// Fields is a comma-separated list: name[:type] for a child element, @name[:type] for an
	// attribute, where type is string (default), int, int64, uint, uint64, float64, bool, or []type
	// for a repeated element.
	Fields string
	// Sample is an example of the element as the domain's <metadata> holds it.
	Sample []byte
}

// ConfigFile returns the file a config decoder for type name is written to: portforward_config_gen.go.
func ConfigFile(typeName string) string {
	return strings.ToLower(typeName) + "_config_gen.go"
}

var scalarTypes = map[string]bool{"string": true, "int": true, "int64": true, "uint": true, "uint64": true, "float64": true, "bool": true}

// BuildConfig returns the data of the config template for spec, for package pkg.
func BuildConfig(pkg string, spec ConfigSpec) (templates.Config, error) {
	cfg := templates.Config{Package: pkg, Hookkit: HookkitModule, NS: spec.NS, Type: spec.Type, Elem: spec.Elem}
	var root *sampleElem
	if len(spec.Sample) > 0 {
		if spec.Fields != "" {
			return cfg, errors.New("give either fields or a sample, not both")
		}
		var err error
		if root, err = parseSample(spec.Sample); err != nil {
			return cfg, err
		}
		if cfg.NS == "" {
			cfg.NS = root.name.Space
		}
		if cfg.Elem == "" {
			cfg.Elem = root.name.Local
		}
		if cfg.Type == "" {
			cfg.Type = goIdent(root.name.Local)
		}
	}
	if cfg.NS == "" {
		return cfg, errors.New("no namespace: give --ns URI (libvirt keeps each application's metadata under its own namespace)")
	}
	if !token.IsIdentifier(cfg.Type) || !token.IsExported(cfg.Type) {
		return cfg, fmt.Errorf("type %q is not an exported Go identifier", cfg.Type)
	}
	if cfg.Elem == "" {
		cfg.Elem = strings.ToLower(cfg.Type)
	}
	if !xmlNameRE.MatchString(cfg.Elem) {
		return cfg, fmt.Errorf("element name %q is not an XML name", cfg.Elem)
	}
	if root != nil {
		names := map[string]bool{}
		cfg.Structs = structsFromSample(cfg.Type, root, names)
		cfg.Structs[0].Doc = rootDoc(cfg)
		return cfg, nil
	}
	st := templates.Struct{Name: cfg.Type, Doc: rootDoc(cfg)}
	seen := map[string]bool{}
	for _, f := range strings.Split(spec.Fields, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		name, typ, _ := strings.Cut(f, ":")
		attr := strings.HasPrefix(name, "@")
		name = strings.TrimPrefix(name, "@")
		if typ == "" {
			typ = "string"
		}
		if !xmlNameRE.MatchString(name) {
			return cfg, fmt.Errorf("field %q: %q is not an XML name", f, name)
		}
		base := strings.TrimPrefix(typ, "[]")
		if !scalarTypes[base] || attr && base != typ {
			return cfg, fmt.Errorf("field %q: type %q is not one of string, int, int64, uint, uint64, float64, bool (or []type for a repeated element)", f, typ)
		}
		field := templates.Field{Name: goIdent(name), Type: typ, Tag: fmt.Sprintf(`xml:"%s"`, name)}
		if attr {
			field.Tag = fmt.Sprintf(`xml:"%s,attr"`, name)
		}
		if field.Name == "" || seen[field.Name] || field.Name == "XMLName" {
			return cfg, fmt.Errorf("field %q: its Go name %q is empty or used twice", f, field.Name)
		}
		seen[field.Name] = true
		st.Fields = append(st.Fields, field)
	}
	cfg.Structs = []templates.Struct{st}
	return cfg, nil
}

// GenConfig writes the config decoder for spec into the package in dir, as a generated file.
func GenConfig(dir string, spec ConfigSpec, cmd string, force bool) (Result, error) {
	pkg, err := packageName(dir)
	if err != nil {
		return Result{}, err
	}
	cfg, err := BuildConfig(pkg, spec)
	if err != nil {
		return Result{}, err
	}
	b, err := templates.Render(templates.ConfigTmpl, cfg)
	if err != nil {
		return Result{}, err
	}
	return Write(filepath.Join(dir, ConfigFile(cfg.Type)), Seal(b, Generated, cmd), Generated, force)
}

func rootDoc(cfg templates.Config) string {
	return fmt.Sprintf("is the configuration a domain keeps in its <metadata> as <%s xmlns=%q>.", cfg.Elem, cfg.NS)
}

var xmlNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// initialisms are spelled in capitals in Go names (golint's list, trimmed to what metadata uses).
var initialisms = map[string]bool{"id": true, "uuid": true, "url": true, "uri": true, "ip": true, "mac": true,
	"cpu": true, "vlan": true, "api": true, "dns": true, "tcp": true, "udp": true, "http": true, "https": true,
	"json": true, "xml": true, "nat": true, "mtu": true, "vm": true}

// goIdent turns an XML name into an exported Go identifier: host-port becomes HostPort, vm_id VMID.
func goIdent(name string) string {
	var b strings.Builder
	for _, p := range strings.FieldsFunc(name, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if initialisms[strings.ToLower(p)] {
			b.WriteString(strings.ToUpper(p))
			continue
		}
		b.WriteString(strings.ToUpper(p[:1]) + p[1:])
	}
	s := b.String()
	if s != "" && unicode.IsDigit(rune(s[0])) {
		s = "X" + s
	}
	return s
}

// sampleElem is an element of a sample, with the attributes and children of all its instances merged.
type sampleElem struct {
	name     xml.Name
	attrs    []string
	attrVals map[string][]string
	children []string // local names in first-seen order
	kids     map[string]*sampleElem
	repeated map[string]bool
	texts    []string
}

func newSampleElem(n xml.Name) *sampleElem {
	return &sampleElem{name: n, attrVals: map[string][]string{}, kids: map[string]*sampleElem{}, repeated: map[string]bool{}}
}

func parseSample(b []byte) (*sampleElem, error) {
	dec := xml.NewDecoder(bytes.NewReader(b))
	var stack []*sampleElem
	var counts []map[string]int
	var root *sampleElem
	var text []*strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("sample: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			var e *sampleElem
			if len(stack) == 0 {
				if root != nil {
					return nil, errors.New("sample: more than one root element")
				}
				root = newSampleElem(t.Name)
				e = root
			} else {
				parent := stack[len(stack)-1]
				e = parent.kids[t.Name.Local]
				if e == nil {
					e = newSampleElem(t.Name)
					parent.kids[t.Name.Local] = e
					parent.children = append(parent.children, t.Name.Local)
				}
				c := counts[len(counts)-1]
				c[t.Name.Local]++
				if c[t.Name.Local] > 1 {
					parent.repeated[t.Name.Local] = true
				}
			}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" && a.Name.Space == "" {
					continue
				}
				if _, ok := e.attrVals[a.Name.Local]; !ok {
					e.attrs = append(e.attrs, a.Name.Local)
				}
				e.attrVals[a.Name.Local] = append(e.attrVals[a.Name.Local], a.Value)
			}
			stack = append(stack, e)
			counts = append(counts, map[string]int{})
			text = append(text, &strings.Builder{})
		case xml.CharData:
			if len(text) > 0 {
				text[len(text)-1].Write(t)
			}
		case xml.EndElement:
			e := stack[len(stack)-1]
			if s := strings.TrimSpace(text[len(text)-1].String()); s != "" {
				e.texts = append(e.texts, s)
			}
			stack, counts, text = stack[:len(stack)-1], counts[:len(counts)-1], text[:len(text)-1]
		}
	}
	if root == nil {
		return nil, errors.New("sample: no element")
	}
	return root, nil
}

// inferType returns the narrowest of bool, int, float64 and string that parses every value.
func inferType(vals []string) string {
	if len(vals) == 0 {
		return "string"
	}
	all := func(ok func(string) bool) bool {
		for _, v := range vals {
			if !ok(v) {
				return false
			}
		}
		return true
	}
	switch {
	case all(func(v string) bool { return v == "true" || v == "false" }):
		return "bool"
	case all(func(v string) bool { _, err := strconv.Atoi(v); return err == nil }):
		return "int"
	case all(func(v string) bool { _, err := strconv.ParseFloat(v, 64); return err == nil }):
		return "float64"
	}
	return "string"
}

// structsFromSample returns the struct for e named name, followed by the structs of its children.
func structsFromSample(name string, e *sampleElem, used map[string]bool) []templates.Struct {
	used[name] = true
	st := templates.Struct{Name: name, Doc: fmt.Sprintf("is the <%s> element of the configuration.", e.name.Local)}
	var nested []templates.Struct
	fieldNames := map[string]bool{"XMLName": true}
	unique := func(n string) string {
		for base, i := n, 2; fieldNames[n]; i++ {
			n = base + strconv.Itoa(i)
		}
		fieldNames[n] = true
		return n
	}
	for _, a := range e.attrs {
		st.Fields = append(st.Fields, templates.Field{Name: unique(goIdent(a)), Type: inferType(e.attrVals[a]), Tag: fmt.Sprintf(`xml:"%s,attr"`, a)})
	}
	for _, c := range e.children {
		k := e.kids[c]
		typ := ""
		if len(k.attrs) == 0 && len(k.children) == 0 {
			typ = inferType(k.texts)
		} else {
			typ = name + goIdent(c)
			for base, i := typ, 2; used[typ]; i++ {
				typ = base + strconv.Itoa(i)
			}
			nested = append(nested, structsFromSample(typ, k, used)...)
		}
		if e.repeated[c] {
			typ = "[]" + typ
		}
		st.Fields = append(st.Fields, templates.Field{Name: unique(goIdent(c)), Type: typ, Tag: fmt.Sprintf(`xml:"%s"`, c)})
	}
	if len(e.texts) > 0 && (len(e.attrs) > 0 || len(e.children) > 0) {
		st.Fields = append(st.Fields, templates.Field{Name: unique("Value"), Type: inferType(e.texts), Tag: `xml:",chardata"`})
	}
	return append([]templates.Struct{st}, nested...)
}
