package hookdir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/internal/daemonproc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const script = "#!/bin/sh\nexit 0\n"

// files creates path -> content below dir; a content starting with "->" makes a symlink, "dir" a directory.
func files(t *testing.T, dir string, spec map[string]string, modes map[string]os.FileMode) {
	t.Helper()
	for rel, content := range spec {
		path := filepath.Join(dir, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		switch {
		case strings.HasPrefix(content, "->"):
			require.NoError(t, os.Symlink(strings.TrimPrefix(content, "->"), path))
		case content == "dir":
			require.NoError(t, os.MkdirAll(path, 0o755))
		default:
			mode, ok := modes[rel]
			if !ok {
				mode = 0o755
			}
			require.NoError(t, os.WriteFile(path, []byte(content), mode))
			require.NoError(t, os.Chmod(path, mode))
		}
	}
}

func hooksDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "hooks")
	require.NoError(t, os.Mkdir(dir, 0o755))
	return dir
}

func TestScanPresence(t *testing.T) {
	dir := hooksDir(t)
	files(t, dir, map[string]string{
		"qemu":              script,
		"lxc":               script, // not executable
		"network.d/b":       script,
		"network.d/a":       "->b",
		"network.d/notes":   "text",
		"network.d/subdir":  "dir",
		"network.d/dangles": "->nowhere",
		"libxl.d/x":         script, // not executable: libxl not present
		"bhyve":             "->missing",
		"README":            "hello",
	}, map[string]os.FileMode{"lxc": 0o644, "network.d/notes": 0o644, "libxl.d/x": 0o644, "README": 0o644})
	d, err := Scan(dir)
	require.NoError(t, err)
	assert.Equal(t, []event.Driver{event.QEMU, event.Network}, d.Present())

	var names []string
	for _, e := range d.Driver(event.Network).Runs() {
		names = append(names, e.Name)
	}
	assert.Equal(t, []string{"a", "b"}, names, "symlinks are followed, in byte order")
	assert.True(t, d.Driver(event.Bhyve).Main.Broken())
	require.Len(t, d.Others, 1)
	assert.Equal(t, "README", d.Others[0].Name)
}

func TestScanMissingDir(t *testing.T) {
	d, err := Scan(filepath.Join(t.TempDir(), "nope"))
	require.NoError(t, err)
	assert.Nil(t, d.Info)
	assert.Empty(t, d.Present())
	fs := Check(d, CheckOptions{})
	assert.Equal(t, Warn, fs[0].Level)
	assert.Contains(t, fs[0].Message, "does not exist")
}

// find returns the findings about subject.
func find(fs []Finding, subject string) []Finding {
	var out []Finding
	for _, f := range fs {
		if f.Subject == subject {
			out = append(out, f)
		}
	}
	return out
}

func TestCheck(t *testing.T) {
	dir := hooksDir(t)
	files(t, dir, map[string]string{
		"qemu":                script,
		"qemu.d/10-late":      script,
		"qemu.d/9-early":      script,
		"qemu.d/20-x~":        script,
		"qemu.d/.hidden":      script,
		"qemu.d/30-y.rpmnew":  script,
		"qemu.d/40-noexec":    script,
		"qemu.d/50-plain":     "echo no shebang\n",
		"qemu.d/60-badinterp": "#!/no/such/shell\n",
		"qemu.d/70-elf":       "\x7fELF....",
		"qemu.d/80-gw":        script,
		"qemu.d/90-broken":    "->missing",
		"qemu.d/95-crlf":      "#!/bin/sh\r\nexit 0\r\n",
		"lxc.d":               "not a dir",
		"libxl":               script,
		"libxl.d":             "->nowhere",
		"network":             script,
		"daemon.sh":           script,
	}, map[string]os.FileMode{"qemu.d/40-noexec": 0o644, "qemu.d/80-gw": 0o775, "lxc.d": 0o644})
	d, err := Scan(dir)
	require.NoError(t, err)
	fs := Check(d, CheckOptions{})

	tests := []struct {
		subject string
		level   Level
		text    string
	}{
		{dir, OK, "hooks present for: qemu, network, libxl"},
		{"qemu.d/9-early", Warn, "runs after 10-late, 20-x~, 30-y.rpmnew, and 4 more: libvirt sorts in byte order, not numerically; pad the numbers to the same width (e.g. 09-early)"},
		{"qemu.d/20-x~", Warn, "editor backup that libvirt runs"},
		{"qemu.d/.hidden", Warn, "dotfile that libvirt runs"},
		{"qemu.d/30-y.rpmnew", Warn, "backup file (.rpmnew)"},
		{"qemu.d/40-noexec", Warn, "Non-executable hook script"},
		{"qemu.d/50-plain", Error, "no #! line and not an ELF binary"},
		{"qemu.d/60-badinterp", Error, "interpreter /no/such/shell"},
		{"qemu.d/80-gw", Error, "writable by group or other (mode 0775)"},
		{"qemu.d/90-broken", Warn, "broken symlink (-> missing)"},
		{"lxc.d", Error, "not a readable directory"},
		{"qemu.d/95-crlf", Error, "the #! line ends with a carriage return"},
		{"libxl.d", Warn, "symbolic link to nothing (nowhere): libvirt takes it for an absent directory"},
		{"daemon.sh", Warn, "never runs"},
		{"qemu", OK, "present; each call runs, in this order: qemu, qemu.d/.hidden, qemu.d/10-late, qemu.d/20-x~"},
		{"daemons", OK, "no running libvirt daemon"},
	}
	for _, tt := range tests {
		t.Run(tt.subject, func(t *testing.T) {
			got := find(fs, tt.subject)
			require.NotEmpty(t, got, "no finding about %s in:\n%v", tt.subject, fs)
			var matched bool
			for _, f := range got {
				if f.Level == tt.level && strings.Contains(f.Message, tt.text) {
					matched = true
				}
			}
			assert.True(t, matched, "want %s %q, got %v", tt.level, tt.text, got)
		})
	}
	assert.Empty(t, find(fs, "qemu.d/70-elf"), "an ELF binary is fine")
	for _, f := range find(fs, "libxl.d") {
		assert.NotEqual(t, Error, f.Level, "a dangling <driver>.d symlink is no error for libvirt: %v", f)
	}
	assert.Equal(t, 5, Errors(fs))
}

