package scaffold

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hookkit-dev/hookkit/templates"
)

// HandleDirective marks a handler function for the routes file: //hookkit:handle qemu:prepare in the
// function's doc comment registers it with Router.OnQEMUPrepare.
const HandleDirective = "//hookkit:handle "

// AddHandlers writes the handler of each event and its test into the package in dir (an edited handler
// is kept as it is), then rewrites the routes file once, so that running it twice changes nothing.
func AddHandlers(dir string, evs []Event, force bool) ([]Result, error) {
	pkg, err := packageName(dir)
	if err != nil {
		return nil, err
	}
	var results []Result
	for _, e := range evs {
		rs, err := writeHandler(dir, pkg, e, force)
		results = append(results, rs...)
		if err != nil {
			return results, err
		}
	}
	r, err := SyncRoutes(dir, force)
	return append(results, r), err
}

func writeHandler(dir, pkg string, e Event, force bool) ([]Result, error) {
	h := e.Handler(pkg)
	tmpl, err := templates.HandlerTemplate(h.Kind)
	if err != nil {
		return nil, err
	}
	cmd := "hookkit gen handler --event " + e.String()
	var results []Result
	for _, f := range []struct{ file, tmpl string }{
		{e.FileBase() + ".go", tmpl}, {e.FileBase() + "_test.go", templates.HandlerTestTmpl},
	} {
		b, err := templates.Render(f.tmpl, h)
		if err != nil {
			return results, err
		}
		r, err := Write(filepath.Join(dir, f.file), Seal(b, Scaffolded, cmd), Scaffolded, force)
		results = append(results, r)
		if err != nil {
			return results, err
		}
	}
	return results, nil
}

// packageName returns the package of the Go files in dir, or main when there are none.
func packageName(dir string) (string, error) {
	files, err := goFiles(dir)
	if err != nil {
		return "", err
	}
	if len(files) == 0 {
		return "main", nil
	}
	// Every Go file of a directory declares the same package (go build refuses otherwise): read the first.
	af, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, files[0]), nil, parser.PackageClauseOnly)
	if err != nil {
		return "", err
	}
	return af.Name.Name, nil
}

// goFiles lists the non-test Go files of dir, sorted.
func goFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, en := range entries {
		n := en.Name()
		if !en.IsDir() && strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") && !strings.HasPrefix(n, ".") {
			files = append(files, n)
		}
	}
	sort.Strings(files)
	return files, nil
}

// Handlers finds the functions of the package in dir marked with a //hookkit:handle directive, in file
// order, and checks their events against the event table.
func Handlers(dir string) (pkg string, hs []templates.Handler, err error) {
	files, err := goFiles(dir)
	if err != nil {
		return "", nil, err
	}
	pkg = "main"
	fset := token.NewFileSet()
	for i, f := range files {
		af, err := parser.ParseFile(fset, filepath.Join(dir, f), nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return "", nil, err
		}
		if i == 0 {
			pkg = af.Name.Name
		}
		for _, d := range af.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Doc == nil || fn.Recv != nil {
				continue
			}
			for _, c := range fn.Doc.List {
				name, ok := strings.CutPrefix(c.Text, HandleDirective)
				if !ok {
					continue
				}
				e, err := ParseEvent(strings.TrimSpace(name))
				if err != nil {
					return "", nil, fmt.Errorf("%s: %s: %w", fset.Position(c.Pos()), strings.TrimSpace(c.Text), err)
				}
				h := e.Handler(pkg)
				h.Func = fn.Name.Name
				h.Doc = fn.Type.Params.NumFields() == 2 // func(*hookkit.Domain, *xmldoc.Document) error
				hs = append(hs, h)
			}
		}
	}
	return pkg, hs, nil
}

// SyncRoutes rewrites the routes file of the package in dir from its //hookkit:handle functions.
func SyncRoutes(dir string, force bool) (Result, error) {
	pkg, hs, err := Handlers(dir)
	if err != nil {
		return Result{Path: filepath.Join(dir, RoutesFile)}, err
	}
	data := templates.Routes{Package: pkg, Hookkit: HookkitModule, Handlers: hs}
	for _, h := range hs {
		data.XMLDoc = data.XMLDoc || h.Doc
	}
	b, err := templates.Render(templates.RoutesTmpl, data)
	if err != nil {
		return Result{}, err
	}
	return Write(filepath.Join(dir, RoutesFile), Seal(b, Generated, "hookkit gen"), Generated, force)
}
