package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hookkit-dev/hookkit/examples/internal/hookbuild"
	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/hookkit/hookkittest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBinary runs the built filter as libvirt does (qemu.d/migrate-rewrite): the output is the golden
// file, which differs from the input only in the mapped paths and the metadata value; a bad rules file
// fails the migration with nothing on stdout; no rules file changes nothing.
func TestBinary(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.json")
	bin := hookbuild.Build(t, ".", map[string]string{"rulesFile": rules})
	in, err := os.ReadFile("testdata/migrate.xml")
	require.NoError(t, err)
	want, err := os.ReadFile("testdata/migrate.expected.xml")
	require.NoError(t, err)
	good, err := os.ReadFile("testdata/rules.json")
	require.NoError(t, err)
	migrate := hookkittest.Event(event.QEMU, "migrate").WithStdin(in).WithObject("db1").InDir("migrate-rewrite")
	migrate.HooksDir = t.TempDir()

	res := hookkittest.Exec(t, bin, migrate)
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Empty(t, res.Stdout, "no rules file: libvirt keeps its XML")

	require.NoError(t, os.WriteFile(rules, good, 0o600))
	res = hookkittest.Exec(t, bin, migrate)
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Equal(t, string(want), res.Stdout)
	assert.Empty(t, res.Stderr)

	require.NoError(t, os.WriteFile(rules, []byte(`{"disks": [{"prefix": "/var/lib/libvirt/images", "replacement": "/srv/../etc"}]}`), 0o600))
	res = hookkittest.Exec(t, bin, migrate)
	require.Equal(t, 1, res.Code)
	assert.Empty(t, res.Stdout)
	assert.Equal(t, `migrate-rewrite: qemu db1 migrate begin: migrate-rewrite: rules: disks[0].replacement: "/srv/../etc" is not clean (want "/etc")`+"\n", res.Stderr)
}
