package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookkit-dev/hookkit/examples/internal/hookbuild"
	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/hookkit/hookkittest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBinary runs the composed hook as libvirt does (dry-run firewall): a VM without an owner is refused
// at prepare, an owned one starts and gets its port forward, and every call is in the audit file.
func TestBinary(t *testing.T) {
	dir := t.TempDir()
	auditFile := filepath.Join(dir, "audit.jsonl")
	cfg := filepath.Join(dir, "hypervisor-hook.json")
	require.NoError(t, os.WriteFile(cfg, []byte(`{"auditFile": "`+auditFile+`", "stateDir": "`+filepath.Join(dir, "state")+
		`", "lockDir": "`+filepath.Join(dir, "lock")+`", "dryRun": true}`), 0o600))
	bin := hookbuild.Build(t, ".", map[string]string{"configFile": cfg})
	owned, err := os.ReadFile("../../testdata/owned.xml")
	require.NoError(t, err)
	hooks := t.TempDir()
	call := func(c hookkittest.Call) hookkittest.Result {
		c.HooksDir = hooks
		return hookkittest.Exec(t, bin, c)
	}

	res := call(hookkittest.Event(event.QEMU, "prepare"))
	require.Equal(t, 1, res.Code)
	assert.True(t, strings.HasPrefix(res.Stderr, `hypervisor-hook: qemu hooktest prepare begin: policy: domain "hooktest" has no owner in its metadata; set it with: virsh metadata hooktest`), res.Stderr)

	res = call(hookkittest.Event(event.QEMU, "prepare").WithStdin(owned).WithObject("pay1"))
	require.Equal(t, 0, res.Code, res.Stderr)
	res = call(hookkittest.Event(event.QEMU, "start").WithStdin(owned).WithObject("pay1"))
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Contains(t, res.Stdout, "tcp dport 8443 dnat ip to 192.168.122.20:443")
	res = call(hookkittest.Event(event.Network, "started"))
	require.Equal(t, 0, res.Code, res.Stderr)

	b, err := os.ReadFile(auditFile)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Len(t, lines, 4)
	assert.Contains(t, lines[0], `"result":"policy: domain \"hooktest\" has no owner`)
	assert.Contains(t, lines[3], `"driver":"network"`)
}
