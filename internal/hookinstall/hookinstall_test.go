package hookinstall

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/internal/hookdir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const program = "#!/bin/sh\nexit 0\n"

var fixedNow = func() time.Time { return time.Date(2026, 11, 25, 16, 0, 0, 0, time.UTC) }

// setup returns a hooks directory (not yet created) and a program to install.
func setup(t *testing.T) (dir, bin string) {
	t.Helper()
	root := t.TempDir()
	require.NoError(t, os.Chmod(root, 0o755))
	bin = filepath.Join(root, "myhook")
	require.NoError(t, os.WriteFile(bin, []byte(program), 0o755))
	return filepath.Join(root, "hooks"), bin
}

func install(t *testing.T, o Options) *Plan {
	t.Helper()
	o.Now = fixedNow
	p, err := PlanInstall(o)
	require.NoError(t, err)
	require.NoError(t, p.ApplyInstall())
	return p
}

func uninstall(t *testing.T, o UninstallOptions) {
	t.Helper()
	p, err := PlanUninstall(o)
	require.NoError(t, err)
	require.NoError(t, p.ApplyUninstall())
}

// tree lists every path below dir with its kind, mode and content or link, for before/after comparisons.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	_ = filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		require.NoError(t, err)
		rel, _ := filepath.Rel(dir, path)
		desc := rel + " " + info.Mode().String()
		switch {
		case info.Mode()&os.ModeSymlink != 0:
			link, _ := os.Readlink(path)
			desc += " -> " + link
		case info.Mode().IsRegular():
			raw, _ := os.ReadFile(path)
			desc += " " + string(raw)
		}
		out = append(out, desc)
		return nil
	})
	sort.Strings(out)
	return out
}

func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	for _, line := range tree(t, dir) {
		assert.NotContains(t, line, ".hookkit-tmp", "temporary file left behind")
	}
}

func TestInstallFreshMainScripts(t *testing.T) {
	dir, bin := setup(t)
	p := install(t, Options{Binary: bin, Dir: dir, Drivers: []event.Driver{event.QEMU, event.Network}})
	assert.Equal(t, []event.Driver{event.QEMU, event.Network}, p.NewlyPresent)

	info, err := os.Lstat(filepath.Join(dir, "qemu"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o755), info.Mode())
	raw, err := os.ReadFile(filepath.Join(dir, "qemu"))
	require.NoError(t, err)
	assert.Equal(t, program, string(raw))
	link, err := os.Readlink(filepath.Join(dir, "network"))
	require.NoError(t, err)
	assert.Equal(t, "qemu", link)

	m, err := ReadManifest(dir)
	require.NoError(t, err)
	require.Len(t, m.Entries, 2)
	assert.Equal(t, KindFile, m.Entries[0].Kind)
	assert.Equal(t, bin, m.Entries[0].Source)
	mi, err := os.Stat(manifestPath(dir))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), mi.Mode().Perm())

	scan, err := hookdir.Scan(dir)
	require.NoError(t, err)
	assert.Equal(t, []event.Driver{event.QEMU, event.Network}, scan.Present())
	noTempFiles(t, dir)

	// Installing again changes nothing and needs no reload.
	p = install(t, Options{Binary: bin, Dir: dir, Drivers: []event.Driver{event.QEMU, event.Network}})
	assert.Empty(t, p.NewlyPresent)
	for _, a := range p.Actions {
		assert.Equal(t, Unchanged, a.Kind, a.String())
	}

	uninstall(t, UninstallOptions{Dir: dir})
	assert.Equal(t, []string{". drwxr-xr-x"}, tree(t, dir))
}

func TestInstallBacksUpAndUninstallRestores(t *testing.T) {
	dir, bin := setup(t)
	require.NoError(t, os.Mkdir(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "qemu"), []byte("#!/bin/sh\necho old\n"), 0o750))
	victim := filepath.Join(filepath.Dir(dir), "victim")
	require.NoError(t, os.WriteFile(victim, []byte("do not touch"), 0o644))
	require.NoError(t, os.Symlink(victim, filepath.Join(dir, "lxc")))
	before := tree(t, dir)

	p := install(t, Options{Binary: bin, Dir: dir, Drivers: []event.Driver{event.QEMU, event.LXC}})
	assert.Equal(t, []event.Driver{event.LXC}, p.NewlyPresent, "qemu already had a hook")

	raw, err := os.ReadFile(victim)
	require.NoError(t, err)
	assert.Equal(t, "do not touch", string(raw), "the planted symlink was followed")
	li, err := os.Lstat(filepath.Join(dir, "lxc"))
	require.NoError(t, err)
	assert.Equal(t, os.ModeSymlink, li.Mode()&os.ModeSymlink)
	link, _ := os.Readlink(filepath.Join(dir, "lxc"))
	assert.Equal(t, "qemu", link)

	backup := filepath.Join(dir, BackupDir, "qemu.hookkit-bak.20261125T160000Z")
	bi, err := os.Stat(backup)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), bi.Mode().Perm(), "backups must not be executable")
	raw, err = os.ReadFile(backup)
	require.NoError(t, err)
	assert.Equal(t, "#!/bin/sh\necho old\n", string(raw))
	noTempFiles(t, dir)

	uninstall(t, UninstallOptions{Dir: dir})
	assert.Equal(t, before, tree(t, dir))
}

