package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hookRecord is what testdata/testhook records per call.
type hookRecord struct {
	Argv  []string `json:"argv"`
	Env   []string `json:"env"`
	Cwd   string   `json:"cwd"`
	Stdin string   `json:"stdin"`
}

// testHook copies the test hook with its own configuration and returns its path and where it records calls.
func testHook(t *testing.T, fail map[string]string, replace map[string]string) (bin, record string) {
	t.Helper()
	dir := t.TempDir()
	bin = filepath.Join(dir, "testhook")
	raw, err := os.ReadFile(testhookBin)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bin, raw, 0o755))
	record = filepath.Join(dir, "calls.jsonl")
	cfg, err := json.Marshal(map[string]any{"record": record, "fail": fail, "replace": replace})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bin+".json", cfg, 0o644))
	return bin, record
}

func records(t *testing.T, path string) []hookRecord {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	defer f.Close()
	var out []hookRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r hookRecord
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
		out = append(out, r)
	}
	return out
}

func sample(t *testing.T, name string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "internal", "simulate", "testdata", "embedded", name))
	require.NoError(t, err)
	return string(raw)
}

func TestRunLikeLibvirt(t *testing.T) {
	bin, rec := testHook(t, nil, nil)
	r := hk(t, "", "run", bin, "--", "qemu", "vm1", "prepare")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Empty(t, r.stderr)
	assert.Contains(t, r.stdout, "call:   /etc/libvirt/hooks/qemu vm1 prepare begin -\n")
	assert.Contains(t, r.stdout, "stdin:  built-in sample qemu-prepare-begin.xml (1197 bytes)\n")
	assert.Contains(t, r.stdout, "result: ok (exit status 0")

	calls := records(t, rec)
	require.Len(t, calls, 1)
	c := calls[0]
	assert.Equal(t, "qemu", filepath.Base(c.Argv[0]))
	assert.NotEqual(t, bin, c.Argv[0], "argv[0] is the path inside a hooks directory")
	assert.Equal(t, []string{"vm1", "prepare", "begin", "-"}, c.Argv[1:])
	want := []string{"LC_ALL=C"}
	for _, k := range []string{"PATH", "HOME"} {
		if v := os.Getenv(k); v != "" {
			want = append(want, k+"="+v)
		}
	}
	assert.Equal(t, want, c.Env, "the environment is cleared as libvirt does")
	assert.Equal(t, "/", c.Cwd)
	assert.Equal(t, sample(t, "qemu-prepare-begin.xml"), c.Stdin)
}

func TestRunInputsAndPlacement(t *testing.T) {
	xmlFile := filepath.Join(t.TempDir(), "dom.xml")
	require.NoError(t, os.WriteFile(xmlFile, []byte("<domain><name>fromfile</name></domain>\n"), 0o644))
	tests := []struct {
		name      string
		stdin     string
		args      []string
		argv      []string
		argv0     string
		hookStdin string
	}{
		{"xml file after the hook args", "", []string{"--", "qemu", "vm2", "release", "end", "from snapshot", "--xml", xmlFile},
			[]string{"vm2", "release", "end", "from snapshot"}, "qemu", "<domain><name>fromfile</name></domain>\n"},
		{"xml from stdin", "<domain/>", []string{"--xml", "-", "--", "lxc", "c1", "start"},
			[]string{"c1", "start", "begin", "-"}, "lxc", "<domain/>"},
		{"daemon gets /dev/null", "", []string{"--", "daemon", "-", "reload"},
			[]string{"-", "reload", "begin", "SIGHUP"}, "daemon", ""},
		{"release gets a reason", "", []string{"--", "qemu", "vm", "release"},
			[]string{"vm", "release", "end", "destroyed"}, "qemu", sample(t, "qemu-release-end.xml")},
		{"as .d entry", "", []string{"--as-d", "10-audit", "--", "network", "net1", "port-created"},
			[]string{"net1", "port-created", "begin", "-"}, "network.d/10-audit", sample(t, "network-port-created-begin.xml")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin, rec := testHook(t, nil, nil)
			r := hk(t, tt.stdin, append([]string{"run", bin}, tt.args...)...)
			require.Equal(t, 0, r.code, r.stdout+r.stderr)
			calls := records(t, rec)
			require.Len(t, calls, 1)
			assert.Equal(t, tt.argv, calls[0].Argv[1:])
			assert.True(t, strings.HasSuffix(calls[0].Argv[0], "/"+tt.argv0), calls[0].Argv[0])
			assert.Equal(t, tt.hookStdin, calls[0].Stdin)
		})
	}
}