func TestCheckDaemonsStartedBeforeHooks(t *testing.T) {
	dir := hooksDir(t)
	files(t, dir, map[string]string{"qemu": script, "network": script}, nil)
	old := time.Now().Add(-time.Hour)
	require.NoError(t, os.Chtimes(filepath.Join(dir, "network"), old, old))
	d, err := Scan(dir)
	require.NoError(t, err)
	fs := Check(d, CheckOptions{Daemons: []daemonproc.Process{
		{PID: 5, Name: "virtqemud", Started: time.Now().Add(-time.Minute)},
		{PID: 6, Name: "virtnetworkd", Started: time.Now().Add(-time.Minute)},
		{PID: 7, Name: "libvirtd", Started: time.Now().Add(-time.Minute), OtherMountNS: true},
	}})
	other := find(fs, "libvirtd (pid 7)")
	require.Len(t, other, 1, "a daemon in another mount namespace gets no reload advice")
	assert.Equal(t, OK, other[0].Level)
	assert.Contains(t, other[0].Message, "another mount namespace")
	q := find(fs, "virtqemud (pid 5)")
	require.Len(t, q, 1)
	assert.Equal(t, Warn, q[0].Level)
	assert.Contains(t, q[0].Message, "before every qemu hook file")
	assert.Contains(t, q[0].Message, "kill -HUP 5")
	n := find(fs, "virtnetworkd (pid 6)")
	require.Len(t, n, 1)
	assert.Equal(t, OK, n[0].Level)
}

func TestFindingString(t *testing.T) {
	assert.Equal(t, "warn  qemu.d/x~: editor backup", Finding{Warn, "qemu.d/x~", "editor backup"}.String())
	assert.Equal(t, "error x: y", Finding{Error, "x", "y"}.String())
}

func TestCheckMAC(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []Finding
	}{
		{"nothing", nil, nil},
		{"selinux confined", map[string]string{"fs/selinux/enforce": "1\n", "fs/selinux/booleans/virt_hooks_unconfined": "0 0"},
			[]Finding{{Warn, "selinux", ""}}},
		{"selinux unconfined", map[string]string{"fs/selinux/enforce": "1", "fs/selinux/booleans/virt_hooks_unconfined": "1 1"},
			[]Finding{{OK, "selinux", ""}}},
		{"selinux permissive", map[string]string{"fs/selinux/enforce": "0", "fs/selinux/booleans/virt_hooks_unconfined": "0 0"},
			[]Finding{{OK, "selinux", ""}}},
		{"apparmor enforcing libvirtd", map[string]string{"module/apparmor/parameters/enabled": "Y",
			"kernel/security/apparmor/profiles": "/usr/sbin/dnsmasq (enforce)\nlibvirtd (enforce)\n"},
			[]Finding{{Warn, "apparmor", ""}}},
		{"apparmor complain", map[string]string{"module/apparmor/parameters/enabled": "Y",
			"kernel/security/apparmor/profiles": "libvirtd (complain)\n"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sys := t.TempDir()
			for rel, content := range tt.files {
				require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(sys, rel)), 0o755))
				require.NoError(t, os.WriteFile(filepath.Join(sys, rel), []byte(content), 0o644))
			}
			c := checker{dir: &Dir{}, opts: CheckOptions{SysRoot: sys}}
			c.checkMAC()
			require.Len(t, c.out, len(tt.want), "%v", c.out)
			for i, w := range tt.want {
				assert.Equal(t, w.Level, c.out[i].Level)
				assert.Equal(t, w.Subject, c.out[i].Subject)
			}
		})
	}
}

func TestCheckSymlinkIntoWritableDir(t *testing.T) {
	dir := hooksDir(t)
	open := filepath.Join(filepath.Dir(dir), "open")
	sticky := filepath.Join(filepath.Dir(dir), "sticky")
	for _, d := range []string{open, sticky} {
		require.NoError(t, os.Mkdir(d, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(d, "hook"), []byte(script), 0o755))
	}
	require.NoError(t, os.Chmod(open, 0o777))
	require.NoError(t, os.Chmod(sticky, 0o777|os.ModeSticky))
	require.NoError(t, os.Symlink(filepath.Join(open, "hook"), filepath.Join(dir, "qemu")))
	require.NoError(t, os.Symlink(filepath.Join(sticky, "hook"), filepath.Join(dir, "lxc")))
	d, err := Scan(dir)
	require.NoError(t, err)
	fs := Check(d, CheckOptions{})
	q := find(fs, "qemu")
	require.NotEmpty(t, q)
	assert.Equal(t, Error, q[0].Level)
	assert.Contains(t, q[0].Message, "in a directory writable by group or other (mode 0777)")
	for _, f := range find(fs, "lxc") {
		assert.NotEqual(t, Error, f.Level, "a sticky directory is fine: %v", f)
	}
}
