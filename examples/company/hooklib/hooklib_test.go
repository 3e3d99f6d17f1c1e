package hooklib

import (
	"bufio"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/hookkit-dev/hookkit/examples/audit/audit"
	"github.com/hookkit-dev/hookkit/examples/command"
	"github.com/hookkit-dev/hookkit/examples/portforward/portforward"
	"github.com/hookkit-dev/hookkit/hookkit"
	"github.com/hookkit-dev/hookkit/hookkit/hookkittest"
	"github.com/hookkit-dev/hookkit/hookkit/state"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const pf = `<pf:portforward xmlns:pf="https://hookkit.dev/portforward/1"><pf:forward proto="tcp" host-port="8443" guest="192.168.122.20" guest-port="443"/></pf:portforward>`

// The composition: audit sees the policy's verdict; a refused VM opens no port.
func TestComposition(t *testing.T) {
	dir := t.TempDir()
	auditFile := filepath.Join(dir, "audit.jsonl")
	rec := &command.Recorder{}
	r := hookkit.New(hookkit.WithLogger(slog.New(slog.DiscardHandler)))
	Install(r,
		Audit(audit.Options{File: auditFile, LockDir: filepath.Join(dir, "lock")}),
		RequireOwner(OwnerPolicy{}),
		PortForward(portforward.Options{Runner: rec, State: state.Open(state.Options{Dir: filepath.Join(dir, "state")}), LockDir: filepath.Join(dir, "lock")}),
	)

	res := hookkittest.Run(r, withMetadata("prepare", "web1", pf))
	require.Equal(t, 1, res.Code)
	assert.Contains(t, res.Stderr, "has no owner")

	owned := `<owner xmlns="https://company.example/owner/1" team="web"/>` + pf
	require.Equal(t, 0, hookkittest.Run(r, withMetadata("prepare", "web1", owned)).Code)
	assert.Empty(t, rec.Calls(), "nothing opened at prepare")
	require.Equal(t, 0, hookkittest.Run(r, withMetadata("start", "web1", owned)).Code)
	assert.Len(t, rec.Calls(), 5)

	f, err := os.Open(auditFile)
	require.NoError(t, err)
	defer f.Close()
	var results []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e audit.Entry
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e))
		results = append(results, e.Op+": "+e.Result)
	}
	require.Len(t, results, 3)
	assert.Contains(t, results[0], `prepare: policy: domain "web1" has no owner`)
	assert.Equal(t, []string{"prepare: ok", "start: ok"}, results[1:])
}

func TestFunc(t *testing.T) {
	called := false
	m := Func("x", func(*hookkit.Router) { called = true })
	assert.Equal(t, "x", m.Name())
	Install(hookkit.New(), m)
	assert.True(t, called)
	assert.Equal(t, "audit", Audit(audit.Options{}).Name())
	assert.Equal(t, "require-owner", RequireOwner(OwnerPolicy{}).Name())
}