func TestInstallAsD(t *testing.T) {
	dir, bin := setup(t)
	install(t, Options{Binary: bin, Dir: dir, Drivers: []event.Driver{event.QEMU, event.Network}, AsD: "50-audit"})
	raw, err := os.ReadFile(filepath.Join(dir, "qemu.d", "50-audit"))
	require.NoError(t, err)
	assert.Equal(t, program, string(raw))
	link, err := os.Readlink(filepath.Join(dir, "network.d", "50-audit"))
	require.NoError(t, err)
	assert.Equal(t, "../qemu.d/50-audit", link)
	scan, err := hookdir.Scan(dir)
	require.NoError(t, err)
	require.Len(t, scan.Driver(event.Network).Runs(), 1)
	assert.Equal(t, filepath.Join(dir, "network.d", "50-audit"), scan.Driver(event.Network).Runs()[0].Path)
	noTempFiles(t, dir)

	_, err = PlanUninstall(UninstallOptions{Dir: dir, Drivers: []event.Driver{event.QEMU}})
	require.ErrorContains(t, err, "network.d/50-audit links to qemu.d/50-audit")

	uninstall(t, UninstallOptions{Dir: dir, AsD: "50-audit"})
	assert.Equal(t, []string{". drwxr-xr-x"}, tree(t, dir), "hookkit-created .d directories are removed")
}

func TestPlanChangesNothing(t *testing.T) {
	dir, bin := setup(t)
	require.NoError(t, os.Mkdir(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "qemu"), []byte("#!/bin/sh\n"), 0o755))
	before := tree(t, dir)
	p, err := PlanInstall(Options{Binary: bin, Dir: dir, Drivers: event.Drivers, AsD: "x", Now: fixedNow})
	require.NoError(t, err)
	assert.NotEmpty(t, p.Actions)
	assert.Equal(t, before, tree(t, dir))
	var lines []string
	for _, a := range p.Actions {
		lines = append(lines, a.String())
	}
	assert.Contains(t, strings.Join(lines, "\n"), "create directory "+filepath.Join(dir, "qemu.d"))
}

