package scaffold

import (
	"fmt"
	"go/build"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/hookkit-dev/hookkit/templates"
)

// DefaultEvents are the events a new project handles when none are given.
const DefaultEvents = "qemu:prepare,qemu:release"

// RoutesFile is the generated file that registers every //hookkit:handle function of a package.
const RoutesFile = "routes_gen.go"

// Project describes a hook project to create.
type Project struct {
	// Dir is the directory to create; it must not exist or be empty unless Force is set.
	Dir string
	// Module is the module path (default: the base name of Dir).
	Module string
	// Events are the events to write handlers for (default DefaultEvents).
	Events []Event
	// Hookkit is how the project requires hookkit (see LocateHookkit).
	Hookkit Dependency
	// Force allows a non-empty Dir and overwrites the files New writes.
	Force bool
}

var modulePathRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._~/-]*$`)

// New writes a complete hook project: go.mod and go.sum, main.go, a handler and its test per event, the
// routes file, a Makefile and a README. The project builds and its tests pass as written.
func New(p Project) ([]Result, error) {
	if p.Dir == "" {
		return nil, fmt.Errorf("no directory given")
	}
	if p.Module == "" {
		abs, err := filepath.Abs(p.Dir)
		if err != nil {
			return nil, err
		}
		p.Module = strings.ToLower(filepath.Base(abs))
	}
	if !modulePathRE.MatchString(p.Module) || strings.Contains(p.Module, "//") || strings.HasSuffix(p.Module, "/") {
		return nil, fmt.Errorf("%q is not a valid module path (use --module example.com/vmhooks)", p.Module)
	}
	if err := checkNotReserved(p.Module); err != nil {
		return nil, err
	}
	if len(p.Events) == 0 {
		evs, err := ParseEvents(DefaultEvents)
		if err != nil {
			return nil, err
		}
		p.Events = evs
	}
	if entries, err := os.ReadDir(p.Dir); err == nil && len(entries) > 0 && !p.Force {
		return nil, fmt.Errorf("%s exists and is not empty: refusing to scaffold into it (use --force)", p.Dir)
	} else if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	if err := os.MkdirAll(p.Dir, 0o755); err != nil {
		return nil, err
	}

	name := path.Base(p.Module)
	goVersion := p.Hookkit.GoVersion
	if goVersion == "" {
		goVersion = "1.26"
	}
	data := templates.Project{
		Module: p.Module, Name: name, GoVersion: goVersion, Hookkit: HookkitModule,
		HookkitVersion: p.Hookkit.Version, Replace: p.Hookkit.Replace, Indirect: p.Hookkit.Indirect,
		Drivers: installDrivers(p.Events),
	}
	for _, e := range p.Events {
		data.Handlers = append(data.Handlers, e.Handler("main"))
	}

	var results []Result
	write := func(file string, content []byte, own Ownership) error {
		r, err := Write(filepath.Join(p.Dir, file), content, own, p.Force)
		results = append(results, r)
		return err
	}
	plain := []struct{ file, tmpl string }{
		{"go.mod", templates.GoModTmpl}, {"Makefile", templates.MakefileTmpl}, {"README.md", templates.ReadmeTmpl},
	}
	for _, f := range plain {
		b, err := templates.Render(f.tmpl, data)
		if err != nil {
			return results, err
		}
		if err := write(f.file, b, Scaffolded); err != nil {
			return results, err
		}
	}
	if len(p.Hookkit.GoSum) > 0 {
		if err := write("go.sum", p.Hookkit.GoSum, Scaffolded); err != nil {
			return results, err
		}
	}
	if err := write(".gitignore", []byte("/"+name+"\n"), Scaffolded); err != nil {
		return results, err
	}
	b, err := templates.Render(templates.MainTmpl, data)
	if err != nil {
		return results, err
	}
	if err := write("main.go", Seal(b, Scaffolded, "hookkit new"), Scaffolded); err != nil {
		return results, err
	}
	for _, e := range p.Events {
		rs, err := writeHandler(p.Dir, "main", e, p.Force)
		results = append(results, rs...)
		if err != nil {
			return results, err
		}
	}
	r, err := SyncRoutes(p.Dir, p.Force)
	results = append(results, r)
	return results, err
}

// checkNotReserved refuses a module path the go command reads as something else: a standard-library
// package (a project made in a directory named net or log would not build: "ambiguous import") or a
// pattern go reserves (std, cmd, all...). Paths whose first element has a dot are never standard.
func checkNotReserved(module string) error {
	first, _, _ := strings.Cut(module, "/")
	if strings.Contains(first, ".") {
		return nil
	}
	switch first {
	case "go", "std", "cmd", "all", "main", "tool", "work", "toolchain", "local":
		return fmt.Errorf("%q is a name the go command reserves: pass --module example.com/%s", module, module)
	}
	if pkg, err := build.Default.Import(module, "", build.FindOnly); err == nil && pkg.Goroot {
		return fmt.Errorf("%q is a standard-library package, so the project would not build (ambiguous import): pass --module example.com/%s", module, module)
	}
	return nil
}
