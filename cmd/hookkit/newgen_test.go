package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookkit-dev/hookkit/internal/simulate"
)

// readonlyEnv is the environment of the go commands the tests run: go.mod and go.sum used as written
// (-mod=readonly), so a missing requirement or checksum fails. The proxy stays as configured so that a
// fresh module cache can be filled; docs/templates.md gives the measurement with GOPROXY=off.
func readonlyEnv() []string {
	return append(os.Environ(), "GOFLAGS=-mod=readonly", "GOWORK=off")
}

// goIn runs the go command in dir with readonlyEnv; it returns the combined output and the error.
func goIn(dir string, args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = readonlyEnv()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func sourceRoot(t *testing.T) string {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	return root
}

// dirState maps every file under dir to its content.
func dirState(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		m[p] = string(b)
		return err
	}))
	return m
}

const generateGo = `package main

//go:generate go run github.com/hookkit-dev/hookkit/cmd/hookkit gen handler --event qemu:started,network:port-created
//go:generate go run github.com/hookkit-dev/hookkit/cmd/hookkit gen config --from testdata/portforward.xml --type PortForward
`

const portforwardXML = `<pf:portforward xmlns:pf="https://example.com/xmlns/portforward/1.0" enabled="true">
  <pf:rule proto="tcp" host="2222" guest="22"/>
  <pf:rule proto="tcp" host="8080" guest="80"/>
</pf:portforward>
`

// TestNewAndGenerate follows the README: hookkit new, go test, add handlers and a config decoder with
// go generate (running the CLI from the project with go run), go test again; a second go generate
// changes nothing, an edited handler is kept, an edited generated file stops go generate.
func TestNewAndGenerate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a generated project")
	}
	dir := filepath.Join(t.TempDir(), "vmhooks")
	r := hk(t, "", "new", dir, "--module", "example.com/vmhooks", "--events", "qemu:prepare,domain:release,qemu:restore",
		"--hookkit-replace", sourceRoot(t))
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, r.stderr)
	assert.Contains(t, r.stdout, "created     on_qemu_restore_test.go\n")
	assert.Contains(t, r.stdout, "go.mod: replace github.com/hookkit-dev/hookkit => "+sourceRoot(t)+" (from --hookkit-replace)\n")

	out, err := goIn(dir, "test", "-count=1", "./...")
	require.NoError(t, err, out)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "generate.go"), []byte(generateGo), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "testdata"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "testdata", "portforward.xml"), []byte(portforwardXML), 0o644))
	out, err = goIn(dir, "generate", "./...")
	require.NoError(t, err, out)
	assert.Contains(t, out, "created     on_qemu_started.go\n")
	assert.Contains(t, out, "created     portforward_config_gen.go\n")
	routes, err := os.ReadFile(filepath.Join(dir, "routes_gen.go"))
	require.NoError(t, err)
	assert.Contains(t, string(routes), "r.OnQEMURestore(xmldoc.Filter(onQEMURestore))")
	assert.Contains(t, string(routes), "r.OnNetworkPortCreated(onNetworkPortCreated)")
	out, err = goIn(dir, "vet", "./...")
	require.NoError(t, err, out)
	out, err = goIn(dir, "test", "-count=1", "-v", "./...")
	require.NoError(t, err, out)
	assert.Contains(t, out, "--- PASS: TestOnQEMUStarted")
	assert.Contains(t, out, "--- PASS: TestOnNetworkPortCreated")

	before := dirState(t, dir)
	out, err = goIn(dir, "generate", "./...")
	require.NoError(t, err, out)
	assert.Empty(t, out, "a second go generate reports nothing")
	assert.Equal(t, before, dirState(t, dir), "a second go generate changes nothing")

	handler := filepath.Join(dir, "on_qemu_started.go")
	edited := strings.Replace(before[handler], "return nil", "return nil // mine", 1)
	require.NoError(t, os.WriteFile(handler, []byte(edited), 0o644))
	out, err = goIn(dir, "generate", "./...")
	require.NoError(t, err, out)
	assert.Contains(t, out, "kept        on_qemu_started.go (edited since hookkit wrote it")
	got, err := os.ReadFile(handler)
	require.NoError(t, err)
	assert.Equal(t, edited, string(got))

	config := filepath.Join(dir, "portforward_config_gen.go")
	require.NoError(t, os.WriteFile(config, []byte(strings.Replace(before[config], "Guest", "GuestPort", 1)), 0o644))
	out, err = goIn(dir, "generate", "./...")
	require.Error(t, err)
	assert.Contains(t, out, "hookkit gen: "+filepath.Join(".", "portforward_config_gen.go")+" was edited since hookkit generated it")
}

