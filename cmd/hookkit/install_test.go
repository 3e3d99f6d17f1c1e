package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeProc writes a /proc tree holding the given daemons, all started at boot.
func fakeProc(t *testing.T, daemons map[int]string) string {
	t.Helper()
	root := t.TempDir()
	boot := time.Now().Add(-24 * time.Hour).Unix()
	require.NoError(t, os.WriteFile(filepath.Join(root, "stat"), fmt.Appendf(nil, "btime %d\n", boot), 0o644))
	for pid, name := range daemons {
		require.NoError(t, os.MkdirAll(filepath.Join(root, fmt.Sprint(pid)), 0o755))
		stat := fmt.Sprintf("%d (%s) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0\n", pid, name)
		require.NoError(t, os.WriteFile(filepath.Join(root, fmt.Sprint(pid), "stat"), []byte(stat), 0o644))
	}
	return root
}

// hooksRoot returns a hooks directory path (not created) inside a fresh 0755 directory.
func hooksRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	require.NoError(t, os.Chmod(root, 0o755))
	return filepath.Join(root, "hooks")
}

func listing(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	_ = filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err == nil {
			rel, _ := filepath.Rel(dir, path)
			out = append(out, rel+" "+info.Mode().String())
		}
		return nil
	})
	return out
}

func TestInstallUninstall(t *testing.T) {
	dir := hooksRoot(t)
	bin, _ := testHook(t, nil, nil)
	proc := fakeProc(t, map[int]string{42: "virtqemud", 43: "virtnetworkd", 44: "virtstoraged"})

	r := hk(t, "", "install", bin, "--driver", "qemu,network", "--dir", dir, "--dry-run", "--proc-root", proc)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "plan: create directory "+dir)
	assert.Contains(t, r.stdout, "plan: install "+filepath.Join(dir, "qemu")+": copy of "+bin+" (0755")
	assert.Contains(t, r.stdout, "plan: symlink "+filepath.Join(dir, "network")+" -> qemu\n")
	assert.Contains(t, r.stdout, "reload: qemu had no hook before: reload virtqemud (pid 42) so libvirt sees it: kill -HUP 42 (or: systemctl reload virtqemud)\n")
	assert.Contains(t, r.stdout, "reload: network had no hook before: reload virtnetworkd (pid 43)")
	assert.Contains(t, r.stdout, "dry run: nothing changed\n")
	_, err := os.Stat(dir)
	require.ErrorIs(t, err, os.ErrNotExist, "a dry run changes nothing")

	r = hk(t, "", "install", bin, "--driver", "qemu,network", "--dir", dir, "--proc-root", proc)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "done: install "+filepath.Join(dir, "qemu"))
	info, err := os.Lstat(filepath.Join(dir, "qemu"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o755), info.Mode())
	link, err := os.Readlink(filepath.Join(dir, "network"))
	require.NoError(t, err)
	assert.Equal(t, "qemu", link)

	d := hk(t, "", "doctor", "--dir", dir, "--proc-root", proc)
	assert.Equal(t, 0, d.code, d.stdout)
	assert.Contains(t, d.stdout, "ok    "+dir+": hooks present for: qemu, network\n")

	r = hk(t, "", "install", bin, "--driver", "qemu,network", "--dir", dir, "--proc-root", proc)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "done: keep "+filepath.Join(dir, "qemu")+" (already installed by hookkit)\n")
	assert.Contains(t, r.stdout, "reload: not needed")

	r = hk(t, "", "uninstall", "--dir", dir, "--dry-run")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "plan: remove "+filepath.Join(dir, "network")+"\n")
	r = hk(t, "", "uninstall", "--dir", dir)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "done: remove "+filepath.Join(dir, "qemu")+"\n")
	assert.Equal(t, []string{". drwxr-xr-x"}, listing(t, dir))

	r = hk(t, "", "uninstall", "--dir", dir)
	assert.Equal(t, 1, r.code)
	requireOneLineError(t, r, "uninstall", "hookkit installed nothing matching")
}

