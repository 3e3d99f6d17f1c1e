package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/hookkit-dev/hookkit/examples/audit/audit"
	"github.com/hookkit-dev/hookkit/examples/internal/hookbuild"
	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/hookkit/hookkittest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// concurrent is how many hook processes run at once in TestConcurrentExec.
const concurrent = 50

// TestConcurrentExec starts 50 copies of the built binary at once, for several drivers and an op no
// libvirt has yet, and checks every line is present exactly once and parses.
func TestConcurrentExec(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "log", "audit.jsonl")
	cfg := filepath.Join(dir, "audit.json")
	require.NoError(t, os.WriteFile(cfg, []byte(`{"file": "`+file+`", "lockDir": "`+filepath.Join(dir, "lock")+`", "required": true}`), 0o600))
	bin := hookbuild.Build(t, ".", map[string]string{"configFile": cfg})

	calls := make([]hookkittest.Call, concurrent)
	for i := range calls {
		obj := fmt.Sprintf("obj%02d", i)
		switch i % 5 {
		case 0:
			calls[i] = hookkittest.Event(event.QEMU, "prepare").WithObject(obj)
		case 1:
			calls[i] = hookkittest.Event(event.QEMU, "release").WithObject(obj).WithExtra("from snapshot")
		case 2:
			calls[i] = hookkittest.Event(event.Network, "port-created").WithObject(obj)
		case 3:
			calls[i] = hookkittest.Event(event.LXC, "started").WithObject(obj).InDir("00-audit")
		case 4:
			calls[i] = hookkittest.NewCall(event.QEMU, obj, "frobnicate", "begin", "").WithStdin(hookkittest.Fixture(event.QEMU, "start"))
		}
	}
	start := make(chan struct{})
	results := make([]hookkittest.Result, concurrent)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = hookkittest.Exec(t, bin, calls[i])
		}()
	}
	close(start)
	wg.Wait()
	for i, res := range results {
		require.Equal(t, 0, res.Code, "call %d: %s", i, res.Stderr)
	}

	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	seen := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e audit.Entry
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e), "line %q", sc.Text())
		seen[e.Driver+" "+e.Object+" "+e.Op]++
	}
	require.NoError(t, sc.Err())
	require.Len(t, seen, concurrent)
	for i, c := range calls {
		assert.Equal(t, 1, seen[string(c.Driver)+" "+c.Object+" "+c.Op], "call %d", i)
	}
}

// TestBuildTimeDefault checks the -X main.auditFile default applies when the config file has no "file".
func TestBuildTimeDefault(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "audit.jsonl")
	cfg := filepath.Join(dir, "audit.json")
	require.NoError(t, os.WriteFile(cfg, []byte(`{"lockDir": "`+filepath.Join(dir, "lock")+`"}`), 0o600))
	bin := hookbuild.Build(t, ".", map[string]string{"auditFile": file, "configFile": cfg})
	res := hookkittest.Exec(t, bin, hookkittest.Event(event.Daemon, "start"))
	require.Equal(t, 0, res.Code, res.Stderr)
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	var e audit.Entry
	require.NoError(t, json.Unmarshal(b, &e))
	assert.Equal(t, "daemon", e.Driver)
	assert.Equal(t, "start", e.Extra)
}
