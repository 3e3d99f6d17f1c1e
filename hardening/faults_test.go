package hardening

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/hookkit/hookkittest"
	"github.com/hookkit-dev/hookkit/hookkit/lock"
)

// faultHook builds testdata/faulthook once, with its files under a fresh directory of binDir and a 1 s
// handler deadline, and returns the binary and that directory (emptied: see resetBase).
func faultHook(t *testing.T) (bin, base string) {
	base = filepath.Join(binDir, "fault")
	bin = shared(t, "./testdata/faulthook", "base="+base, "timeout=1s")
	resetBase(t, base)
	return bin, base
}

// resetBase empties base and creates base/logs and base/detach.
func resetBase(t *testing.T, base string) {
	t.Helper()
	require.NoError(t, os.RemoveAll(base))
	for _, d := range []string{"logs", "detach"} {
		require.NoError(t, os.MkdirAll(filepath.Join(base, d), 0o700))
	}
}

// call returns libvirt's qemu prepare call for the faulthook behaviour named name.
func call(t *testing.T, name string) hookkittest.Call {
	return domain{Name: name, UUID: fixtureUUID}.call(t, event.QEMU, "prepare")
}

// syslogServer is a unix datagram socket standing for the syslog daemon.
type syslogServer struct {
	path string
	conn *net.UnixConn
	mu   sync.Mutex
	msgs []string
}

// newSyslog creates a datagram socket at dir/name; read makes it collect what it receives.
func newSyslog(t *testing.T, dir string, read bool) *syslogServer {
	t.Helper()
	s := &syslogServer{path: filepath.Join(dir, "syslog.sock")}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: s.path, Net: "unixgram"})
	require.NoError(t, err)
	s.conn = conn
	t.Cleanup(func() { conn.Close() })
	if read {
		go func() {
			buf := make([]byte, 1<<16)
			for {
				n, err := conn.Read(buf)
				if err != nil {
					return
				}
				s.mu.Lock()
				s.msgs = append(s.msgs, string(buf[:n]))
				s.mu.Unlock()
			}
		}()
	}
	return s
}

// fill queues datagrams on the socket until a write would block: a syslog daemon that stopped reading.
func (s *syslogServer) fill(t *testing.T) int {
	t.Helper()
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: s.path, Net: "unixgram"})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	n := 0
	for ; ; n++ {
		require.NoError(t, c.SetWriteDeadline(time.Now().Add(50*time.Millisecond)))
		if _, err := c.Write([]byte("<30>filler: queued and never read")); err != nil {
			require.True(t, os.IsTimeout(err), "filling the socket: %v", err)
			require.Positive(t, n)
			return n
		}
	}
}

