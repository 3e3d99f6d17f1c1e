package daemonproc

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeProc writes a proc tree with a boot time and one stat file per process.
func fakeProc(t *testing.T, boot int64, procs map[int]string, ticks map[int]uint64) string {
	t.Helper()
	root := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "stat"),
		fmt.Appendf(nil, "cpu  1 2 3\nbtime %d\nprocesses 9\n", boot), 0o644))
	for pid, name := range procs {
		dir := filepath.Join(root, fmt.Sprint(pid))
		require.NoError(t, os.MkdirAll(dir, 0o755))
		// Fields 3..21 then starttime (22) and a few more.
		line := fmt.Sprintf("%d (%s) S 1 %d %d 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 %d 1000 10 18446744073709551615\n",
			pid, name, pid, pid, ticks[pid])
		require.NoError(t, os.WriteFile(filepath.Join(dir, "stat"), []byte(line), 0o644))
	}
	require.NoError(t, os.MkdirAll(filepath.Join(root, "self"), 0o755))
	return root
}

func TestFind(t *testing.T) {
	root := fakeProc(t, 1_700_000_000,
		map[int]string{10: "virtqemud", 7: "libvirtd", 30: "bash", 42: "virtnetworkd", 50: "we (ird) name"},
		map[int]uint64{10: 250, 7: 100, 30: 5, 42: 1000, 50: 1})
	ps, err := Find(root)
	require.NoError(t, err)
	require.Len(t, ps, 3)
	assert.Equal(t, Process{PID: 7, Name: "libvirtd", Started: time.Unix(1_700_000_001, 0)}, ps[0])
	assert.Equal(t, "virtqemud", ps[1].Name)
	assert.Equal(t, time.Unix(1_700_000_002, 500_000_000), ps[1].Started)
	assert.Equal(t, "virtnetworkd (pid 42)", ps[2].String())
}

func TestFindWithoutBootTime(t *testing.T) {
	_, err := Find(t.TempDir())
	require.Error(t, err)
}

func TestParseStatOddName(t *testing.T) {
	name, ticks, err := parseStat([]byte("5 (a) b) R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 777 9\n"))
	require.NoError(t, err)
	assert.Equal(t, "a) b", name)
	assert.Equal(t, uint64(777), ticks)
	_, _, err = parseStat([]byte("garbage"))
	assert.Error(t, err)
}

func TestServingAndNames(t *testing.T) {
	ps := []Process{{PID: 1, Name: "libvirtd"}, {PID: 2, Name: "virtqemud"}, {PID: 3, Name: "virtnetworkd"},
		{PID: 4, Name: "virtstoraged"}, {PID: 5, Name: "virtqemud", OtherMountNS: true}}
	tests := []struct {
		driver event.Driver
		pids   []int
	}{
		{event.QEMU, []int{1, 2}},
		{event.Network, []int{1, 3}},
		{event.LXC, []int{1}},
		{event.Daemon, []int{1, 2, 3, 4}},
	}
	for _, tt := range tests {
		t.Run(string(tt.driver), func(t *testing.T) {
			var pids []int
			for _, p := range Serving(tt.driver, ps) {
				pids = append(pids, p.PID)
			}
			assert.Equal(t, tt.pids, pids)
		})
	}
	assert.Equal(t, []string{"libvirtd", "virtxend"}, Names(event.Libxl))
}

func TestReloadAdvice(t *testing.T) {
	lines := ReloadAdvice([]event.Driver{event.QEMU, event.LXC}, []Process{{PID: 9, Name: "virtqemud"}})
	require.Len(t, lines, 2)
	assert.Equal(t, "qemu had no hook before: reload virtqemud (pid 9) so libvirt sees it: kill -HUP 9 (or: systemctl reload virtqemud)", lines[0])
	assert.Contains(t, lines[1], "lxc had no hook before: no running daemon serves it (libvirtd or virtlxcd)")
}

// TestFindRealProc runs a copy of sleep named virtqemud and finds it in the real /proc.
func TestFindRealProc(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep:", err)
	}
	if _, err := os.Stat("/proc/stat"); err != nil {
		t.Skip("no /proc:", err)
	}
	raw, err := os.ReadFile(sleep)
	require.NoError(t, err)
	fake := filepath.Join(t.TempDir(), "virtqemud")
	require.NoError(t, os.WriteFile(fake, raw, 0o755))
	before := time.Now().Add(-2 * time.Second) // start times have clock-tick precision and btime whole seconds
	cmd := exec.Command(fake, "60")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	ps, err := Find("/proc")
	require.NoError(t, err)
	var found *Process
	for i := range ps {
		if ps[i].PID == cmd.Process.Pid {
			found = &ps[i]
		}
	}
	require.NotNil(t, found, "pid %d not in %v", cmd.Process.Pid, ps)
	assert.Equal(t, "virtqemud", found.Name)
	assert.False(t, found.OtherMountNS)
	assert.False(t, found.Started.Before(before), "started %v, before the test ran (%v)", found.Started, before)
	assert.False(t, found.Started.After(time.Now().Add(2*time.Second)), "started in the future: %v", found.Started)
}
