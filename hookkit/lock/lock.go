package lock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// DefaultDir is the directory that holds lock files when Options.Dir is empty.
const DefaultDir = "/run/lock/hookkit"

// ErrTimeout is matched (with errors.Is) by the error Acquire returns when
// Options.Timeout expired while another holder kept the lock.
var ErrTimeout = errors.New("timed out")

// Options configures Acquire. The zero value locks under DefaultDir and waits
// until the context is done.
type Options struct {
	// Dir holds the lock files; it is created with mode 0700 when missing.
	// Empty means DefaultDir.
	Dir string
	// Timeout bounds the wait. Zero waits until ctx is done; a negative value
	// tries once and fails at once when the lock is held.
	Timeout time.Duration
}

// Lock is a held lock. Release it exactly once; further calls do nothing.
type Lock struct {
	name string
	path string
	f    *os.File
}

// Name returns the lock's name as given to Acquire.
func (l *Lock) Name() string { return l.name }

// Path returns the lock file's path.
func (l *Lock) Path() string { return l.path }

// Release unlocks and closes the lock file. It is safe to call more than once and
// on a nil *Lock.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	f := l.f
	l.f = nil
	// Closing the only descriptor drops the flock; unlock explicitly anyway so a
	// descriptor duplicated by a careless fork cannot keep it.
	uerr := syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	cerr := f.Close()
	if uerr != nil {
		return fmt.Errorf("lock %s: unlock: %w", l.name, uerr)
	}
	if cerr != nil {
		return fmt.Errorf("lock %s: %w", l.name, cerr)
	}
	return nil
}

// Remove deletes the lock file and then releases the lock. Processes waiting on
// the same name notice the file is gone and lock a fresh one, so removal never
// lets two holders in at once. Use it when the name will not be used again (for
// example a per-domain lock after the domain's teardown).
func (l *Lock) Remove() error {
	if l == nil || l.f == nil {
		return nil
	}
	rerr := os.Remove(l.path)
	if err := l.Release(); err != nil {
		return err
	}
	if rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		return fmt.Errorf("lock %s: %w", l.name, rerr)
	}
	return nil
}

// ValidateName reports whether name can be used as a lock name: a single path
// element of at most 200 bytes, not "." or "..", without '/', NUL or other
// control characters.
func ValidateName(name string) error {
	switch {
	case name == "":
		return errors.New("empty lock name")
	case name == "." || name == "..":
		return fmt.Errorf("invalid lock name %q", name)
	case len(name) > 200:
		return fmt.Errorf("lock name too long (%d bytes, at most 200)", len(name))
	case strings.ContainsRune(name, '/'):
		return fmt.Errorf("invalid lock name %q: contains a path separator", name)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("invalid lock name %q: contains a control character", name)
		}
	}
	return nil
}

// Acquire takes the named lock, waiting until it is free, opts.Timeout expired or
// ctx is done. Errors name the lock and the cause, for example
//
//	lock portforward: open /run/lock/hookkit/portforward.lock: permission denied
//	lock portforward: timed out after 10s: held by another process (pid 4242)
//	lock portforward: context canceled
func Acquire(ctx context.Context, name string, opts Options) (*Lock, error) {
	if err := ValidateName(name); err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	dir := opts.Dir
	if dir == "" {
		dir = DefaultDir
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	if err := checkDir(dir); err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	path := filepath.Join(dir, name+".lock")

	var deadline <-chan time.Time
	if opts.Timeout > 0 {
		t := time.NewTimer(opts.Timeout)
		defer t.Stop()
		deadline = t.C
	}
	wait := time.Millisecond
	for {
		l, err := tryLock(name, path)
		if err != nil {
			return nil, err
		}
		if l != nil {
			return l, nil
		}
		if opts.Timeout < 0 {
			return nil, fmt.Errorf("lock %s: %w", name, heldError(path))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("lock %s: %w", name, ctx.Err())
		case <-deadline:
			t.Stop()
			return nil, fmt.Errorf("lock %s: %w after %s: %w", name, ErrTimeout, opts.Timeout, heldError(path))
		case <-t.C:
		}
		if wait < 50*time.Millisecond {
			wait *= 2
		}
	}
}

// tryLock makes one attempt. It returns (nil, nil) when another holder has the
// lock, and an error only for failures that waiting will not cure.
func tryLock(name, path string) (*Lock, error) {
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", name, err)
		}
		if err := flock(f); err != nil {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, nil
			}
			return nil, fmt.Errorf("lock %s: flock %s: %w", name, path, err)
		}
		// The holder before us may have removed the file while we waited on the
		// old inode: only a lock on the file currently at path counts.
		if same, err := samePath(f, path); err != nil || !same {
			f.Close()
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("lock %s: %w", name, err)
			}
			continue
		}
		// Record the holder for the "held by" diagnostic; best effort. A fixed
		// width overwrites the previous pid in place, without a truncate.
		_, _ = f.WriteAt(fmt.Appendf(nil, "%10d\n", os.Getpid()), 0)
		return &Lock{name: name, path: path, f: f}, nil
	}
}