func TestRunFailure(t *testing.T) {
	bin, _ := testHook(t, map[string]string{"prepare": "testhook: qemu vm1 prepare begin: no owner"}, nil)
	r := hk(t, "", "run", bin, "--hooks-dir", "/var/lib/libvirt/hooks", "--", "qemu", "vm1", "prepare", "begin", "-")
	require.Equal(t, 1, r.code)
	requireOneLineError(t, r, "run", "the hook failed (exit status 1)")
	assert.Regexp(t, `libvirt: Hook script execution failed: internal error: Child process \(LC_ALL=C .*/var/lib/libvirt/hooks/qemu vm1 prepare begin -\) unexpected exit status 1: testhook: qemu vm1 prepare begin: no owner\n`, r.stdout)
	assert.Contains(t, r.stdout, "effect: the start is aborted; stopped and release hooks still run\n")
}

func TestRunFilterDiff(t *testing.T) {
	bin, _ := testHook(t, nil, map[string]string{"<name>hooktest</name>": "<name>hooktest-copy</name>"})
	r := hk(t, "", "run", bin, "--", "qemu", "hooktest", "restore")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "output: replaces the XML; diff:\n  --- input\n  +++ output\n  @@ -1,5 +1,5 @@\n   <domain type='qemu'>\n  -  <name>hooktest</name>\n  +  <name>hooktest-copy</name>\n")
}

func TestRunSequence(t *testing.T) {
	tests := []struct {
		name  string
		fail  map[string]string
		args  []string
		code  int
		calls []string
		out   string
	}{
		{"start", nil, []string{"--sequence", "start"}, 0,
			[]string{"qemu prepare -", "qemu start -", "qemu started -"}, "outcome: started\n"},
		{"prepare fails", map[string]string{"prepare": "nope"}, []string{"--sequence", "start"}, 1,
			[]string{"qemu prepare -", "qemu stopped -", "qemu release failed"}, "outcome: start aborted at prepare\n"},
		{"lxc destroy", nil, []string{"--sequence", "destroy", "--driver", "lxc", "--object", "box"}, 0,
			[]string{"lxc stopped -", "lxc release destroyed"}, "outcome: destroyed\n"},
		{"migrate", nil, []string{"--sequence=migrate"}, 0,
			[]string{"qemu migrate -", "qemu prepare -", "qemu start -", "qemu started -"}, "outcome: migrated and started\n"},
		{"reconnect fails", map[string]string{"reconnect": "state lost"}, []string{"--sequence", "reconnect"}, 1,
			[]string{"qemu reconnect -", "qemu stopped -", "qemu release daemon"}, "outcome: reconnect failed: libvirt killed the running VM\n"},
		{"save", nil, []string{"--sequence", "save"}, 0,
			[]string{"qemu stopped -", "qemu release saved"}, "outcome: saved\n"},
		{"net-start", map[string]string{"start": "no bridge"}, []string{"--sequence", "net-start"}, 1,
			[]string{"network start -"}, "outcome: network start aborted\n"},
		{"port", nil, []string{"--sequence", "port"}, 0,
			[]string{"network port-created -", "network port-deleted -"}, "outcome: port created and deleted\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin, rec := testHook(t, tt.fail, nil)
			r := hk(t, "", append([]string{"run", bin}, tt.args...)...)
			require.Equal(t, tt.code, r.code, r.stdout+r.stderr)
			assert.Contains(t, r.stdout, tt.out)
			var got []string
			for _, c := range records(t, rec) {
				got = append(got, filepath.Base(c.Argv[0])+" "+c.Argv[2]+" "+c.Argv[4])
			}
			assert.Equal(t, tt.calls, got)
			if tt.code != 0 {
				requireOneLineError(t, r, "run", "hook calls failed")
			}
		})
	}
}

