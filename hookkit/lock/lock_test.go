package lock_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookkit-dev/hookkit/hookkit/lock"
)

// helperEnv selects a helper role when the test binary re-executes itself.
const helperEnv = "HOOKKIT_LOCK_TEST_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "count":
		os.Exit(helperCount())
	case "hold":
		os.Exit(helperHold())
	default:
		fmt.Fprintln(os.Stderr, "unknown helper", os.Getenv(helperEnv))
		os.Exit(2)
	}
}

// helperCount increments the counter file under the lock N times, with a
// deliberately racy read-then-write that only the lock makes correct.
func helperCount() int {
	dir, counter := os.Getenv("LOCK_DIR"), os.Getenv("COUNTER")
	n, _ := strconv.Atoi(os.Getenv("ITER"))
	for range n {
		err := lock.With(context.Background(), "counter", lock.Options{Dir: dir, Timeout: time.Minute}, func() error {
			b, err := os.ReadFile(counter)
			if err != nil {
				return err
			}
			v, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				return err
			}
			time.Sleep(100 * time.Microsecond) // widen the race window
			return os.WriteFile(counter, []byte(strconv.Itoa(v+1)), 0o600)
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

// helperHold takes the lock, says "locked" on stdout and holds it until stdin closes.
func helperHold() int {
	l, err := lock.Acquire(context.Background(), os.Getenv("LOCK_NAME"), lock.Options{Dir: os.Getenv("LOCK_DIR")})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("locked")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	if err := l.Release(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// holdInOtherProcess starts a helper that holds name in dir; the returned func
// makes it release and exit.
func holdInOtherProcess(t *testing.T, dir, name string) (pid int, release func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"=hold", "LOCK_DIR="+dir, "LOCK_NAME="+name)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "locked\n", line)
	var once sync.Once
	release = func() {
		once.Do(func() {
			stdin.Close()
			assert.NoError(t, cmd.Wait())
		})
	}
	t.Cleanup(release)
	return cmd.Process.Pid, release
}

func TestCounterAcrossProcesses(t *testing.T) {
	const procs, iter = 6, 40
	dir := t.TempDir()
	counter := filepath.Join(dir, "counter")
	require.NoError(t, os.WriteFile(counter, []byte("0"), 0o600))

	cmds := make([]*exec.Cmd, procs)
	for i := range cmds {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), helperEnv+"=count", "LOCK_DIR="+dir, "COUNTER="+counter, "ITER="+strconv.Itoa(iter))
		cmd.Stderr = os.Stderr
		require.NoError(t, cmd.Start())
		cmds[i] = cmd
	}
	for _, cmd := range cmds {
		require.NoError(t, cmd.Wait())
	}
	b, err := os.ReadFile(counter)
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(procs*iter), string(b))
}

func TestCounterAcrossGoroutines(t *testing.T) {
	const workers, iter = 8, 50
	dir := t.TempDir()
	// Load and Store are separate steps: only the lock makes the increment exact
	// (atomic.Int64 just keeps the race detector, which cannot see flock, quiet).
	var n atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range iter {
				assert.NoError(t, lock.With(t.Context(), "g", lock.Options{Dir: dir}, func() error {
					v := n.Load()
					time.Sleep(10 * time.Microsecond)
					n.Store(v + 1)
					return nil
				}))
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(workers*iter), n.Load())
}

func TestTimeoutNamesHolder(t *testing.T) {
	dir := t.TempDir()
	pid, release := holdInOtherProcess(t, dir, "portforward")

	tests := []struct {
		name    string
		timeout time.Duration
		want    string
	}{
		{"timeout", 30 * time.Millisecond, fmt.Sprintf("lock portforward: timed out after 30ms: held by another process (pid %d)", pid)},
		{"try once", -1, fmt.Sprintf("lock portforward: held by another process (pid %d)", pid)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := lock.Acquire(t.Context(), "portforward", lock.Options{Dir: dir, Timeout: tt.timeout})
			require.Error(t, err)
			assert.Nil(t, l)
			assert.Equal(t, tt.want, err.Error())
			assert.Equal(t, tt.timeout > 0, errors.Is(err, lock.ErrTimeout))
		})
	}

	// Once the holder is gone the lock is free again.
	release()
	l, err := lock.Acquire(t.Context(), "portforward", lock.Options{Dir: dir, Timeout: -1})
	require.NoError(t, err)
	require.NoError(t, l.Release())
}

func TestHolderCrashFreesLock(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"=hold", "LOCK_DIR="+dir, "LOCK_NAME=crash")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	_, err = cmd.StdinPipe() // kept open: the helper would hold forever
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	_, err = bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()

	l, err := lock.Acquire(t.Context(), "crash", lock.Options{Dir: dir, Timeout: 10 * time.Second})
	require.NoError(t, err)
	require.NoError(t, l.Release())
}

func TestContextCancel(t *testing.T) {
	dir := t.TempDir()
	held, err := lock.Acquire(t.Context(), "busy", lock.Options{Dir: dir})
	require.NoError(t, err)
	defer held.Release()

	deadlineCtx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	canceledCtx, cancel2 := context.WithCancel(t.Context())
	time.AfterFunc(20*time.Millisecond, cancel2)

	tests := []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"canceled", canceledCtx, context.Canceled},
		{"deadline", deadlineCtx, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := lock.Acquire(tt.ctx, "busy", lock.Options{Dir: dir})
			require.ErrorIs(t, err, tt.want)
			assert.Equal(t, "lock busy: "+tt.want.Error(), err.Error())
		})
	}
}

