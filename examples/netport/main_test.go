package main

import (
	"bufio"
	"encoding/json"
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

// TestBinary runs the built hook as libvirt does, in dry-run mode, through a port's life: created before
// its tap, applied at qemu started, removed at port-deleted; every action is a JSON line in the log file.
func TestBinary(t *testing.T) {
	dir := t.TempDir()
	sys := filepath.Join(dir, "sys")
	logFile := filepath.Join(dir, "log", "netport.jsonl")
	require.NoError(t, os.MkdirAll(filepath.Join(sys, "class", "net"), 0o755))
	cfg := filepath.Join(dir, "netport.json")
	require.NoError(t, os.WriteFile(cfg, []byte(`{"dryRun": true, "logFile": "`+logFile+`", "sysRoot": "`+sys+
		`", "stateDir": "`+filepath.Join(dir, "state")+`", "lockDir": "`+filepath.Join(dir, "lock")+`"}`), 0o600))
	bin := hookbuild.Build(t, ".", map[string]string{"configFile": cfg})
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(t, err)
		return b
	}
	hooks := t.TempDir()
	call := func(c hookkittest.Call) hookkittest.Result {
		c.HooksDir, c.DName = hooks, "netport"
		return hookkittest.Exec(t, bin, c)
	}

	res := call(hookkittest.Event(event.Network, "port-created").WithStdin(read("port-created.xml")))
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Empty(t, res.Stdout, "no tap yet")

	require.NoError(t, os.MkdirAll(filepath.Join(sys, "class", "net", "vnet7"), 0o755))
	res = call(hookkittest.Event(event.QEMU, "started").WithStdin(read("owner-started.xml")).WithObject("hooktest-net"))
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Equal(t, 5, strings.Count(res.Stdout, "\n"), res.Stdout)
	assert.Contains(t, res.Stdout, "bridge vlan add dev vnet7 vid 42 pvid untagged\n")

	res = call(hookkittest.Event(event.Network, "port-deleted").WithStdin(read("port-deleted.xml")))
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Equal(t, 4, strings.Count(res.Stdout, "\n"), res.Stdout)
	assert.Contains(t, res.Stdout, "tc qdisc del dev vnet7 root\n")

	f, err := os.Open(logFile)
	require.NoError(t, err)
	defer f.Close()
	var commands []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var rec map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &rec), sc.Text())
		if rec["msg"] == "netport: run" {
			commands = append(commands, rec["command"].(string))
			assert.NotEmpty(t, rec["driver"])
		}
	}
	assert.Len(t, commands, 9)

	bad := strings.Replace(string(read("port-created.xml")), "average='500'", "average='0'", 1)
	res = call(hookkittest.Event(event.Network, "port-created").WithStdin([]byte(bad)))
	require.Equal(t, 1, res.Code)
	assert.Equal(t, "netport: network hooknet port-created begin: netport: port fbcedb06-523f-45ab-a490-287c5e9e24bf: bandwidth outbound: average 0: want 1-4194304 KiB/s\n", res.Stderr)
}
