package command

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFormat(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"nft", []string{"delete", "table", "inet", "t"}, "nft delete table inet t"},
		{"nft", []string{"add", "chain", "inet", "t", "c", "{", "type", "nat", ";", "}"}, `nft add chain inet t c "{" type nat ";" "}"`},
		{"tc", []string{"qdisc", ""}, `tc qdisc ""`},
		{"iptables", []string{"--comment", "a b"}, `iptables --comment "a b"`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Format(tt.name, tt.args...))
	}
}

func TestDryRunAndRecorder(t *testing.T) {
	var buf bytes.Buffer
	d := &DryRun{W: &buf}
	require.NoError(t, d.Run(context.Background(), "tc", "qdisc", "del", "dev", "vnet0", "root"))
	assert.Equal(t, "tc qdisc del dev vnet0 root\n", buf.String())

	boom := errors.New("boom")
	r := &Recorder{Fail: func(argv []string) error {
		if argv[1] == "bad" {
			return boom
		}
		return nil
	}}
	require.NoError(t, r.Run(context.Background(), "x", "good"))
	require.ErrorIs(t, r.Run(context.Background(), "x", "bad"), boom)
	assert.Equal(t, []string{"x good", "x bad"}, r.Calls())
	r.Reset()
	assert.Empty(t, r.Calls())
}

func TestExec(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "fake-tool")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\n[ \"$1\" = ok ] && exit 0\necho \"no such table: $2\" >&2\necho second line >&2\nexit 3\n"), 0o755))
	t.Setenv("PATH", dir)

	tests := []struct {
		name    string
		prog    string
		args    []string
		wantErr string
	}{
		{"success", "fake-tool", []string{"ok"}, ""},
		{"failure shows the first stderr line", "fake-tool", []string{"fail", "t1"}, "fake-tool fail t1: exit status 3: no such table: t1"},
		{"missing tool is named", "nft", []string{"list", "ruleset"}, `nft: not found in PATH "` + dir + `"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Exec{}.Run(context.Background(), tt.prog, tt.args...)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.NotContains(t, err.Error(), "second line")
		})
	}
}
