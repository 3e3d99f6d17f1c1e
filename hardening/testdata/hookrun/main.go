// Command hookrun starts a hook for the hardening tests the way they need it, then gets out of the way:
//
//	hookrun [-barrier] [-rss FILE] [-dev DIR [-devlog SOCKET]] [-rotmpfs DIR]... [-ro DIR]... [-bind SRC=DST]... -- HOOK ARGS...
//
// HOOK runs with argv HOOK ARGS... (argv[0] is the path libvirt would execute), hookrun's own environment
// and working directory, and its stdin, stdout and stderr: the test starts hookrun with libvirt's cleared
// environment and cwd /, so the hook gets exactly those.
//
//   - -barrier waits for end of file on descriptor 3 before starting the hook: the test starts every
//     hookrun holding the read end of one pipe, then closes the write end, and all hooks start at once.
//   - -rss FILE runs the hook as a child and writes to FILE its peak RSS in bytes, and the wall-clock
//     times (Unix nanoseconds) just before it was started and just after it was reaped. A child forked straight
//     from the (large) test binary inherits the test's RSS in its rusage (Go starts children with vfork,
//     and the kernel folds the pre-exec memory into ru_maxrss); forked from this small program, it does not.
//     Without -rss the hook replaces hookrun (execve), so the test waits on the hook itself.
//   - -dev, -rotmpfs, -ro and -bind change mounts, so hookrun must have been started in a private mount namespace
//     (the tests set SysProcAttr.Unshareflags = CLONE_NEWNS, which also makes / private): nothing is seen
//     outside. -dev DIR mounts a tmpfs on the empty directory DIR, binds the host's null, zero, full,
//     random and urandom into it, binds SOCKET (any file) there as "log" when -devlog is given, and binds
//     DIR over /dev; it also hides a syslog socket at /run/systemd/journal/dev-log, /var/run/syslog or
//     /var/run/log. So the hook sees no syslog socket at all, or exactly the one the test made.
//     -rotmpfs DIR mounts an empty read-only tmpfs on DIR; -ro DIR binds DIR read-only onto itself;
//     -bind SRC=DST binds SRC on DST (to catch what a hook writes to a fixed path such as /var/log).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// list is a repeatable string flag.
type list []string

func (l *list) String() string     { return fmt.Sprint(*l) }
func (l *list) Set(s string) error { *l = append(*l, s); return nil }

func main() {
	barrier := flag.Bool("barrier", false, "wait for end of file on descriptor 3 first")
	rss := flag.String("rss", "", "write the hook's peak RSS in bytes to this file")
	dev := flag.String("dev", "", "build a private /dev in this empty directory")
	devlog := flag.String("devlog", "", "with -dev: bind this file as /dev/log")
	var rotmpfs, ro, binds list
	flag.Var(&rotmpfs, "rotmpfs", "mount an empty read-only tmpfs on this directory (repeatable)")
	flag.Var(&ro, "ro", "bind this directory read-only onto itself (repeatable)")
	flag.Var(&binds, "bind", "SRC=DST: bind SRC on DST (repeatable)")
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 {
		fail(fmt.Errorf("usage: hookrun [options] -- HOOK ARGS..."))
	}
	if *barrier {
		f := os.NewFile(3, "barrier")
		_, _ = io.Copy(io.Discard, f)
		f.Close() // the hook must not inherit it
	}
	if *dev != "" {
		if err := privateDev(*dev, *devlog); err != nil {
			fail(err)
		}
	}
	for _, d := range rotmpfs {
		if err := syscall.Mount("tmpfs", d, "tmpfs", syscall.MS_RDONLY|syscall.MS_NOSUID|syscall.MS_NODEV, "size=64k"); err != nil {
			fail(fmt.Errorf("mount read-only tmpfs on %s: %w", d, err))
		}
	}
	for _, d := range ro {
		if err := bind(d, d); err != nil {
			fail(err)
		}
		if err := syscall.Mount("", d, "", syscall.MS_REMOUNT|syscall.MS_BIND|syscall.MS_RDONLY, ""); err != nil {
			fail(fmt.Errorf("remount %s read-only: %w", d, err))
		}
	}
	for _, b := range binds {
		src, dst, ok := strings.Cut(b, "=")
		if !ok {
			fail(fmt.Errorf("-bind %s: want SRC=DST", b))
		}
		if err := bind(src, dst); err != nil {
			fail(err)
		}
	}
	if *rss == "" {
		fail(syscall.Exec(args[0], args, os.Environ()))
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	start := time.Now()
	err := cmd.Run()
	end := time.Now()
	if cmd.ProcessState == nil {
		fail(err)
	}
	peak := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10
	if err := os.WriteFile(*rss, fmt.Appendf(nil, "%d %d %d", peak, start.UnixNano(), end.UnixNano()), 0o600); err != nil {
		fail(err)
	}
	os.Exit(cmd.ProcessState.ExitCode())
}

// privateDev makes dir (an empty directory) a tmpfs holding the device nodes a hook may use, plus
// devlog as "log" when it is not empty, and binds it over /dev; it hides the other syslog sockets.
func privateDev(dir, devlog string) error {
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID, "size=64k,mode=755"); err != nil {
		return fmt.Errorf("mount tmpfs on %s: %w", dir, err)
	}
	nodes := map[string]string{}
	for _, n := range []string{"null", "zero", "full", "random", "urandom"} {
		nodes[n] = "/dev/" + n
	}
	if devlog != "" {
		nodes["log"] = devlog
	}
	for name, src := range nodes {
		dst := filepath.Join(dir, name)
		if err := os.WriteFile(dst, nil, 0o666); err != nil {
			return err
		}
		if err := bind(src, dst); err != nil {
			return err
		}
	}
	if err := syscall.Mount(dir, "/dev", "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
		return err
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		return err
	}
	for _, p := range []string{"/run/systemd/journal/dev-log", "/var/run/syslog", "/var/run/log"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode()&os.ModeSocket != 0 {
			if err := bind(empty, p); err != nil {
				return err
			}
		}
	}
	return nil
}

func bind(src, dst string) error {
	if err := syscall.Mount(src, dst, "", syscall.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind %s on %s: %w", src, dst, err)
	}
	return nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "hookrun:", err)
	os.Exit(125)
}
