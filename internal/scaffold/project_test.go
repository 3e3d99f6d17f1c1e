package scaffold_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookkit-dev/hookkit/internal/scaffold"
)

// moduleRoot is the hookkit source tree this test runs in.
func moduleRoot(t *testing.T) string {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	return root
}

// goCmd runs the go command in dir with go.mod and go.sum used as written (-mod=readonly): a missing
// requirement or checksum fails. The proxy stays as configured, so that a fresh module cache can still be
// filled; docs/templates.md gives the measurement with GOPROXY=off.
func goCmd(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go %s in %s:\n%s", strings.Join(args, " "), dir, out)
	return string(out)
}

func newProject(t *testing.T, events string) string {
	t.Helper()
	dep, err := scaffold.LocateHookkit(moduleRoot(t), nil)
	require.NoError(t, err)
	evs, err := scaffold.ParseEvents(events)
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "vmhooks")
	_, err = scaffold.New(scaffold.Project{Dir: dir, Module: "example.com/vmhooks", Events: evs, Hookkit: dep})
	require.NoError(t, err)
	return dir
}

// TestNewBuildsAndPasses scaffolds a project with a handler of every kind and runs go vet and go test in
// it with go.mod and go.sum as written, exactly as a user would right after hookkit new.
func TestNewBuildsAndPasses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a generated project")
	}
	dir := newProject(t, "qemu:prepare,domain:release,qemu:migrate,network:port-created,network:started,daemon:reload")
	for _, f := range []string{"go.mod", "go.sum", "main.go", "routes_gen.go", "Makefile", "README.md", ".gitignore",
		"on_qemu_prepare.go", "on_qemu_prepare_test.go", "on_domain_release.go", "on_qemu_migrate.go",
		"on_network_port_created.go", "on_network_started.go", "on_daemon_reload_test.go"} {
		assert.FileExists(t, filepath.Join(dir, f))
	}
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	require.NoError(t, err)
	assert.Contains(t, string(gomod), "replace github.com/hookkit-dev/hookkit => "+moduleRoot(t))
	goCmd(t, dir, "vet", "./...")
	out := goCmd(t, dir, "test", "-count=1", "-v", "./...")
	for _, name := range []string{"TestOnQEMUPrepare/qemu", "TestOnDomainRelease/bhyve", "TestOnQEMUMigrate", "TestOnNetworkPortCreated", "TestOnDaemonReload"} {
		assert.Contains(t, out, "--- PASS: "+name)
	}
	goCmd(t, dir, "build", "-o", filepath.Join(t.TempDir(), "vmhooks"), ".")
}

func TestNewRefusesNonEmptyDir(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "x"), nil, 0o644))
	_, err := scaffold.New(scaffold.Project{Dir: dir, Hookkit: scaffold.Dependency{Version: "v1.0.0"}})
	assert.ErrorContains(t, err, "is not empty")
	_, err = scaffold.New(scaffold.Project{Dir: filepath.Join(dir, "n"), Module: "bad module", Hookkit: scaffold.Dependency{Version: "v1.0.0"}})
	assert.ErrorContains(t, err, "not a valid module path")
}

// TestNewRefusesReservedModulePaths: a project made in a directory named after a standard-library
// package (or "go") got that name as its module path, and then did not build.
func TestNewRefusesReservedModulePaths(t *testing.T) {
	for _, tc := range []struct{ dir, want string }{
		{"net", `"net" is a standard-library package, so the project would not build (ambiguous import): pass --module example.com/net`},
		{"log", `"log" is a standard-library package`},
		{"go", `"go" is a name the go command reserves: pass --module example.com/go`},
	} {
		_, err := scaffold.New(scaffold.Project{Dir: filepath.Join(t.TempDir(), tc.dir), Hookkit: scaffold.Dependency{Version: "v1.0.0"}})
		assert.ErrorContains(t, err, tc.want, tc.dir)
	}
	for _, ok := range []string{"vmhooks", "example.com/net", "nethooks"} {
		_, err := scaffold.New(scaffold.Project{Dir: filepath.Join(t.TempDir(), "p"), Module: ok, Hookkit: scaffold.Dependency{Version: "v1.0.0"}, Force: true})
		if err != nil {
			assert.NotContains(t, err.Error(), "reserves", ok)
			assert.NotContains(t, err.Error(), "standard-library", ok)
		}
	}
}

