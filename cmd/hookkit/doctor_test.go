package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDoctor(t *testing.T) {
	dir := hooksRoot(t)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "qemu.d"), 0o755))
	write := func(rel, content string, mode os.FileMode) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, rel), []byte(content), mode))
		require.NoError(t, os.Chmod(filepath.Join(dir, rel), mode))
	}
	write("qemu.d/10-net", "#!/bin/sh\n", 0o755)
	write("qemu.d/9-gpu", "#!/bin/sh\n", 0o755)
	write("qemu.d/9-gpu~", "#!/bin/sh\n", 0o755)
	write("qemu.d/notes.txt", "read me\n", 0o644)
	write("qemu.d/20-plain", "echo hi\n", 0o755)
	require.NoError(t, os.Symlink("gone", filepath.Join(dir, "qemu.d", "30-link")))
	write("network.d", "", 0o644)
	write("network", "#!/bin/sh\n", 0o755)

	r := hk(t, "", "doctor", "--dir", dir, "--proc-root", fakeProc(t, map[int]string{7: "libvirtd"}), "--sys-root", t.TempDir())
	require.Equal(t, 1, r.code, r.stdout)
	requireOneLineError(t, r, "doctor", "2 error(s) in "+dir)
	for _, want := range []string{
		"ok    " + dir + ": hooks present for: qemu, network\n",
		"warn  qemu.d/9-gpu: runs after 10-net, 20-plain: libvirt sorts in byte order, not numerically",
		"warn  qemu.d/9-gpu~: editor backup that libvirt runs",
		"warn  qemu.d/notes.txt: not executable: libvirt logs \"Non-executable hook script\" and skips it\n",
		"error qemu.d/20-plain: no #! line and not an ELF binary",
		"warn  qemu.d/30-link: broken symlink (-> gone): libvirt skips it\n",
		"error network.d: exists but is not a readable directory",
		"ok    qemu: present; each call runs, in this order: qemu.d/10-net, qemu.d/20-plain, qemu.d/9-gpu, qemu.d/9-gpu~\n",
		"warn  libvirtd (pid 7): started ",
		"2 error(s), 7 warning(s)\n",
	} {
		assert.Contains(t, r.stdout, want)
	}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		assert.Regexp(t, `^(ok   |warn |error) \S|^\d+ error`, line)
	}
}

func TestDoctorDaemonPredatesHooks(t *testing.T) {
	dir := hooksRoot(t)
	require.NoError(t, os.Mkdir(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "qemu"), []byte("#!/bin/sh\n"), 0o755))
	r := hk(t, "", "doctor", "--dir", dir, "--proc-root", fakeProc(t, map[int]string{99: "virtqemud"}), "--sys-root", t.TempDir())
	require.Equal(t, 0, r.code, r.stdout)
	assert.Contains(t, r.stdout, "warn  virtqemud (pid 99): started ")
	assert.Contains(t, r.stdout, "before every qemu hook file")
	assert.Contains(t, r.stdout, "kill -HUP 99 (or: systemctl reload virtqemud)")

	missing := filepath.Join(t.TempDir(), "none")
	r = hk(t, "", "doctor", "--dir", missing, "--proc-root", fakeProc(t, nil))
	assert.Equal(t, 0, r.code)
	assert.Contains(t, r.stdout, "warn  "+missing+": does not exist: libvirt runs no hooks\n")
}

func TestDoctorSELinux(t *testing.T) {
	dir := hooksRoot(t)
	require.NoError(t, os.Mkdir(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "qemu"), []byte("#!/bin/sh\n"), 0o755))
	sys := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(sys, "fs", "selinux", "booleans"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(sys, "fs", "selinux", "enforce"), []byte("1"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(sys, "fs", "selinux", "booleans", "virt_hooks_unconfined"), []byte("0 0"), 0o644))
	r := hk(t, "", "doctor", "--dir", dir, "--proc-root", fakeProc(t, nil), "--sys-root", sys)
	require.Equal(t, 0, r.code, r.stdout)
	assert.Contains(t, r.stdout, "warn  selinux: enforcing with virt_hooks_unconfined off")
	assert.Contains(t, r.stdout, "setsebool -P virt_hooks_unconfined on")
}
