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

// TestBinary runs the built hook as libvirt does, in dry-run mode: start prints the nft commands and
// records them, release prints their removal, a bad value fails with one line.
func TestBinary(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "portforward.json")
	stateDir := filepath.Join(dir, "state")
	require.NoError(t, os.WriteFile(cfg, []byte(`{"dryRun": true, "stateDir": "`+stateDir+`", "lockDir": "`+filepath.Join(dir, "lock")+`"}`), 0o600))
	bin := hookbuild.Build(t, ".", map[string]string{"configFile": cfg})
	web1, err := os.ReadFile("testdata/web1.xml")
	require.NoError(t, err)
	hooks := t.TempDir()

	start := hookkittest.Event(event.QEMU, "start").WithStdin(web1)
	start.HooksDir = hooks
	res := hookkittest.Exec(t, bin, start)
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Empty(t, res.Stderr)
	assert.Contains(t, res.Stdout, "nft add rule inet hookkit_pf_c1f222e64bae4717be4af8eaa33cd9ff prerouting meta nfproto ipv4 tcp dport 2222 dnat ip to 192.168.122.10:22\n")
	assert.Contains(t, res.Stdout, `iifname "\"eth0\"" meta nfproto ipv6 udp dport 5353 dnat ip6 to "[fd00::10]:53"`)
	assert.FileExists(t, filepath.Join(stateDir, "c1f222e6-4bae-4717-be4a-f8eaa33cd9ff", "portforward.json"))

	release := hookkittest.Event(event.QEMU, "release").WithExtra("destroyed")
	release.HooksDir = hooks
	res = hookkittest.Exec(t, bin, release)
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Equal(t, "nft delete table inet hookkit_pf_c1f222e64bae4717be4af8eaa33cd9ff\n", res.Stdout)
	assert.NoDirExists(t, filepath.Join(stateDir, "c1f222e6-4bae-4717-be4a-f8eaa33cd9ff"))

	bad := start.WithStdin([]byte(strings.Replace(string(web1), `host-port="2222"`, `host-port="22; reboot"`, 1)))
	res = hookkittest.Exec(t, bin, bad)
	require.Equal(t, 1, res.Code)
	assert.Equal(t, `portforward: qemu hooktest start begin: portforward: metadata https://hookkit.dev/portforward/1: forward 1: host-port: "22; reboot" is not a port number (1-65535)`+"\n", res.Stderr)
	assert.Empty(t, res.Stdout)

	require.NoError(t, os.WriteFile(cfg, []byte(`{"backend": "nft", "dryRn": true}`), 0o600))
	res = hookkittest.Exec(t, bin, start)
	require.Equal(t, 1, res.Code)
	assert.Contains(t, res.Stderr, `unknown field "dryRn"`)
}
