package hardening

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFaultLogSinkBlocks gives the hook a fallback log file that blocks (no syslog socket): a FIFO that
// nobody opened for reading, where open(2) blocks, and one whose reader never reads, where write(2)
// blocks once the 64 KiB pipe buffer is full. It stands for any log file that stalls (a hung network
// file system, a log pipe whose consumer died). The hook must still answer libvirt, unchanged and in
// bounded time: a log sink must never hold the answer, whatever the handler logs and whatever the
// deadline.
func TestFaultLogSinkBlocks(t *testing.T) {
	needNamespace(t)
	bin, base := faultHook(t)
	logFile := filepath.Join(base, "logs", "faulthook.log")
	for _, tc := range []struct {
		name   string
		reader bool // a reader holds the FIFO open and never reads
	}{
		{"FIFO nobody opened: open blocks", false},
		{"FIFO whose reader never reads: write blocks", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, row := range []struct {
				object     string
				wantCode   int
				wantStderr string
			}{
				{"logerr", 1, "qemu: qemu logerr prepare begin: refused by policy\n"},
				{"logmany", 0, ""},
			} {
				resetBase(t, base)
				require.NoError(t, syscall.Mkfifo(logFile, 0o600))
				if tc.reader {
					r, err := os.OpenFile(logFile, os.O_RDONLY|syscall.O_NONBLOCK, 0)
					require.NoError(t, err)
					t.Cleanup(func() { r.Close() })
				}
				res, took := runIn(t, true, []string{"-dev", t.TempDir()}, bin, call(t, row.object))
				t.Logf("%s: exit %d in %v", row.object, res.Code, took.Round(time.Millisecond))
				assert.Equal(t, row.wantCode, res.Code, row.object)
				assert.Equal(t, row.wantStderr, res.Stderr, row.object)
				assert.Empty(t, res.Stdout, row.object)
			}
		})
	}
}