func TestInstallRefuses(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir, bin string) Options
		wantErr string
	}{
		{"group-writable dir", func(t *testing.T, dir, bin string) Options {
			require.NoError(t, os.Mkdir(dir, 0o755))
			require.NoError(t, os.Chmod(dir, 0o775))
			return Options{Binary: bin, Dir: dir, Drivers: []event.Driver{event.QEMU}}
		}, "writable by group or other"},
		{"other-writable target", func(t *testing.T, dir, bin string) Options {
			require.NoError(t, os.Mkdir(dir, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "qemu"), nil, 0o755))
			require.NoError(t, os.Chmod(filepath.Join(dir, "qemu"), 0o757))
			return Options{Binary: bin, Dir: dir, Drivers: []event.Driver{event.QEMU}}
		}, "writable by group or other"},
		{"directory target", func(t *testing.T, dir, bin string) Options {
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "qemu"), 0o755))
			return Options{Binary: bin, Dir: dir, Drivers: []event.Driver{event.QEMU}}
		}, "it is a directory"},
		{"symlinked .d", func(t *testing.T, dir, bin string) Options {
			require.NoError(t, os.Mkdir(dir, 0o755))
			require.NoError(t, os.Symlink("/tmp", filepath.Join(dir, "qemu.d")))
			return Options{Binary: bin, Dir: dir, Drivers: []event.Driver{event.QEMU}, AsD: "x"}
		}, "is a symlink"},
		{".d is a file", func(t *testing.T, dir, bin string) Options {
			require.NoError(t, os.Mkdir(dir, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "qemu.d"), nil, 0o644))
			return Options{Binary: bin, Dir: dir, Drivers: []event.Driver{event.QEMU}, AsD: "x"}
		}, "not a directory"},
		{"not executable format", func(t *testing.T, dir, bin string) Options {
			require.NoError(t, os.WriteFile(bin, []byte("echo hi\n"), 0o755))
			return Options{Binary: bin, Dir: dir, Drivers: []event.Driver{event.QEMU}}
		}, "neither an ELF binary nor a script"},
		{"planted backup dir", func(t *testing.T, dir, bin string) Options {
			require.NoError(t, os.Mkdir(dir, 0o755))
			require.NoError(t, os.Symlink("/tmp", filepath.Join(dir, BackupDir)))
			return Options{Binary: bin, Dir: dir, Drivers: []event.Driver{event.QEMU}}
		}, "a symlink or a file was planted there"},
		{"open backup dir", func(t *testing.T, dir, bin string) Options {
			require.NoError(t, os.MkdirAll(filepath.Join(dir, BackupDir), 0o755))
			return Options{Binary: bin, Dir: dir, Drivers: []event.Driver{event.QEMU}}
		}, "backups may hold secrets"},
		{"unknown driver", func(t *testing.T, dir, bin string) Options {
			return Options{Binary: bin, Dir: dir, Drivers: []event.Driver{"xen"}}
		}, `unknown driver "xen"`},
		{"bad as-d name", func(t *testing.T, dir, bin string) Options {
			return Options{Binary: bin, Dir: dir, Drivers: []event.Driver{event.QEMU}, AsD: "../x"}
		}, "invalid --as-d name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, bin := setup(t)
			_, err := PlanInstall(tt.prepare(t, dir, bin))
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestUninstallRefusesChangedFile(t *testing.T) {
	dir, bin := setup(t)
	install(t, Options{Binary: bin, Dir: dir, Drivers: []event.Driver{event.QEMU}})
	require.NoError(t, os.WriteFile(filepath.Join(dir, "qemu"), []byte("#!/bin/sh\necho edited\n"), 0o755))
	_, err := PlanUninstall(UninstallOptions{Dir: dir})
	require.ErrorContains(t, err, "changed since hookkit installed it")

	_, err = PlanUninstall(UninstallOptions{Dir: t.TempDir()})
	require.ErrorContains(t, err, "hookkit installed nothing")
}

func TestReinstallNewVersionKeepsFirstBackup(t *testing.T) {
	dir, bin := setup(t)
	require.NoError(t, os.Mkdir(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "qemu"), []byte("#!/bin/sh\necho original\n"), 0o755))
	install(t, Options{Binary: bin, Dir: dir, Drivers: []event.Driver{event.QEMU}})
	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\necho v2\n"), 0o755))
	p := install(t, Options{Binary: bin, Dir: dir, Drivers: []event.Driver{event.QEMU}})
	require.Len(t, p.Actions, 1)
	assert.Equal(t, WriteProgram, p.Actions[0].Kind)
	assert.Contains(t, p.Actions[0].String(), "replaces what hookkit installed before")
	uninstall(t, UninstallOptions{Dir: dir})
	raw, err := os.ReadFile(filepath.Join(dir, "qemu"))
	require.NoError(t, err)
	assert.Equal(t, "#!/bin/sh\necho original\n", string(raw))
}

// TestCrashBeforeReplaceKeepsTheBackupRecorded: the manifest is written before a path is replaced, so an
// install that dies in between (the panic stands for the crash) cannot orphan the user's hook. After it,
// uninstall gives the user's hook back, and so does running the install again and then uninstall.
func TestCrashBeforeReplaceKeepsTheBackupRecorded(t *testing.T) {
	for _, again := range []bool{false, true} {
		t.Run(fmt.Sprintf("install again first: %v", again), func(t *testing.T) {
			dir, bin := setup(t)
			require.NoError(t, os.Mkdir(dir, 0o755))
			orig := "#!/bin/sh\necho my original qemu hook\n"
			require.NoError(t, os.WriteFile(filepath.Join(dir, "qemu"), []byte(orig), 0o755))

			beforeReplace = func(path string) { panic("crash before replacing " + path) }
			t.Cleanup(func() { beforeReplace = nil })
			p, err := PlanInstall(Options{Binary: bin, Dir: dir, Drivers: []event.Driver{event.QEMU}, Now: fixedNow})
			require.NoError(t, err)
			assert.Panics(t, func() { _ = p.ApplyInstall() })
			beforeReplace = nil

			m, err := ReadManifest(dir)
			require.NoError(t, err)
			e := m.find("qemu")
			require.NotNil(t, e, "the path is recorded before it is replaced")
			require.NotNil(t, e.Backup, "with the backup of what it replaces")

			if again {
				install(t, Options{Binary: bin, Dir: dir, Drivers: []event.Driver{event.QEMU}}) // the same second
				raw, err := os.ReadFile(filepath.Join(dir, "qemu"))
				require.NoError(t, err)
				assert.Equal(t, program, string(raw))
			}
			uninstall(t, UninstallOptions{Dir: dir})
			raw, err := os.ReadFile(filepath.Join(dir, "qemu"))
			require.NoError(t, err)
			assert.Equal(t, orig, string(raw), "the user's hook is back")
		})
	}
}
