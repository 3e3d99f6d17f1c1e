// Command faulthook is the hook the fault tests build: what it does depends on argv[1] (the domain name;
// what follows a "." is ignored, to tell processes apart), so one binary meets every fault as libvirt
// would run it. Its settings are build-time variables (libvirt
// owns argv and clears the environment): go build -ldflags "-X main.base=DIR -X main.timeout=1s".
//
//	logerr        logs 50 error records, then fails with "refused by policy"
//	logok         logs 50 error records and succeeds
//	logmany       logs 2,000 error records (about 400 KB) and succeeds
//	spin          spins one CPU, ignoring its context
//	spinall       spins 2×GOMAXPROCS goroutines, ignoring its context
//	blocked       blocks in read(2) on a pipe nobody writes, ignoring its context
//	lock-default  takes hookkit/lock "faults" in the default directory /run/lock/hookkit
//	lock-notadir  takes it in base/notadir, which the test makes a regular file
//	lock-ro       takes it in base/ro/locks, which the test mounts read-only
//	lock-held     takes it in base/locks with a 100 ms timeout while the test holds it
//	detach        starts the detached job "probe" (see probe) and succeeds
//
// It logs to base/logs/faulthook.log when no syslog socket answers.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/hookkit-dev/hookkit/hookkit"
	"github.com/hookkit-dev/hookkit/hookkit/detach"
	"github.com/hookkit-dev/hookkit/hookkit/lock"
)

// base is the directory holding every file the hook uses; set it with -X main.base=DIR.
var base = "/nonexistent"

// timeout is the handler deadline (hookkit.WithTimeout); set it with -X main.timeout=1s.
var timeout = "2s"

// probe is the detached job: it records that it started, waits for base/detach/release, then records
// its pid, session id and whether the hook that started it (pid in args[0]) was still running at its
// start.
var probe = detach.Register("probe", func(ctx context.Context, args []string) error {
	dir := filepath.Join(base, "detach")
	// The hook is gone once its pid is, or is a zombie its parent has not reaped yet.
	stat, err := os.ReadFile("/proc/" + args[0] + "/stat")
	_, after, _ := strings.Cut(string(stat), ") ")
	alive := err == nil && !strings.HasPrefix(after, "Z") && !strings.HasPrefix(after, "X")
	sid, _, _ := syscall.RawSyscall(syscall.SYS_GETSID, 0, 0, 0)
	if err := os.WriteFile(filepath.Join(dir, "started"), nil, 0o600); err != nil {
		return err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "release")); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	tmp := filepath.Join(dir, "done.tmp") // renamed, so that the test never reads it half-written
	if err := os.WriteFile(tmp, fmt.Appendf(nil, "pid=%d sid=%d hook-alive-at-start=%v\n", os.Getpid(), sid, alive), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, "done"))
})

func main() {
	d, err := time.ParseDuration(timeout)
	if err != nil {
		panic(err) // a build mistake, seen on the first run
	}
	r := hookkit.New(hookkit.WithTimeout(d), hookkit.WithLogFile(filepath.Join(base, "logs", "faulthook.log")))
	behave := func(dom *hookkit.Domain) error {
		kind, _, _ := strings.Cut(dom.Object, ".")
		switch kind {
		case "logerr", "logok", "logmany":
			n := 50
			if kind == "logmany" {
				n = 2000
			}
			for i := range n {
				dom.Logger().Error("handler log record", "n", i)
			}
			if kind == "logerr" {
				return errors.New("refused by policy")
			}
		case "spin":
			spin()
		case "spinall":
			for range 2*runtime.GOMAXPROCS(0) - 1 {
				go spin()
			}
			spin()
		case "blocked":
			var p [2]int
			if err := syscall.Pipe(p[:]); err != nil {
				return err
			}
			var b [1]byte
			_, _ = syscall.Read(p[0], b[:]) // the write end stays open: blocks for good
		case "lock-default", "lock-notadir", "lock-ro", "lock-held":
			dir := map[string]string{
				"lock-default": "",
				"lock-notadir": filepath.Join(base, "notadir"),
				"lock-ro":      filepath.Join(base, "ro", "locks"),
				"lock-held":    filepath.Join(base, "locks"),
			}[kind]
			return lock.With(dom.Context(), "faults", lock.Options{Dir: dir, Timeout: 100 * time.Millisecond}, func() error { return nil })
		case "detach":
			dir := filepath.Join(base, "detach")
			_, err := probe.Start(detach.Options{LogFile: filepath.Join(dir, "probe.log"), Timeout: 30 * time.Second}, fmt.Sprint(os.Getpid()))
			return err
		}
		return nil
	}
	r.OnDomainPrepare(behave)
	r.OnDomainStarted(behave)
	r.Main()
}

// spin burns CPU for ever without looking at any context.
func spin() {
	for {
	}
}