func TestNewDefaults(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "MyHook")
	res, err := scaffold.New(scaffold.Project{Dir: dir, Hookkit: scaffold.Dependency{Version: "v1.2.3"}})
	require.NoError(t, err)
	for _, r := range res {
		assert.Equal(t, scaffold.Created, r.Action, r.Path)
	}
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	require.NoError(t, err)
	assert.Contains(t, string(gomod), "module myhook\n")
	assert.Contains(t, string(gomod), "require github.com/hookkit-dev/hookkit v1.2.3\n")
	assert.NotContains(t, string(gomod), "replace")
	assert.FileExists(t, filepath.Join(dir, "on_qemu_prepare.go"))
	assert.FileExists(t, filepath.Join(dir, "on_qemu_release_test.go"))
	assert.NoFileExists(t, filepath.Join(dir, "go.sum"))
}

// userConfigTest is a test a user writes against a generated config decoder.
const userConfigTest = `package main

import (
	"strings"
	"testing"

	"github.com/hookkit-dev/hookkit/hookkit"
	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/hookkit/hookkittest"
)

func TestPortForwardOf(t *testing.T) {
	meta, err := os.ReadFile("testdata/portforward.xml")
	if err != nil {
		t.Fatal(err)
	}
	dom := strings.Replace(string(hookkittest.Fixture(event.QEMU, "prepare")), "</domain>", "<metadata>"+string(meta)+"</metadata></domain>", 1)
	var got PortForward
	r := newRouter()
	r.OnQEMUPrepare(func(d *hookkit.Domain) error {
		cfg, found, err := PortForwardOf(d)
		if !found {
			t.Error("not found")
		}
		got = cfg
		return err
	})
	res := hookkittest.Run(r, hookkittest.Event(event.QEMU, "prepare").WithStdin([]byte(dom)))
	if res.Code != 0 {
		t.Fatalf("exit %d: %s", res.Code, res.Stderr)
	}
	if !got.Enabled || got.Interface != "virbr0" || len(got.Rule) != 2 || got.Rule[1].Host != 5353 || got.Note.Value != "web server" || got.Weight != 1.5 {
		t.Fatalf("decoded %+v", got)
	}
}
`

// TestGenInProject adds a handler and a config decoder to a new project, as go generate would, and runs
// the project's tests, a user's test of the decoder included.
func TestGenInProject(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a generated project")
	}
	dir := newProject(t, "qemu:prepare")
	_, err := scaffold.AddHandlers(dir, []scaffold.Event{mustEvent(t, "network:port-deleted")}, false)
	require.NoError(t, err)
	sample, err := os.ReadFile(filepath.Join("testdata", "portforward.xml"))
	require.NoError(t, err)
	_, err = scaffold.GenConfig(dir, scaffold.ConfigSpec{Sample: sample, Type: "PortForward"}, "hookkit gen config --from testdata/portforward.xml --type PortForward", false)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "testdata"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "testdata", "portforward.xml"), sample, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config_user_test.go"), []byte(strings.Replace(userConfigTest, "\"strings\"", "\"os\"\n\t\"strings\"", 1)), 0o644))
	goCmd(t, dir, "vet", "./...")
	out := goCmd(t, dir, "test", "-count=1", "-v", "./...")
	for _, name := range []string{"TestOnQEMUPrepare", "TestOnNetworkPortDeleted", "TestPortForwardOf"} {
		assert.Contains(t, out, "--- PASS: "+name)
	}
}