// received waits until the server got at least n datagrams (at most hangBound) and returns them.
func (s *syslogServer) received(n int) []string {
	limit := time.Now().Add(hangBound)
	for {
		s.mu.Lock()
		msgs := append([]string(nil), s.msgs...)
		s.mu.Unlock()
		if len(msgs) >= n || time.Now().After(limit) {
			return msgs
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestFaultLogSink runs a hook whose handler logs 50 error records while its log sink is unavailable,
// broken or stuck, each in a private mount namespace with its own /dev: the hook must answer libvirt
// exactly as it does with a working sink (exit status and stderr line), within the hang bound, and its
// records must land where the sink's fallback order says (syslog, else the log file, else nowhere).
func TestFaultLogSink(t *testing.T) {
	needNamespace(t)
	bin, base := faultHook(t)
	logs := filepath.Join(base, "logs")
	logFile := filepath.Join(logs, "faulthook.log")

	cases := []struct {
		name string
		// syslog: "" no /dev/log; "reader" a socket that reads; "stuck" a socket that never reads, its
		// queue full; "stream" a stream socket (the wrong kind) that never accepts.
		syslog string
		// logs prepares base/logs: nil leaves it a writable directory; the rows make it unusable.
		logs func(t *testing.T) (hookrunOpts []string)
		// wantSyslog: the records reach the socket; wantFile: they reach the log file.
		wantSyslog, wantFile bool
	}{
		{name: "syslog answers (control)", syslog: "reader", wantSyslog: true},
		{name: "no syslog socket: falls back to the log file", wantFile: true},
		{name: "no syslog, log directory is a regular file", logs: func(t *testing.T) []string {
			require.NoError(t, os.Remove(logs))
			require.NoError(t, os.WriteFile(logs, nil, 0o600))
			return nil
		}},
		{name: "no syslog, log directory on a read-only file system", logs: func(t *testing.T) []string {
			return []string{"-ro", logs}
		}},
		{name: "no syslog, disk full (log file is /dev/full)", logs: func(t *testing.T) []string {
			require.NoError(t, os.Symlink("/dev/full", logFile))
			return nil
		}},
		{name: "syslog never reads, queue full: falls back to the log file", syslog: "stuck", wantFile: true},
		{name: "syslog never reads, queue full, log file unwritable", syslog: "stuck", logs: func(t *testing.T) []string {
			return []string{"-ro", logs}
		}},
		{name: "/dev/log is a stream socket nobody accepts", syslog: "stream", wantFile: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, row := range []struct {
				object     string
				wantCode   int
				wantStderr string
				records    int // log records the hook writes: the handler's 50, plus "hook failed"
			}{
				{"logerr", 1, "qemu: qemu logerr prepare begin: refused by policy\n", 51},
				{"logok", 0, "", 50},
			} {
				resetBase(t, base)
				sock := t.TempDir()
				opts := []string{"-dev", t.TempDir()}
				var srv *syslogServer
				switch tc.syslog {
				case "reader", "stuck":
					srv = newSyslog(t, sock, tc.syslog == "reader")
					if tc.syslog == "stuck" {
						t.Logf("queued %d datagrams before the hook ran", srv.fill(t))
					}
					opts = append(opts, "-devlog", srv.path)
				case "stream":
					l, err := net.Listen("unix", filepath.Join(sock, "stream.sock"))
					require.NoError(t, err)
					t.Cleanup(func() { l.Close() })
					opts = append(opts, "-devlog", filepath.Join(sock, "stream.sock"))
				}
				if tc.logs != nil {
					opts = append(opts, tc.logs(t)...)
				}

				res, took := runIn(t, true, opts, bin, call(t, row.object))
				t.Logf("%s: exit %d in %v", row.object, res.Code, took.Round(time.Millisecond))
				assert.Equal(t, row.wantCode, res.Code, row.object)
				assert.Equal(t, row.wantStderr, res.Stderr, row.object)
				assert.Empty(t, res.Stdout, row.object)

				if tc.syslog == "reader" {
					msgs := srv.received(row.records)
					assert.Len(t, msgs, row.records, "records received by syslog")
					if len(msgs) > 0 {
						assert.Regexp(t, `^<27>qemu\[\d+\]: time=\S+ level=ERROR msg="handler log record" hook=qemu driver=qemu object=`+row.object+` op=prepare subop=begin extra="" n=0\n$`, msgs[0])
					}
				}
				logged := ""
				if fi, err := os.Lstat(logFile); err == nil && fi.Mode().IsRegular() { // never read /dev/full: it has no end
					b, err := os.ReadFile(logFile)
					require.NoError(t, err)
					logged = string(b)
				}
				if tc.wantFile {
					assert.Equal(t, 50, strings.Count(logged, `msg="handler log record"`), "records in the log file")
					assert.Equal(t, row.records-50, strings.Count(logged, `msg="hook failed"`), "records in the log file")
				} else {
					assert.Empty(t, logged, "nothing in the log file")
				}
			}
		})
	}
}

// TestFaultLockDir makes the lock directory unusable in every way a host can, for hookkit/lock directly
// (faulthook) and for examples/audit, which appends under a lock: the handler gets an error naming the
// lock and the cause, and the hook exits 1 with that one line.
func TestFaultLockDir(t *testing.T) {
	bin, base := faultHook(t)
	// The read-only mounts need a private mount namespace; the other rows do not.
	roRunLock := "/run/lock" // the parent of lock.DefaultDir
	if _, err := os.Stat(roRunLock); err != nil {
		roRunLock = "/run"
	}
	const prefix = "qemu: qemu %s prepare begin: "
	cases := []struct {
		name   string
		object string
		// setup prepares base and returns hookrun's options; ns: they need a private mount namespace.
		setup      func(t *testing.T) []string
		ns         bool
		wantStderr string // a regular expression matching the whole stderr
	}{
		{name: "/run/lock read-only: the default directory cannot be created", object: "lock-default", ns: true,
			setup:      func(t *testing.T) []string { return []string{"-rotmpfs", roRunLock} },
			wantStderr: `lock faults: mkdir /run/lock(/hookkit)?: read-only file system`},
		{name: "lock directory is a regular file", object: "lock-notadir",
			setup: func(t *testing.T) []string {
				require.NoError(t, os.WriteFile(filepath.Join(base, "notadir"), nil, 0o600))
				return nil
			},
			wantStderr: regexp.QuoteMeta("lock faults: mkdir " + filepath.Join(base, "notadir") + ": not a directory")},
		{name: "lock directory missing on a read-only file system", object: "lock-ro", ns: true,
			setup: func(t *testing.T) []string {
				require.NoError(t, os.MkdirAll(filepath.Join(base, "ro"), 0o700))
				return []string{"-ro", filepath.Join(base, "ro")}
			},
			wantStderr: regexp.QuoteMeta("lock faults: mkdir " + filepath.Join(base, "ro", "locks") + ": read-only file system")},
		{name: "lock directory present on a read-only file system", object: "lock-ro", ns: true,
			setup: func(t *testing.T) []string {
				require.NoError(t, os.MkdirAll(filepath.Join(base, "ro", "locks"), 0o700))
				return []string{"-ro", filepath.Join(base, "ro")}
			},
			wantStderr: regexp.QuoteMeta("lock faults: open " + filepath.Join(base, "ro", "locks", "faults.lock") + ": read-only file system")},
		{name: "lock held by a stuck process past the lock timeout", object: "lock-held",
			setup: func(t *testing.T) []string {
				l, err := lock.Acquire(context.Background(), "faults", lock.Options{Dir: filepath.Join(base, "locks")})
				require.NoError(t, err)
				t.Cleanup(func() { l.Release() })
				return nil
			},
			wantStderr: regexp.QuoteMeta(fmt.Sprintf("lock faults: timed out after 100ms: held by another process (pid %d)", os.Getpid()))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.ns {
				needNamespace(t)
			}
			resetBase(t, base)
			res, took := runIn(t, tc.ns, tc.setup(t), bin, call(t, tc.object))
			t.Logf("exit %d in %v: %s", res.Code, took.Round(time.Millisecond), res.Stderr)
			assert.Equal(t, 1, res.Code)
			assert.Regexp(t, "^"+regexp.QuoteMeta(fmt.Sprintf(prefix, tc.object))+tc.wantStderr+"\n$", res.Stderr)
			assert.Empty(t, res.Stdout)
		})
	}

	t.Run("examples/audit", func(t *testing.T) {
		needNamespace(t)
		dir := t.TempDir()
		cfg := filepath.Join(dir, "audit.json")
		file := filepath.Join(dir, "audit.jsonl")
		auditBin := build(t, "github.com/hookkit-dev/hookkit/examples/audit", "auditFile="+file, "configFile="+cfg)
		for _, row := range []struct {
			required   bool
			wantCode   int
			wantStderr string
		}{
			// The lock directory is the default one, lock.DefaultDir; the program name is "audit" (WithName).
			{true, 1, `^audit: qemu vm1 prepare begin: audit: lock audit: mkdir /run/lock(/hookkit)?: read-only file system\n$`},
			{false, 0, `^$`}, // the failure is only logged, so that a broken audit does not stop VMs
		} {
			require.NoError(t, os.WriteFile(cfg, fmt.Appendf(nil, `{"required": %v}`, row.required), 0o600))
			// No syslog, and /var/log replaced by a test directory: the hook's log lands in varLog.
			varLog := t.TempDir()
			opts := []string{"-rotmpfs", roRunLock, "-dev", t.TempDir(), "-bind", varLog + "=/var/log"}
			res, took := runIn(t, true, opts, auditBin, domain{Name: "vm1", UUID: fixtureUUID}.call(t, event.QEMU, "prepare"))
			t.Logf("required=%v: exit %d in %v: %s", row.required, res.Code, took.Round(time.Millisecond), res.Stderr)
			assert.Equal(t, row.wantCode, res.Code, "required=%v", row.required)
			assert.Regexp(t, row.wantStderr, res.Stderr, "required=%v", row.required)
			assert.NoFileExists(t, file, "no entry written without the lock")
			b, err := os.ReadFile(filepath.Join(varLog, "hookkit", "audit.log"))
			require.NoError(t, err, "the failure is logged")
			assert.Contains(t, string(b), `msg="audit: entry not written" `+"hook=audit driver=qemu object=vm1 op=prepare subop=begin extra=\"\" "+`error="audit: lock audit: mkdir /run/lock`)
		}
	})
}

// TestFaultDeadline runs handlers that ignore their context past the deadline (1 s, built in with
// hookkit.WithTimeout) through the real binary: the hook exits 1 with "timed out after 1s" as soon as the
// deadline passes, however the handler is stuck.
func TestFaultDeadline(t *testing.T) {
	bin, _ := faultHook(t)
	for _, object := range []string{"spin", "spinall", "blocked"} {
		t.Run(object, func(t *testing.T) {
			begin := time.Now()
			res := hookkittest.Exec(t, bin, call(t, object))
			took := time.Since(begin)
			t.Logf("exit %d in %v", res.Code, took.Round(time.Millisecond))
			assert.Equal(t, 1, res.Code)
			assert.Equal(t, "qemu: qemu "+object+" prepare begin: timed out after 1s\n", res.Stderr)
			assert.Empty(t, res.Stdout)
			assert.Less(t, took, hangBound, "answered in bounded time")
		})
	}

	// A writer that sends half the domain and never closes stdin: the deadline runs from the start of
	// the hook, not from the end of its input, so the hook still answers.
	t.Run("stdin never closed", func(t *testing.T) {
		c := call(t, "ok")
		link := filepath.Join(t.TempDir(), "qemu")
		require.NoError(t, os.Symlink(bin, link))
		r, w, err := os.Pipe()
		require.NoError(t, err)
		defer w.Close()
		cmd := exec.Command(link, c.Args()[1:]...)
		cmd.Stdin = r
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		begin := time.Now()
		require.NoError(t, cmd.Start())
		r.Close()
		_, err = w.Write(c.Stdin[:len(c.Stdin)/2])
		require.NoError(t, err)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err = <-done:
		case <-time.After(hangBound):
			_ = cmd.Process.Kill()
			<-done
			t.Fatal("the hook waited for the end of its stdin past the deadline")
		}
		t.Logf("exit in %v", time.Since(begin).Round(time.Millisecond))
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee)
		assert.Equal(t, 1, ee.ExitCode())
		assert.Equal(t, "qemu: qemu ok prepare begin: timed out after 1s\n", stderr.String())
		assert.Empty(t, stdout.String())
	})
}

