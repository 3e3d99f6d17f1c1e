package hardening

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookkit-dev/hookkit/examples/audit/audit"
	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/hookkit/hookkittest"
)

// loadProcs is how many hook processes TestLoad starts at once.
const loadProcs = 200

// loadBound is how long the whole burst of loadProcs processes may take before the test calls it hung.
const loadBound = 60 * time.Second

// maxRSS is the peak RSS any hook process may reach: the bound docs/contract.md states for any input.
const maxRSS = 64 << 20

// TestLoad starts 200 processes of one built examples/audit binary at the same instant, as libvirt runs
// them (argv[0] a symlink in a hooks directory, cleared environment, cwd /, stdin on a pipe): every
// process must exit 0 with nothing on stdout or stderr, and the audit file must hold exactly one
// well-formed JSON line per call (no lost, doubled or interleaved line). It logs the wall time of the
// burst and the peak RSS of the hook processes, for docs/hardening.md.
func TestLoad(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "audit.jsonl")
	cfg := filepath.Join(dir, "audit.json")
	require.NoError(t, os.WriteFile(cfg, fmt.Appendf(nil, `{"lockDir": %q, "required": true}`, filepath.Join(dir, "lock")), 0o600))
	bin := build(t, "github.com/hookkit-dev/hookkit/examples/audit", "auditFile="+file, "configFile="+cfg)

	cases := []struct {
		name  string
		calls func(t *testing.T) []hookkittest.Call
	}{
		{"200 domains, qemu prepare", func(t *testing.T) []hookkittest.Call {
			calls := make([]hookkittest.Call, loadProcs)
			for i := range calls {
				calls[i] = newDomain("load", i).call(t, event.QEMU, "prepare")
			}
			return calls
		}},
		{"34 domains, qemu prepare start started stopped release and network port-created", func(t *testing.T) []hookkittest.Call {
			kinds := []struct {
				driver event.Driver
				op     string
			}{{event.QEMU, "prepare"}, {event.QEMU, "start"}, {event.QEMU, "started"}, {event.QEMU, "stopped"}, {event.QEMU, "release"}, {event.Network, "port-created"}}
			calls := make([]hookkittest.Call, loadProcs)
			for i := range calls {
				k := kinds[i%len(kinds)]
				calls[i] = newDomain("mix", i/len(kinds)).call(t, k.driver, k.op)
			}
			return calls
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, os.RemoveAll(file))
			calls := tc.calls(t)
			hooks := t.TempDir()
			for i := range calls {
				calls[i].HooksDir = hooks
				install(t, bin, calls[i])
			}
			res, rss, took, wall := burst(t, nil, calls)

			for i, r := range res {
				require.Equal(t, 0, r.Code, "call %d (%v): %s", i, calls[i].Args(), r.Stderr)
				require.Empty(t, r.Stderr, "call %d", i)
				require.Empty(t, r.Stdout, "call %d", i)
			}
			slices.Sort(took)
			sorted := slices.Sorted(slices.Values(rss))
			t.Logf("%d processes: wall %v (first hook start to last hook exit); one call: median %v, max %v; hook peak RSS max %.1f MB, median %.1f MB",
				len(calls), wall.Round(time.Millisecond), took[len(took)/2].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond),
				mb(sorted[len(sorted)-1]), mb(sorted[len(sorted)/2]))
			assert.Less(t, sorted[len(sorted)-1], int64(maxRSS), "peak RSS of a hook process")

			want := map[string]int{}
			for _, c := range calls {
				want[entryKey(expectEntry(c))]++
			}
			require.Len(t, want, len(calls), "the calls must be distinct")
			b, err := os.ReadFile(file)
			require.NoError(t, err)
			require.True(t, bytes.HasSuffix(b, []byte("\n")), "the file ends with a whole line")
			got := map[string]int{}
			sc := bufio.NewScanner(bytes.NewReader(b))
			lines := 0
			for sc.Scan() {
				lines++
				var e audit.Entry
				require.NoError(t, json.Unmarshal(sc.Bytes(), &e), "line %d is not one JSON object: %q", lines, sc.Text())
				assert.Equal(t, "ok", e.Result, "line %d", lines)
				assert.True(t, e.Known, "line %d", lines)
				assert.False(t, e.Time.IsZero(), "line %d", lines)
				got[entryKey(e)]++
			}
			require.NoError(t, sc.Err())
			assert.Equal(t, len(calls), lines, "one line per call")
			assert.Equal(t, want, got, "every call recorded exactly once")
		})
	}
}

