// Package hookbuild builds an example hook for its tests with build-time settings (-ldflags -X), the
// mechanism the examples use to point a binary at test files: a hook cannot take flags, because libvirt
// owns its argv, and it gets almost no environment.
package hookbuild

import (
	"sort"
	"strings"
	"testing"

	"github.com/hookkit-dev/hookkit/hookkit/hookkittest"
)

// Build compiles the main package pkg (an import path or a directory) with hookkittest.Build, each vars
// entry set by -ldflags "-X main.<key>=<value>", and returns the binary's path.
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
	if len(ld) == 0 {
		return hookkittest.Build(t, pkg)
	}
	return hookkittest.Build(t, pkg, "-ldflags", strings.Join(ld, " "))
}