func flock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			return err
		}
	}
}

func samePath(f *os.File, path string) (bool, error) {
	fi, err := f.Stat()
	if err != nil {
		return false, err
	}
	pi, err := os.Lstat(path)
	if err != nil {
		return false, err
	}
	return os.SameFile(fi, pi), nil
}

// checkDir refuses a lock directory that another user could tamper with. The
// default one sits in /run/lock, which every user may write to (mode 1777): a user
// who created /run/lock/hookkit first could hold any lock (and so fail every hook
// that needs it) or remove a held lock's file and let two holders in at once. The
// directory must be owned by this user or by root and not be writable by group or
// others; the check follows symbolic links to the directory they point to.
func checkDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		if euid := os.Geteuid(); int(st.Uid) != euid && st.Uid != 0 {
			return fmt.Errorf("%s is owned by uid %d, not by this user (uid %d) or root: another user could hold or remove its locks; remove it or fix its owner", dir, st.Uid, euid)
		}
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("%s is writable by group or others (mode %04o): another user could hold or remove its locks; chmod go-w it", dir, perm)
	}
	return nil
}

// heldError describes the current holder, naming its pid when the kernel says
// which process holds the lock (Linux's /proc/locks). The pid a holder writes into
// the lock file is not enough: the lock may now be held by a process that is not
// a hookkit one (flock(1), for example) while the file still names the last
// hookkit holder, perhaps long gone.
func heldError(path string) error {
	if pid := flockHolder(path); pid > 0 {
		if pid == os.Getpid() {
			return fmt.Errorf("held by this process (pid %d)", pid)
		}
		return fmt.Errorf("held by another process (pid %d)", pid)
	}
	return errors.New("held by another process")
}

// flockHolder returns the pid of the process holding a flock on the file at path,
// as /proc/locks gives it, or 0 when that cannot be told.
func flockHolder(path string) int {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0
	}
	locks, err := os.ReadFile("/proc/locks")
	if err != nil {
		return 0
	}
	dev := uint64(st.Dev)
	major := (dev>>8)&0xfff | (dev>>32)&^0xfff
	minor := dev&0xff | (dev>>12)&^0xff
	want := fmt.Sprintf("%02x:%02x:%d", major, minor, st.Ino)
	// "1: FLOCK  ADVISORY  WRITE 4242 00:1a:1234 0 EOF"; a waiter's line has "->" after the number.
	for line := range strings.Lines(string(locks)) {
		f := strings.Fields(line)
		if len(f) >= 6 && f[1] == "FLOCK" && f[5] == want {
			if pid, err := strconv.Atoi(f[4]); err == nil {
				return pid
			}
		}
	}
	return 0
}

// With runs fn while holding the named lock and releases it afterwards, also
// when fn panics.
func With(ctx context.Context, name string, opts Options, fn func() error) (err error) {
	l, err := Acquire(ctx, name, opts)
	if err != nil {
		return err
	}
	defer func() {
		if rerr := l.Release(); err == nil {
			err = rerr
		}
	}()
	return fn()
}
