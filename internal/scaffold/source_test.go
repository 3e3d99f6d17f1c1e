package scaffold_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookkit-dev/hookkit/internal/scaffold"
	"github.com/hookkit-dev/hookkit/templates"
)

func TestLocateHookkit(t *testing.T) {
	root := moduleRoot(t)
	noEnv := func(string) string { return "" }

	dep, err := scaffold.LocateHookkit(root, noEnv)
	require.NoError(t, err)
	assert.Equal(t, root, dep.Replace)
	assert.Equal(t, "--hookkit-replace", dep.From)
	assert.Equal(t, "v0.0.0-00010101000000-000000000000", dep.Version)
	assert.NotEmpty(t, dep.GoVersion)
	assert.Contains(t, dep.Indirect, templates.Module{Path: "libvirt.org/go/libvirtxml", Version: "v1.12008.0"})
	assert.Contains(t, string(dep.GoSum), "libvirt.org/go/libvirtxml v1.12008.0 h1:")

	dep, err = scaffold.LocateHookkit("", func(k string) string {
		if k == scaffold.ReplaceEnv {
			return root
		}
		return ""
	})
	require.NoError(t, err)
	assert.Equal(t, "$HOOKKIT_REPLACE", dep.From)

	// The test binary is compiled from this tree, without -trimpath: the tree is found by itself.
	dep, err = scaffold.LocateHookkit("", noEnv)
	require.NoError(t, err)
	assert.Equal(t, root, dep.Replace)
	assert.Equal(t, "the source tree the CLI was built from", dep.From)
}

func TestLocateHookkitErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := scaffold.LocateHookkit(dir, nil)
	assert.ErrorContains(t, err, "go.mod")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/other\n\ngo 1.26\n"), 0o644))
	_, err = scaffold.LocateHookkit(dir, nil)
	assert.ErrorContains(t, err, `declares module "example.com/other"`)
}
