package scaffold

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/hookkit-dev/hookkit/templates"
)

// HookkitModule is the module path of hookkit.
const HookkitModule = "github.com/hookkit-dev/hookkit"

// ReplaceEnv names the environment variable that points `hookkit new` at the hookkit source tree when
// --hookkit-replace is not given.
const ReplaceEnv = "HOOKKIT_REPLACE"

// placeholderVersion is the version go itself writes for a replaced module that has no release.
const placeholderVersion = "v0.0.0-00010101000000-000000000000"

// Dependency is how a generated project requires hookkit.
type Dependency struct {
	// Version is the version required: a release, or a placeholder with Replace.
	Version string
	// Replace is the absolute directory of the hookkit source tree, or "".
	Replace string
	// GoVersion is the go directive hookkit's go.mod declares.
	GoVersion string
	// Indirect are hookkit's own requirements, listed in the project's go.mod.
	Indirect []templates.Module
	// GoSum is hookkit's go.sum, copied into the project so that it builds offline.
	GoSum []byte
	// From says where the tree was found: the flag, the environment or the CLI's own build.
	From string
}

// LocateHookkit decides how a new project requires hookkit. A source tree given by replace (the
// --hookkit-replace flag) wins, then $HOOKKIT_REPLACE (read with getenv, os.Getenv when nil), then a
// released version the CLI was built from (go install ...@vX.Y.Z), then the source tree the CLI was
// compiled from when it still exists.
func LocateHookkit(replace string, getenv func(string) string) (Dependency, error) {
	if replace != "" {
		return fromTree(replace, "--hookkit-replace")
	}
	if getenv == nil {
		getenv = os.Getenv
	}
	if env := getenv(ReplaceEnv); env != "" {
		return fromTree(env, "$"+ReplaceEnv)
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Path == HookkitModule && released(bi.Main.Version) {
		dep := Dependency{Version: bi.Main.Version, GoVersion: goDirective(bi.GoVersion), From: "the hookkit release the CLI was built from"}
		return dep, nil
	}
	if dir, ok := compiledTree(); ok {
		return fromTree(dir, "the source tree the CLI was built from")
	}
	return Dependency{}, fmt.Errorf("cannot find the hookkit source tree: pass --hookkit-replace DIR or set $%s (hookkit is not published yet, so the project needs a replace directive)", ReplaceEnv)
}

func released(v string) bool { return v != "" && v != "(devel)" && !strings.HasPrefix(v, "v0.0.0-") }

// goDirective turns a toolchain version (go1.26.8) into a go directive (1.26).
func goDirective(v string) string {
	v = strings.TrimPrefix(v, "go")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) >= 2 {
		return parts[0] + "." + parts[1]
	}
	return v
}

// compiledTree returns the module root this file was compiled from, when the binary was not built with
// -trimpath and the tree is still there.
func compiledTree() (string, bool) {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return "", false
	}
	root := filepath.Dir(filepath.Dir(filepath.Dir(file))) // internal/scaffold/source.go
	if mod, err := readModFile(root); err == nil && mod.path == HookkitModule {
		return root, true
	}
	return "", false
}

func fromTree(dir, from string) (Dependency, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Dependency{}, err
	}
	mod, err := readModFile(abs)
	if err != nil {
		return Dependency{}, fmt.Errorf("hookkit source tree %s (from %s): %w", abs, from, err)
	}
	if mod.path != HookkitModule {
		return Dependency{}, fmt.Errorf("hookkit source tree %s (from %s): go.mod declares module %q, not %s", abs, from, mod.path, HookkitModule)
	}
	sum, err := os.ReadFile(filepath.Join(abs, "go.sum"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return Dependency{}, err
	}
	return Dependency{Version: placeholderVersion, Replace: abs, GoVersion: mod.goVersion, Indirect: mod.requires, GoSum: sum, From: from}, nil
}

type modFile struct {
	path, goVersion string
	requires        []templates.Module
}

// readModFile reads the module path, go directive and requirements of dir/go.mod. It understands the
// subset of the go.mod syntax go mod tidy writes.
func readModFile(dir string) (modFile, error) {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return modFile{}, err
	}
	var m modFile
	inRequire := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case inRequire && f[0] == ")":
			inRequire = false
		case inRequire && len(f) >= 2:
			m.requires = append(m.requires, templates.Module{Path: f[0], Version: f[1]})
		case f[0] == "module" && len(f) >= 2:
			m.path = strings.Trim(f[1], `"`)
		case f[0] == "go" && len(f) >= 2:
			m.goVersion = f[1]
		case f[0] == "require" && len(f) == 2 && f[1] == "(":
			inRequire = true
		case f[0] == "require" && len(f) >= 3:
			m.requires = append(m.requires, templates.Module{Path: f[1], Version: f[2]})
		}
	}
	if m.path == "" {
		return m, fmt.Errorf("%s has no module line", filepath.Join(dir, "go.mod"))
	}
	return m, nil
}