func TestRunHookkitHook(t *testing.T) {
	doc := "<domain type='kvm'>\n  <name>deny-web</name>\n  <uuid>c1f222e6-4bae-4717-be4a-f8eaa33cd9ff</uuid>\n</domain>\n"
	r := hk(t, doc, "run", kithookBin, "--sequence", "start", "--xml", "-")
	require.Equal(t, 1, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "/etc/libvirt/hooks/qemu deny-web prepare begin -) unexpected exit status 1: ")
	assert.Contains(t, r.stdout, "deny-web has no owner")
	assert.Contains(t, r.stdout, "[3] qemu release\n")

	r = hk(t, "", "run", kithookBin, "--sequence", "restore")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "  +  <title>restored by kithook</title>\n")
	assert.Contains(t, r.stdout, "stdin:  the XML after the restore filter")
}

func TestRunUsageErrors(t *testing.T) {
	bin, _ := testHook(t, nil, nil)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"run"}, "missing BINARY"},
		{[]string{"run", bin, "--", "qemu", "vm"}, "expected DRIVER OBJECT OP"},
		{[]string{"run", bin, "--", "xen", "vm", "start"}, `unknown driver "xen"`},
		{[]string{"run", bin, "--xml", "x.xml", "--", "daemon", "-", "start"}, "no stdin"},
		{[]string{"run", bin, "--sequence", "reboot"}, `unknown sequence "reboot"`},
		{[]string{"run", bin, "--sequence", "start", "--", "qemu"}, "--sequence takes no hook arguments"},
		{[]string{"run", bin, "--", "qemu", "vm", "start", "--nope"}, "unknown flag: --nope"},
		{[]string{"run", bin, "--", "qemu", "a", "b", "c", "d", "e"}, "too many arguments"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := hk(t, "", tt.args...)
			assert.Equal(t, 2, r.code, r.stderr)
			requireOneLineError(t, r, "run", tt.want)
		})
	}
	r := hk(t, "", "run", filepath.Join(t.TempDir(), "missing"), "--", "qemu", "vm", "start")
	assert.Equal(t, 1, r.code)
	requireOneLineError(t, r, "run", "no such file or directory")
}

func TestRunSequenceNetPorts(t *testing.T) {
	dom := "<domain type='kvm'>\n  <name>web1</name>\n  <uuid>11111111-2222-3333-4444-555555555555</uuid>\n  <devices>\n" +
		"    <interface type='network'><mac address='52:54:00:aa:00:01'/><source network='default'/></interface>\n  </devices>\n</domain>\n"
	bin, rec := testHook(t, nil, nil)
	r := hk(t, dom, "run", bin, "--sequence", "start", "--net-ports", "--xml", "-")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	var got []string
	for _, c := range records(t, rec) {
		got = append(got, filepath.Base(c.Argv[0])+" "+c.Argv[1]+" "+c.Argv[2])
	}
	assert.Equal(t, []string{"qemu web1 prepare", "network default port-created", "qemu web1 start", "qemu web1 started"}, got)
	assert.Contains(t, r.stdout, "stdin:  port of web1 on network default (mac 52:54:00:aa:00:01)")

	r = hk(t, "", "run", bin, "--net-ports", "--", "qemu", "vm", "start")
	assert.Equal(t, 2, r.code)
	requireOneLineError(t, r, "run", "--net-ports go with --sequence")
}
