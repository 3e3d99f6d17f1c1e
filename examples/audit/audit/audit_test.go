package audit

import (
	"bufio"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/hookkit-dev/hookkit/hookkit"
	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/hookkit/hookkittest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var fixed = time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)

func readEntries(t *testing.T, path string) []Entry {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []Entry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e Entry
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e), "line %q", sc.Text())
		out = append(out, e)
	}
	require.NoError(t, sc.Err())
	return out
}

func newRouter(t *testing.T, opts Options) (*hookkit.Router, string) {
	dir := t.TempDir()
	if opts.File == "" {
		opts.File = filepath.Join(dir, "log", "audit.jsonl")
	}
	opts.LockDir = filepath.Join(dir, "lock")
	opts.Now = func() time.Time { return fixed }
	r := hookkit.New(hookkit.WithLogger(slog.New(slog.DiscardHandler)))
	New(opts).Register(r)
	return r, opts.File
}

func TestEntries(t *testing.T) {
	tests := []struct {
		name string
		call hookkittest.Call
		want Entry
	}{
		{"qemu prepare", hookkittest.Event(event.QEMU, "prepare"),
			Entry{Driver: "qemu", Object: "hooktest", Op: "prepare", SubOp: "begin", UUID: "c1f222e6-4bae-4717-be4a-f8eaa33cd9ff", Known: true}},
		{"qemu release with a reason", hookkittest.Event(event.QEMU, "release").WithExtra("from snapshot"),
			Entry{Driver: "qemu", Object: "hooktest", Op: "release", SubOp: "end", Extra: "from snapshot", UUID: "c1f222e6-4bae-4717-be4a-f8eaa33cd9ff", Known: true}},
		{"network port-created", hookkittest.Event(event.Network, "port-created"),
			Entry{Driver: "network", Object: "hooknet", Op: "port-created", SubOp: "begin", UUID: "bcfeb991-7af2-4e6e-9e0a-24c6ee368a30",
				Port: "fbcedb06-523f-45ab-a490-287c5e9e24bf", Owner: "ae77e974-8cd8-45d5-b11f-8ff5bba678ca", Known: true}},
		{"daemon reload", hookkittest.Event(event.Daemon, "reload"),
			Entry{Driver: "daemon", Op: "reload", SubOp: "begin", Extra: "SIGHUP", Known: true}},
		{"a future qemu op", hookkittest.NewCall(event.QEMU, "hooktest", "frobnicate", "begin", "").WithStdin(hookkittest.Fixture(event.QEMU, "start")),
			Entry{Driver: "qemu", Object: "hooktest", Op: "frobnicate", SubOp: "begin", UUID: "c1f222e6-4bae-4717-be4a-f8eaa33cd9ff"}},
		{"the migrate filter", hookkittest.Event(event.QEMU, "migrate"),
			Entry{Driver: "qemu", Object: "hooktest", Op: "migrate", SubOp: "begin", UUID: "c1f222e6-4bae-4717-be4a-f8eaa33cd9ff", Known: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, file := newRouter(t, Options{})
			res := hookkittest.Run(r, tt.call)
			require.Equal(t, 0, res.Code, res.Stderr)
			assert.Empty(t, res.Stdout, "a filter that changes nothing writes nothing")
			want := tt.want
			want.Time, want.Result = fixed, "ok"
			assert.Equal(t, []Entry{want}, readEntries(t, file))
		})
	}
}

func TestRecordsOtherHandlersResult(t *testing.T) {
	r, file := newRouter(t, Options{})
	r.OnQEMUPrepare(func(*hookkit.Domain) error { return errors.New("no owner") })
	r.OnQEMUStart(func(*hookkit.Domain) error { panic("boom") })
	r.OnQEMUStopped(func(*hookkit.Domain) error { runtime.Goexit(); return nil }) // t.FailNow under test
	assert.Equal(t, 1, hookkittest.Run(r, hookkittest.Event(event.QEMU, "prepare")).Code)
	assert.Equal(t, 1, hookkittest.Run(r, hookkittest.Event(event.QEMU, "start")).Code)
	assert.Equal(t, 0, hookkittest.Run(r, hookkittest.Event(event.QEMU, "started")).Code)
	res := hookkittest.Run(r, hookkittest.Event(event.QEMU, "stopped"))
	assert.Equal(t, 1, res.Code)
	assert.Contains(t, res.Stderr, "handler called runtime.Goexit instead of returning", "not a panic(nil)")
	var results []string
	for _, e := range readEntries(t, file) {
		results = append(results, e.Op+": "+e.Result)
	}
	assert.Equal(t, []string{"prepare: no owner", "start: panic: boom", "started: ok", "stopped: handler called runtime.Goexit"}, results)
}

func TestUnwritableFile(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(blocker, nil, 0o600))
	bad := filepath.Join(blocker, "audit.jsonl") // a path under a regular file

	r, _ := newRouter(t, Options{File: bad})
	res := hookkittest.Run(r, hookkittest.Event(event.QEMU, "prepare"))
	assert.Equal(t, 0, res.Code, "by default a lost audit line does not stop the VM")

	r, _ = newRouter(t, Options{File: bad, Required: true})
	res = hookkittest.Run(r, hookkittest.Event(event.QEMU, "prepare"))
	assert.Equal(t, 1, res.Code)
	assert.Contains(t, res.Stderr, "audit: mkdir "+blocker+": not a directory")
}
