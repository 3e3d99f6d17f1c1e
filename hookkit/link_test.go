package hookkit_test

import (
	"debug/elf"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookkit-dev/hookkit/hookkit/hookkittest"
)

// TestLinkedCode pins what a hook binary links, which is what every hook process pays for at start-up
// (docs/benchmarks.md): libvirtxml only when the hook calls Config, and never xmlquery or package net.
func TestLinkedCode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two hooks")
	}
	for _, tc := range []struct {
		file       string
		libvirtxml bool
	}{
		{"identity.go", false},
		{"config.go", true},
	} {
		t.Run(tc.file, func(t *testing.T) {
			bin := hookkittest.Build(t, filepath.Join("testdata", "linkcheck", tc.file))
			counts := linkedPackages(t, bin, "libvirt.org/go/libvirtxml.", "github.com/antchfx/", "net.")
			if tc.libvirtxml {
				assert.Positive(t, counts["libvirt.org/go/libvirtxml."], "a hook that calls Config decodes with libvirtxml")
			} else {
				assert.Zero(t, counts["libvirt.org/go/libvirtxml."], "a hook that never calls Config links libvirtxml")
			}
			assert.Zero(t, counts["github.com/antchfx/"], "xmlquery or xpath linked into a core hook")
			assert.Zero(t, counts["net."], "package net linked into a core hook")
		})
	}
}

// linkedPackages counts the function symbols of bin whose names start with each prefix.
func linkedPackages(t *testing.T, bin string, prefixes ...string) map[string]int {
	t.Helper()
	f, err := elf.Open(bin)
	require.NoError(t, err)
	defer f.Close()
	syms, err := f.Symbols()
	require.NoError(t, err)
	counts := map[string]int{}
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) != elf.STT_FUNC {
			continue
		}
		for _, p := range prefixes {
			if strings.HasPrefix(s.Name, p) {
				counts[p]++
			}
		}
	}
	return counts
}