// TestFaultDetachedChild starts detached work (hookkit/detach) from a started handler and runs the hook
// through hookkittest.Exec, which, like libvirt, returns only once every write end of the hook's stdout and
// stderr is closed: the hook must answer at once, and the work must run after it exited, in its own
// session, and finish on its own.
func TestFaultDetachedChild(t *testing.T) {
	bin, base := faultHook(t)
	dir := filepath.Join(base, "detach")
	c := domain{Name: "detach", UUID: fixtureUUID}.call(t, event.QEMU, "started")

	done := make(chan hookkittest.Result, 1)
	begin := time.Now()
	go func() { done <- hookkittest.Exec(t, bin, c) }()
	var res hookkittest.Result
	select {
	case res = <-done:
	case <-time.After(hangBound):
		require.NoError(t, os.WriteFile(filepath.Join(dir, "release"), nil, 0o600)) // let the work end, and Exec return
		<-done
		t.Fatalf("the hook's stdout or stderr stayed open after it exited, held by the detached work: libvirt would hang")
	}
	t.Logf("hook answered in %v", time.Since(begin).Round(time.Millisecond))
	assert.Equal(t, 0, res.Code, res.Stderr)
	assert.Empty(t, res.Stderr)
	assert.Empty(t, res.Stdout)

	waitFor(t, filepath.Join(dir, "started"))
	assert.NoFileExists(t, filepath.Join(dir, "done"), "the work waits for its release: it outlived the hook")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "release"), nil, 0o600))
	waitFor(t, filepath.Join(dir, "done"))
	b, err := os.ReadFile(filepath.Join(dir, "done"))
	require.NoError(t, err)
	var pid, sid int
	var alive bool
	_, err = fmt.Sscanf(string(b), "pid=%d sid=%d hook-alive-at-start=%t\n", &pid, &sid, &alive)
	require.NoError(t, err, string(b))
	assert.Equal(t, pid, sid, "the work runs in its own session")
	assert.False(t, alive, "the work started after the hook exited")

	logFile := filepath.Join(dir, "probe.log")
	limit := time.Now().Add(hangBound)
	for {
		b, _ = os.ReadFile(logFile)
		if strings.Contains(string(b), "probe: finished after") || time.Now().After(limit) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	assert.Regexp(t, `probe: started \(pid \d+, 1 args\)\n.*probe: finished after `, string(b))
}