func TestInstallAsDWithBackup(t *testing.T) {
	dir := hooksRoot(t)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "qemu.d"), 0o755))
	old := "#!/bin/sh\necho previous\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "qemu.d", "audit"), []byte(old), 0o755))
	bin, _ := testHook(t, nil, nil)

	r := hk(t, "", "install", bin, "--all", "--as-d", "audit", "--dir", dir, "--proc-root", fakeProc(t, nil))
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "done: back up "+filepath.Join(dir, "qemu.d", "audit")+" to "+filepath.Join(dir, ".hookkit-backup", "qemu.d__audit.hookkit-bak."))
	assert.Contains(t, r.stdout, "reload: daemon had no hook before: no running daemon serves it")
	assert.NotContains(t, r.stdout, "reload: qemu", "qemu already had a hook")
	raw, err := os.ReadFile(filepath.Join(dir, "daemon.d", "audit"))
	require.NoError(t, err)
	assert.Contains(t, string(raw), "\x7fELF", "the first driver of --all gets the copy")
	for _, d := range []string{"qemu", "lxc", "network", "libxl", "bhyve"} {
		link, err := os.Readlink(filepath.Join(dir, d+".d", "audit"))
		require.NoError(t, err, d)
		assert.Equal(t, "../daemon.d/audit", link)
	}
	backups, err := filepath.Glob(filepath.Join(dir, ".hookkit-backup", "qemu.d__audit.hookkit-bak.*"))
	require.NoError(t, err)
	require.Len(t, backups, 1)
	info, err := os.Stat(backups[0])
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	d := hk(t, "", "doctor", "--dir", dir, "--proc-root", fakeProc(t, nil))
	assert.Equal(t, 0, d.code, d.stdout)
	assert.NotContains(t, d.stdout, "backup", "backups must be invisible to libvirt")

	r = hk(t, "", "uninstall", "--dir", dir, "--driver", "daemon")
	assert.Equal(t, 1, r.code)
	requireOneLineError(t, r, "uninstall", "links to daemon.d/audit")

	r = hk(t, "", "uninstall", "--dir", dir, "--as-d", "audit")
	require.Equal(t, 0, r.code, r.stderr)
	raw, err = os.ReadFile(filepath.Join(dir, "qemu.d", "audit"))
	require.NoError(t, err)
	assert.Equal(t, old, string(raw))
	assert.Equal(t, []string{". drwxr-xr-x", "qemu.d drwxr-xr-x", "qemu.d/audit -rwxr-xr-x"}, listing(t, dir))
}

func TestInstallErrors(t *testing.T) {
	bin, _ := testHook(t, nil, nil)
	writable := hooksRoot(t)
	require.NoError(t, os.Mkdir(writable, 0o755))
	require.NoError(t, os.Chmod(writable, 0o777))
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"install", bin}, 2, "say which drivers"},
		{[]string{"install", bin, "--all", "--driver", "qemu"}, 2, "--all and --driver exclude each other"},
		{[]string{"install", "--driver", "qemu"}, 2, "missing BINARY"},
		{[]string{"install", bin, "--driver", "qemu,xen"}, 2, `unknown driver "xen"`},
		{[]string{"install", bin, "--driver", "qemu,qemu"}, 2, "driver qemu given twice"},
		{[]string{"install", bin, "--driver", "qemu", "--dir", writable}, 1, "writable by group or other"},
		{[]string{"uninstall", "x"}, 2, "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.args[1:]), func(t *testing.T) {
			r := hk(t, "", tt.args...)
			assert.Equal(t, tt.code, r.code)
			requireOneLineError(t, r, tt.args[0], tt.want)
		})
	}
}

func TestConcurrentInstallsKeepEveryEntry(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("installs lock only when run as root")
	}
	dir := hooksRoot(t)
	bin, _ := testHook(t, nil, nil)
	proc := fakeProc(t, nil)
	const n = 6
	type outcome struct {
		r   result
		err error
	}
	done := make(chan outcome, n)
	for i := range n {
		go func() {
			r, err := runHookkit("", "install", bin, "--driver", "qemu,lxc", "--as-d", fmt.Sprintf("%02d-hook", i), "--dir", dir, "--proc-root", proc)
			done <- outcome{r, err}
		}()
	}
	for range n {
		o := <-done
		require.NoError(t, o.err)
		assert.Equal(t, 0, o.r.code, o.r.stderr)
	}
	raw, err := os.ReadFile(filepath.Join(dir, ".hookkit-backup", "manifest.json"))
	require.NoError(t, err)
	for i := range n {
		assert.Contains(t, string(raw), fmt.Sprintf(`"path": "qemu.d/%02d-hook"`, i))
		assert.Contains(t, string(raw), fmt.Sprintf(`"path": "lxc.d/%02d-hook"`, i))
	}
	r := hk(t, "", "uninstall", "--dir", dir)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, []string{". drwxr-xr-x"}, listing(t, dir))
}