// burst starts every call through hookrun -barrier -rss plus opts, all blocked on one pipe, then closes
// the pipe so that all hooks start at once, and waits for them, failing the test after loadBound. With
// opts, each runs in a private mount namespace (see hookrun). It returns each
// call's result, its hook's peak RSS and how long it ran (fork to reaping, as hookrun saw it), and the
// wall time from the first hook's start to the last one's exit.
func burst(t *testing.T, opts []string, calls []hookkittest.Call) (res []hookkittest.Result, rss []int64, took []time.Duration, wall time.Duration) {
	t.Helper()
	rssDir := t.TempDir()
	gate, open, err := os.Pipe()
	require.NoError(t, err)
	defer open.Close()
	type proc struct {
		cmd            *exec.Cmd
		stdout, stderr *bytes.Buffer
	}
	procs := make([]proc, len(calls))
	var started []*exec.Cmd
	defer func() { // on a failed start, let the others go and reap them
		open.Close()
		for _, c := range started {
			if c.ProcessState == nil {
				_ = c.Process.Kill()
			}
		}
	}()
	for i, c := range calls {
		cmd, stdout, stderr := hookCmd(t, append([]string{"-barrier", "-rss", filepath.Join(rssDir, strconv.Itoa(i))}, opts...), c)
		cmd.ExtraFiles = []*os.File{gate}
		if len(opts) > 0 {
			cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
		}
		require.NoError(t, cmd.Start(), "start process %d", i)
		started = append(started, cmd)
		procs[i] = proc{cmd, stdout, stderr}
	}
	gate.Close()

	var wg sync.WaitGroup
	require.NoError(t, open.Close()) // all hooks start now
	for _, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = p.cmd.Wait()
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(loadBound):
		hung := 0
		for _, p := range procs {
			if p.cmd.ProcessState == nil {
				hung++
			}
		}
		t.Fatalf("%d of %d hook processes still running after %s", hung, len(procs), loadBound)
	}
	res = make([]hookkittest.Result, len(procs))
	rss = make([]int64, len(procs))
	took = make([]time.Duration, len(procs))
	var first, last int64
	for i, p := range procs {
		code := p.cmd.ProcessState.ExitCode()
		require.NotEqual(t, 125, code, "hookrun could not start hook %d: %s", i, p.stderr)
		res[i] = hookkittest.Result{Code: code, Stdout: p.stdout.String(), Stderr: p.stderr.String()}
		b, err := os.ReadFile(filepath.Join(rssDir, strconv.Itoa(i)))
		require.NoError(t, err)
		var start, end int64
		_, err = fmt.Sscanf(string(b), "%d %d %d", &rss[i], &start, &end)
		require.NoError(t, err, "hookrun -rss output %q", b)
		took[i] = time.Duration(end - start)
		if first == 0 || start < first {
			first = start
		}
		last = max(last, end)
	}
	return res, rss, took, time.Duration(last - first)
}

// expectEntry is the audit entry c must produce, without its time.
func expectEntry(c hookkittest.Call) audit.Entry {
	e := audit.Entry{Driver: string(c.Driver), Object: c.Object, Op: c.Op, SubOp: c.SubOp, Extra: c.Extra}
	for _, f := range []*string{&e.Object, &e.SubOp, &e.Extra} {
		if *f == "-" {
			*f = ""
		}
	}
	uuids := uuidRE.FindAllSubmatch(c.Stdin, -1)
	e.UUID = string(uuids[0][1]) // the domain's, or the network's
	if c.Driver == event.Network {
		e.Port, e.Owner = string(uuids[1][1]), string(uuids[2][1])
	}
	return e
}

// uuidRE finds the UUIDs of a payload in document order: the domain's, or the network's, the port's and
// the owner's.
var uuidRE = regexp.MustCompile(`<uuid>([^<]+)</uuid>`)

// entryKey identifies the call an entry records.
func entryKey(e audit.Entry) string {
	return fmt.Sprintf("%s|%s|%s|%s|%s|%s|%s|%s", e.Driver, e.Object, e.Op, e.SubOp, e.Extra, e.UUID, e.Port, e.Owner)
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }

// TestLoadSharedLogFile starts 200 hooks at once with no syslog socket, each logging 50 records: all of
// them append to the one fallback log file, which must then hold every record exactly once, each on a
// line of its own (one write(2) per record to a file opened with O_APPEND).
func TestLoadSharedLogFile(t *testing.T) {
	needNamespace(t)
	bin, base := faultHook(t)
	hooks := t.TempDir()
	calls := make([]hookkittest.Call, loadProcs)
	for i := range calls {
		calls[i] = call(t, fmt.Sprintf("logok.%03d", i))
		calls[i].HooksDir = hooks
		install(t, bin, calls[i])
	}
	// One empty directory serves as every process's private /dev: each mounts its own tmpfs there.
	res, _, took, wall := burst(t, []string{"-dev", t.TempDir()}, calls)
	for i, r := range res {
		require.Equal(t, 0, r.Code, "call %d: %s", i, r.Stderr)
		require.Empty(t, r.Stderr, "call %d", i)
	}
	slices.Sort(took)
	t.Logf("%d processes: wall %v; one call: median %v, max %v", len(calls), wall.Round(time.Millisecond),
		took[len(took)/2].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond))

	b, err := os.ReadFile(filepath.Join(base, "logs", "faulthook.log"))
	require.NoError(t, err)
	record := regexp.MustCompile(`^time=\S+ level=ERROR msg="handler log record" hook=qemu driver=qemu object=(logok\.\d{3}) op=prepare subop=begin extra="" n=(\d+)$`)
	got := map[string]int{}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	for i, l := range lines {
		m := record.FindStringSubmatch(l)
		require.NotNil(t, m, "line %d is not one whole record: %q", i+1, l)
		got[m[1]+" "+m[2]]++
	}
	assert.Len(t, lines, loadProcs*50)
	assert.Len(t, got, loadProcs*50, "every record exactly once")
}
