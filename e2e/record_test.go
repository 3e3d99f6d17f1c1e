package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppendReadRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "records.jsonl")

	recs, err := ReadRecords(path)
	require.NoError(t, err, "a missing file holds no records")
	assert.Empty(t, recs)

	want := []Record{
		{Hook: "recorder", Route: "OnDomainPrepare", Argv: []string{"/etc/libvirt/hooks/qemu", "vm1", "prepare", "begin", "-"},
			Driver: "qemu", Object: "vm1", Op: "prepare", SubOp: "begin", Name: "vm1", UUID: "c7a5fdbd-cdaf-9455-926a-d65c16db1809"},
		{Hook: "recorder", Route: "OnDaemonStart", Driver: "daemon", Op: "start", Extra: "start"},
	}
	for _, r := range want {
		require.NoError(t, Append(path, r))
	}
	got, err := ReadRecords(path)
	require.NoError(t, err)
	assert.Equal(t, want, got)

	tests := []struct {
		name    string
		tail    string
		want    int
		wantErr bool
	}{
		{name: "line still being written is left out", tail: `{"hook":"rec`, want: 2},
		{name: "blank line is skipped", tail: "\n", want: 2},
		{name: "corrupt complete line is an error", tail: "{oops\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "r.jsonl")
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(p, append(b, tt.tail...), 0o600))
			got, err := ReadRecords(p)
			if tt.wantErr {
				assert.ErrorContains(t, err, "line 3")
				return
			}
			require.NoError(t, err)
			assert.Len(t, got, tt.want)
		})
	}
}
