// Package hookbuild builds an example hook for its tests with build-time settings (-ldflags -X), the
// mechanism the examples use to point a binary at test files: a hook cannot take flags, because libvirt
// owns its argv, and it gets almost no environment.
package hookbuild

import (
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Build compiles the main package pkg (an import path or a directory) into a temporary directory with
// each vars entry set by -ldflags "-X main.<key>=<value>", and returns the binary's path.
func Build(t testing.TB, pkg string, vars map[string]string) string {
	t.Helper()
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var ld []string
	for _, k := range keys {
		if strings.ContainsAny(vars[k], " \t'\"") {
			t.Fatalf("hookbuild: value of %s must not contain spaces or quotes: %q", k, vars[k])
		}
		ld = append(ld, "-X", "main."+k+"="+vars[k])
	}
	out := filepath.Join(t.TempDir(), "hook")
	args := []string{"build", "-o", out}
	if len(ld) > 0 {
		args = append(args, "-ldflags", strings.Join(ld, " "))
	}
	cmd := exec.Command("go", append(args, pkg)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hookbuild: go build %s: %v\n%s", pkg, err, b)
	}
	return out
}