func TestNewErrors(t *testing.T) {
	work := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(work, "full"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(work, "full", "x"), nil, 0o644))
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no dir", []string{"new"}, 2, "want one directory, got 0 arguments"},
		{"bad event", []string{"new", filepath.Join(work, "h"), "--events", "qemu:bogus"}, 2, `unknown event "qemu:bogus"`},
		{"not empty", []string{"new", filepath.Join(work, "full"), "--hookkit-replace", sourceRoot(t)}, 1, "is not empty: refusing to scaffold into it (use --force)"},
		{"not hookkit", []string{"new", filepath.Join(work, "h"), "--hookkit-replace", work}, 1, "hookkit source tree " + work},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := hk(t, "", tt.args...)
			assert.Equal(t, tt.code, r.code)
			requireOneLineError(t, r, "new", tt.stderr)
			assert.NotContains(t, r.stdout, "created")
		})
	}
}

// runCLI runs the command line in-process.
func runCLI(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestGenInProcess(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644))
	code, stdout, stderr := runCLI("gen", "handler", "--dir", dir, "--event", "daemon:reload", "--event", "domain:start")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "created     on_daemon_reload.go\ncreated     on_daemon_reload_test.go\n"+
		"created     on_domain_start.go\ncreated     on_domain_start_test.go\ncreated     routes_gen.go\n", stdout)

	code, stdout, stderr = runCLI("gen", "config", "--dir", dir, "--ns", "urn:x:app", "--type", "App", "--fields", "@id:int,tag:[]string")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "created     app_config_gen.go\n", stdout)
	b, err := os.ReadFile(filepath.Join(dir, "app_config_gen.go"))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(b), "// Code generated by hookkit gen config --ns urn:x:app --type App --fields '@id:int,tag:[]string'; DO NOT EDIT.\n"), string(b))
	assert.Contains(t, string(b), "\tID      int      `xml:\"id,attr\"`\n\tTag     []string `xml:\"tag\"`\n")

	code, stdout, _ = runCLI("gen", "routes", "--dir", dir)
	assert.Equal(t, 0, code)
	assert.Empty(t, stdout)
}

func TestGenUsage(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"gen"}, 2, "want a kind: handler, config or routes"},
		{[]string{"gen", "bogus"}, 2, `unknown kind "bogus"`},
		{[]string{"gen", "handler", "--dir", dir}, 2, "gen handler needs --event"},
		{[]string{"gen", "handler", "--dir", dir, "--event", "lxc:migrate"}, 2, "the lxc ops are"},
		{[]string{"gen", "handler", "--dir", dir, "--event", "qemu:start", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"gen", "config", "--dir", dir, "--type", "X"}, 2, "needs --ns and --type"},
		{[]string{"gen", "config", "--dir", dir, "--from", "a.xml", "--fields", "a"}, 2, "not both"},
		{[]string{"gen", "config", "--dir", dir, "--from", filepath.Join(dir, "missing.xml")}, 1, "missing.xml"},
		{[]string{"gen", "config", "--dir", dir, "--ns", "urn:x", "--type", "X", "--fields", "a:complex128"}, 1, `type "complex128"`},
		{[]string{"gen", "handler", "--dir", filepath.Join(dir, "nope"), "--event", "qemu:start"}, 1, "nope"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, stderr := runCLI(tt.args...)
			assert.Equal(t, tt.code, code)
			assert.Contains(t, stderr, tt.stderr)
			assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line on stderr: %q", stderr)
		})
	}
}

// TestHeaderQuoting checks the quoting of the command recorded in generated file headers.
func TestHeaderQuoting(t *testing.T) {
	for in, want := range map[string]string{"urn:x": "urn:x", "a b": "'a b'", "it's": `'it'\''s'`, "": "''", "@a:[]int": "'@a:[]int'"} {
		assert.Equal(t, want, simulate.ShellQuote(in), in)
	}
}

func TestNewGenHelp(t *testing.T) {
	r := hk(t, "", "help")
	require.Equal(t, 0, r.code)
	for _, name := range []string{"new", "gen"} {
		assert.Contains(t, r.stdout, "\n  "+name+" ")
		h := hk(t, "", name, "--help")
		assert.Equal(t, 0, h.code, name)
		assert.True(t, strings.HasPrefix(h.stdout, "Usage: hookkit "+name+" "), h.stdout)
		assert.Contains(t, h.stdout, "--force")
	}
	h := hk(t, "", "gen", "handler", "--help")
	assert.Equal(t, 0, h.code)
	assert.Contains(t, h.stdout, "--event")
}
