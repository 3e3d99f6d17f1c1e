// Package templates holds the code templates that `hookkit new` and `hookkit gen` render into a hook
// project: the hook's main, one handler per event kind (domain, filter, network, port, daemon), a handler
// test through package hookkittest, the routes file that registers every handler, a typed config struct for
// a metadata namespace, and the project's go.mod, Makefile and README.
//
// The templates only shape text: the data types below carry everything already decided (method names,
// event names, versions), so that the templates never need the event table and stay easy to read. Package
// internal/scaffold fills the data from package event and writes the files.
package templates

import (
	"bytes"
	"embed"
	"fmt"
	"go/format"
	"sort"
	"strings"
	"text/template"
)

// The template names.
const (
	GoModTmpl          = "go.mod.tmpl"
	MainTmpl           = "main.go.tmpl"
	RoutesTmpl         = "routes.go.tmpl"
	HandlerDomainTmpl  = "handler_domain.go.tmpl"
	HandlerFilterTmpl  = "handler_filter.go.tmpl"
	HandlerNetworkTmpl = "handler_network.go.tmpl"
	HandlerPortTmpl    = "handler_port.go.tmpl"
	HandlerDaemonTmpl  = "handler_daemon.go.tmpl"
	HandlerTestTmpl    = "handler_test.go.tmpl"
	ConfigTmpl         = "config.go.tmpl"
	MakefileTmpl       = "Makefile.tmpl"
	ReadmeTmpl         = "README.md.tmpl"
)

//go:embed *.tmpl
var files embed.FS

var set = template.Must(template.New("").Funcs(template.FuncMap{
	"join": strings.Join,
	"names": func(ds []Driver) string {
		var ns []string
		for _, d := range ds {
			ns = append(ns, d.Name)
		}
		return strings.Join(ns, ", ")
	},
	"quote": func(s string) string { return fmt.Sprintf("%q", s) },
	"backquote": func(s string) string {
		return "`" + s + "`"
	},
}).ParseFS(files, "*.tmpl"))

// Names returns the names of every template, sorted.
func Names() []string {
	var ns []string
	for _, t := range set.Templates() {
		if strings.HasSuffix(t.Name(), ".tmpl") && !strings.HasPrefix(t.Name(), "_") {
			ns = append(ns, t.Name())
		}
	}
	sort.Strings(ns)
	return ns
}

// Render executes the named template with data. The output of Go templates (names ending in .go.tmpl) is
// formatted with go/format, so a template or data error that yields invalid Go fails here, not in the
// user's build.
func Render(name string, data any) ([]byte, error) {
	t := set.Lookup(name)
	if t == nil {
		return nil, fmt.Errorf("templates: no template %q", name)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	if !strings.HasSuffix(name, ".go.tmpl") {
		return b.Bytes(), nil
	}
	src, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("templates: %s renders invalid Go: %w", name, err)
	}
	return src, nil
}

// HandlerTemplate returns the handler template for a kind of event: "domain", "filter", "network",
// "port" or "daemon".
func HandlerTemplate(kind string) (string, error) {
	switch kind {
	case "domain":
		return HandlerDomainTmpl, nil
	case "filter":
		return HandlerFilterTmpl, nil
	case "network":
		return HandlerNetworkTmpl, nil
	case "port":
		return HandlerPortTmpl, nil
	case "daemon":
		return HandlerDaemonTmpl, nil
	}
	return "", fmt.Errorf("templates: no handler template for event kind %q", kind)
}

// Module is one module requirement of a generated go.mod.
type Module struct {
	Path    string
	Version string
}

// Project is the data of the project templates: GoModTmpl, MainTmpl, MakefileTmpl and ReadmeTmpl.
type Project struct {
	// Module is the module path of the generated project, e.g. example.com/vmhooks.
	Module string
	// Name is the name of the hook binary, e.g. vmhooks.
	Name string
	// GoVersion is the go directive of go.mod, e.g. 1.26.
	GoVersion string
	// Hookkit is the module path of hookkit and HookkitVersion the version required.
	Hookkit        string
	HookkitVersion string
	// Replace is the directory of the hookkit source tree the project builds against ("" for none).
	Replace string
	// Indirect lists hookkit's own requirements, so that the project builds with -mod=readonly.
	Indirect []Module
	// Drivers are the hook drivers the binary is installed for (comma-separated in the Makefile).
	Drivers []string
	// Handlers are the handlers the project starts with.
	Handlers []Handler
}

// Handler is the data of the handler templates and of HandlerTestTmpl.
type Handler struct {
	// Package is the Go package of the project (main for a hook binary).
	Package string
	// Hookkit is the module path of hookkit.
	Hookkit string
	// Event is the event as written on the command line: "qemu:prepare", or "domain:start" for every
	// domain driver.
	Event string
	// Driver is "domain" or the driver of the event, Op the libvirt op.
	Driver string
	Op     string
	// Method is the Router method that registers the handler, e.g. OnQEMUPrepare.
	Method string
	// Func is the handler function, e.g. onQEMUPrepare.
	Func string
	// Kind is domain, filter, network, port or daemon.
	Kind string
	// Doc is true when Func also takes the parsed document (func(*hookkit.Domain, *xmldoc.Document)
	// error): it is registered through xmldoc.Filter, which hands a changed document to libvirt.
	Doc bool
	// Drivers are the drivers whose calls the handler receives: qemu, or qemu, lxc, libxl and bhyve for
	// a domain event.
	Drivers []Driver
	// Argv is argv[1..4] as the event table writes it, e.g. "<domain name> prepare begin -".
	Argv string
	// When and Failure say when libvirt calls the hook and what a failure does (single-driver events).
	When    string
	Failure string
	// Legacy marks events current libvirt no longer sends.
	Legacy bool
}

// Driver is a libvirt hook driver as the templates write it.
type Driver struct {
	// Name is the driver's name, e.g. qemu.
	Name string
	// Const is the name of its constant in package event, e.g. QEMU.
	Const string
}

// Routes is the data of RoutesTmpl: the handlers found in a package.
type Routes struct {
	Package  string
	Hookkit  string
	Handlers []Handler
	// XMLDoc is true when a handler is registered through xmldoc.Filter.
	XMLDoc bool
}

// Config is the data of ConfigTmpl: typed structs for the element a domain keeps in its
// <metadata> under one namespace, and a helper that decodes it with Domain.Metadata.
type Config struct {
	// Package is the Go package the file belongs to.
	Package string
	// Hookkit is the module path of hookkit.
	Hookkit string
	// NS is the namespace URI, Type the root struct, Elem the root element's local name.
	NS   string
	Type string
	Elem string
	// Structs are the root struct first, then the nested ones.
	Structs []Struct
}

// Struct is one generated struct type.
type Struct struct {
	Name   string
	Doc    string
	Fields []Field
}

// Field is one struct field: its Go name and type, and the encoding/xml tag (without backquotes).
type Field struct {
	Name string
	Type string
	Tag  string
}