// TestHolderFromKernel: the pid in the error is the process that holds the lock now, as the kernel
// says, not the last hookkit holder the lock file records (which may be gone, while something else,
// such as flock(1), holds the file).
func TestHolderFromKernel(t *testing.T) {
	if _, err := os.Stat("/proc/locks"); err != nil {
		t.Skip("no /proc/locks")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "fw.lock")
	require.NoError(t, os.WriteFile(path, []byte("    999999\n"), 0o600)) // a holder long gone
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	require.NoError(t, syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)) // not through package lock
	_, err = lock.Acquire(t.Context(), "fw", lock.Options{Dir: dir, Timeout: -1})
	assert.EqualError(t, err, fmt.Sprintf("lock fw: held by this process (pid %d)", os.Getpid()))
}

func TestSameProcessHolder(t *testing.T) {
	dir := t.TempDir()
	held, err := lock.Acquire(t.Context(), "self", lock.Options{Dir: dir})
	require.NoError(t, err)
	_, err = lock.Acquire(t.Context(), "self", lock.Options{Dir: dir, Timeout: -1})
	assert.EqualError(t, err, fmt.Sprintf("lock self: held by this process (pid %d)", os.Getpid()))
	require.NoError(t, held.Release())
	require.NoError(t, held.Release(), "second release is a no-op")
}

func TestBadNames(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, want string
	}{
		{"", "lock: empty lock name"},
		{".", `lock: invalid lock name "."`},
		{"..", `lock: invalid lock name ".."`},
		{"../etc/passwd", `lock: invalid lock name "../etc/passwd": contains a path separator`},
		{"a/b", `lock: invalid lock name "a/b": contains a path separator`},
		{"a\x00b", `lock: invalid lock name "a\x00b": contains a control character`},
		{"a\nb", `lock: invalid lock name "a\nb": contains a control character`},
		{strings.Repeat("x", 201), "lock: lock name too long (201 bytes, at most 200)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := lock.Acquire(t.Context(), tt.name, lock.Options{Dir: dir})
			assert.EqualError(t, err, tt.want)
		})
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "a rejected name creates nothing")

	for _, ok := range []string{"portforward", "vm-web 1", "a..b", "c7a5fdbd-edaf-9455-926a-d65c16db1809", "état"} {
		assert.NoError(t, lock.ValidateName(ok), ok)
	}
}

func TestDirErrors(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))

	tests := []struct {
		name string
		dir  string
		want string
	}{
		{"dir is a file", file, "lock x: mkdir " + file + ": not a directory"},
		{"parent is a file", filepath.Join(file, "sub"), "lock x: mkdir " + file + ": not a directory"},
	}
	// A directory another user could write to, or owns, would let that user hold or remove any lock
	// (the default one is in /run/lock, mode 1777 on Debian and Ubuntu).
	shared := filepath.Join(base, "shared")
	require.NoError(t, os.Mkdir(shared, 0o700))
	require.NoError(t, os.Chmod(shared, 0o1777))
	tests = append(tests, struct{ name, dir, want string }{"writable by others", shared,
		"lock x: " + shared + " is writable by group or others (mode 0777): another user could hold or remove its locks; chmod go-w it"})
	if os.Geteuid() == 0 {
		foreign := filepath.Join(base, "foreign")
		require.NoError(t, os.Mkdir(foreign, 0o700))
		require.NoError(t, os.Chown(foreign, 65534, 65534))
		tests = append(tests, struct{ name, dir, want string }{"owned by another user", foreign,
			"lock x: " + foreign + " is owned by uid 65534, not by this user (uid 0) or root: another user could hold or remove its locks; remove it or fix its owner"})
		link := filepath.Join(base, "link")
		require.NoError(t, os.Symlink(foreign, link))
		tests = append(tests, struct{ name, dir, want string }{"symlink to a directory of another user", link,
			"lock x: " + link + " is owned by uid 65534, not by this user (uid 0) or root: another user could hold or remove its locks; remove it or fix its owner"})
	}
	if os.Geteuid() != 0 {
		ro := filepath.Join(base, "ro")
		require.NoError(t, os.Mkdir(ro, 0o500))
		tests = append(tests, struct{ name, dir, want string }{"not writable", ro,
			"lock x: open " + filepath.Join(ro, "x.lock") + ": permission denied"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := lock.Acquire(t.Context(), "x", lock.Options{Dir: tt.dir, Timeout: -1})
			assert.EqualError(t, err, tt.want)
		})
	}
}

func TestDirCreated0700(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	l, err := lock.Acquire(t.Context(), "x", lock.Options{Dir: dir})
	require.NoError(t, err)
	defer l.Release()
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	assert.Equal(t, filepath.Join(dir, "x.lock"), l.Path())
	assert.Equal(t, "x", l.Name())
	fi, err = os.Stat(l.Path())
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
}

func TestRemoveWhileOthersWait(t *testing.T) {
	// Holders that remove the file on release must never let two in at once.
	dir := t.TempDir()
	const workers, iter = 6, 30
	inside := 0
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range iter {
				l, err := lock.Acquire(t.Context(), "r", lock.Options{Dir: dir, Timeout: time.Minute})
				if !assert.NoError(t, err) {
					return
				}
				mu.Lock()
				inside++
				assert.Equal(t, 1, inside)
				mu.Unlock()
				time.Sleep(20 * time.Microsecond)
				mu.Lock()
				inside--
				mu.Unlock()
				assert.NoError(t, l.Remove())
			}
		})
	}
	wg.Wait()
	_, err := os.Stat(filepath.Join(dir, "r.lock"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func BenchmarkAcquireRelease(b *testing.B) {
	dir := b.TempDir()
	for b.Loop() {
		l, err := lock.Acquire(context.Background(), "bench", lock.Options{Dir: dir})
		if err != nil {
			b.Fatal(err)
		}
		if err := l.Release(); err != nil {
			b.Fatal(err)
		}
	}
}
