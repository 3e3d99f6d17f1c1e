package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Built once by TestMain: the CLI under test and the hook programs it runs.
var hookkitBin, testhookBin, kithookBin string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "hookkit-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	hookkitBin = filepath.Join(dir, "hookkit")
	testhookBin = filepath.Join(dir, "testhook")
	kithookBin = filepath.Join(dir, "kithook")
	for bin, pkg := range map[string]string{hookkitBin: ".", testhookBin: "./testdata/testhook", kithookBin: "./testdata/kithook"} {
		out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "go build %s: %v\n%s", pkg, err, out)
			return 1
		}
	}
	return m.Run()
}

type result struct {
	stdout, stderr string
	code           int
}

// hk runs the built CLI with args and stdin.
func hk(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	r, err := runHookkit(stdin, args...)
	require.NoError(t, err)
	return r
}

// runHookkit runs the built CLI; it is safe to call from any goroutine.
func runHookkit(stdin string, args ...string) (result, error) {
	cmd := exec.Command(hookkitBin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(os.Environ(), "HOOKKIT_TEST_JUNK=must-not-reach-the-hook")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code, err = ee.ExitCode(), nil
	}
	return result{stdout.String(), stderr.String(), code}, err
}

// requireOneLineError checks the CLI's error contract: one line "hookkit <cmd>: ..." on stderr.
func requireOneLineError(t *testing.T, r result, cmd, contains string) {
	t.Helper()
	require.True(t, strings.HasPrefix(r.stderr, "hookkit "+cmd+": "), "stderr: %q", r.stderr)
	require.Equal(t, 1, strings.Count(r.stderr, "\n"), "stderr must be one line: %q", r.stderr)
	require.Contains(t, r.stderr, contains)
}

func TestUsageAndHelp(t *testing.T) {
	r := hk(t, "")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "Usage: hookkit <command>")

	r = hk(t, "", "help")
	assert.Equal(t, 0, r.code)
	for _, name := range []string{"doctor", "events", "install", "run", "uninstall", "version"} {
		assert.Contains(t, r.stdout, "\n  "+name+" ")
		h := hk(t, "", name, "--help")
		assert.Equal(t, 0, h.code, name)
		assert.True(t, strings.HasPrefix(h.stdout, "Usage: hookkit "+name), "%s: %q", name, h.stdout)
		assert.Contains(t, h.stdout, "-h, --help")
		assert.Equal(t, h.stdout, hk(t, "", "help", name).stdout)
	}

	r = hk(t, "", "frobnicate")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, `unknown command "frobnicate"`)

	r = hk(t, "", "events", "--bogus")
	assert.Equal(t, 2, r.code)
	requireOneLineError(t, r, "events", "unknown flag: --bogus")
}

func TestEvents(t *testing.T) {
	r := hk(t, "", "events")
	require.Equal(t, 0, r.code, r.stderr)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, lines, len(event.Table)+1)
	assert.Regexp(t, `^DRIVER\s+OP\s+SUBOP\s+EXTRA\s+STDIN\s+FILTER\s+ON FAILURE\s+SINCE\s+LEGACY$`, lines[0])
	assert.Regexp(t, `^qemu\s+restore\s+begin\s+-\s+<domain>\s+yes\s+the restore is aborted\s+1\.2\.9\s+no$`, lines[10])

	r = hk(t, "", "events", "--format", "json")
	require.Equal(t, 0, r.code, r.stderr)
	var got []eventJSON
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got))
	require.Len(t, got, len(event.Table))
	for i, s := range event.Table {
		assert.Equal(t, eventJSON{Driver: string(s.Driver), Op: s.Op, SubOp: s.SubOp, Extra: s.Extra, Object: s.Object,
			Stdin: s.Payload.String(), Filter: s.Filter, Failure: s.Failure.String(), FailureText: s.FailureText,
			Since: s.Since, Legacy: s.Legacy, When: s.When}, got[i])
	}

	r = hk(t, "", "events", "--driver", "network", "--format=json")
	require.Equal(t, 0, r.code)
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got))
	assert.Len(t, got, 8)

	for _, args := range [][]string{{"--format", "xml"}, {"--driver", "xen"}, {"extra"}} {
		r = hk(t, "", append([]string{"events"}, args...)...)
		assert.Equal(t, 2, r.code, args)
	}
}

func TestVersion(t *testing.T) {
	r := hk(t, "", "version")
	require.Equal(t, 0, r.code)
	assert.Regexp(t, `^hookkit \S+.* `+regexpQuote(runtime.Version())+` `+runtime.GOOS+`/`+runtime.GOARCH+"\n$", r.stdout)
	assert.Equal(t, 2, hk(t, "", "version", "x").code)
}

func regexpQuote(s string) string { return strings.ReplaceAll(s, ".", `\.`) }
