package hookdir

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/internal/daemonproc"
)

// Level is how serious a Finding is.
type Level int

// The finding levels. Error means a hook will not run as intended (or anyone can change what root runs).
const (
	OK Level = iota
	Warn
	Error
)

// String returns "ok", "warn" or "error".
func (l Level) String() string {
	switch l {
	case OK:
		return "ok"
	case Warn:
		return "warn"
	}
	return "error"
}

// Finding is one line of a diagnosis.
type Finding struct {
	Level Level
	// Subject is what the finding is about: a path relative to the hooks directory, a driver or a daemon.
	Subject string
	Message string
}

// String formats the finding as one line: level, subject and message.
func (f Finding) String() string { return fmt.Sprintf("%-5s %s: %s", f.Level, f.Subject, f.Message) }

// CheckOptions tunes Check.
type CheckOptions struct {
	// Daemons are the running libvirt daemons, compared with the hook files' modification times.
	Daemons []daemonproc.Process
	// CheckOwner reports hook files and directories not owned by root (useful when the caller is root, as the
	// system daemons are).
	CheckOwner bool
	// SysRoot is where sysfs is mounted ("/sys"), to check SELinux and AppArmor; "" skips those checks.
	SysRoot string
}

// Check diagnoses the scanned directory d and returns the findings in a stable order: the directory, then
// each driver in the order of event.Drivers, then the other top-level files, then the daemons, then SELinux
// and AppArmor.
func Check(d *Dir, opts CheckOptions) []Finding {
	c := checker{dir: d, opts: opts}
	c.checkDir()
	for i := range d.Drivers {
		c.checkDriver(&d.Drivers[i])
	}
	for _, e := range d.Others {
		if e.Executable() && e.Name != ".hookkit-backup" {
			c.add(Warn, c.rel(e.Path), "never runs: libvirt only runs files named after a driver (%s) and the entries of <driver>.d", event.Join(event.Drivers, ", "))
		}
	}
	c.checkDaemons()
	c.checkMAC()
	return c.out
}

// Errors counts the findings of level Error.
func Errors(fs []Finding) int {
	n := 0
	for _, f := range fs {
		if f.Level == Error {
			n++
		}
	}
	return n
}

type checker struct {
	dir  *Dir
	opts CheckOptions
	out  []Finding
}

func (c *checker) add(l Level, subject, format string, args ...any) {
	c.out = append(c.out, Finding{Level: l, Subject: subject, Message: fmt.Sprintf(format, args...)})
}

func (c *checker) rel(path string) string {
	if r, err := filepath.Rel(c.dir.Path, path); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return path
}

func (c *checker) checkDir() {
	d := c.dir
	if d.Info == nil {
		c.add(Warn, d.Path, "does not exist: libvirt runs no hooks")
		return
	}
	if !c.checkPerms(d.Path, d.Info, "directory") {
		return
	}
	present := d.Present()
	if len(present) == 0 {
		c.add(Warn, d.Path, "no driver has an executable hook: libvirt runs no hooks")
		return
	}
	var names []string
	for _, p := range present {
		names = append(names, string(p))
	}
	c.add(OK, d.Path, "hooks present for: %s", strings.Join(names, ", "))
}

// checkPerms reports a file or directory writable by group or other (error: anyone in that group can change
// what root runs) or not owned by root; it returns false when it reported an error.
func (c *checker) checkPerms(path string, info fs.FileInfo, what string) bool {
	ok := true
	if info.Mode().Perm()&0o022 != 0 {
		c.add(Error, c.rel(path), "%s is writable by group or other (mode %04o): anyone in that group can change what libvirt runs as root; chmod go-w",
			what, info.Mode().Perm())
		ok = false
	}
	if st, isUnix := info.Sys().(*syscall.Stat_t); c.opts.CheckOwner && isUnix && st.Uid != 0 {
		c.add(Warn, c.rel(path), "%s is owned by uid %d, not root: that user can change what libvirt runs as root", what, st.Uid)
	}
	return ok
}

func (c *checker) checkDriver(h *Driver) {
	name := string(h.Driver)
	if h.Main != nil {
		c.checkEntry(h, *h.Main)
	}
	if h.DDangling {
		target, _ := os.Readlink(h.DPath)
		c.add(Warn, c.rel(h.DPath), "is a symbolic link to nothing (%s): libvirt takes it for an absent directory, so nothing in it runs", target)
	}
	switch h.DState {
	case DBroken:
		if h.Main != nil && h.Main.Executable() {
			c.add(Error, c.rel(h.DPath), "exists but is not a readable directory (%v): every %s hook call fails, so every abortable %s operation fails", h.DErr, name, name)
		} else {
			c.add(Error, c.rel(h.DPath), "exists but is not a readable directory (%v) and there is no main script: the daemon refuses to start (VIR_DAEMON_ERR_HOOKS)", h.DErr)
		}
	case DDir:
		c.checkPerms(h.DPath, h.DInfo, "directory")
		for _, e := range h.Scripts {
			c.checkEntry(h, e)
		}
		c.checkOrder(h)
	}
	runs := h.Runs()
	if len(runs) > 0 {
		var order []string
		for _, e := range runs {
			order = append(order, c.rel(e.Path))
		}
		c.add(OK, name, "present; each call runs, in this order: %s", strings.Join(order, ", "))
	} else if h.Main != nil || len(h.Scripts) > 0 {
		c.add(Warn, name, "not present: nothing executable, so libvirt runs no %s hook", name)
	}
}

func (c *checker) checkEntry(h *Driver, e Entry) {
	rel := c.rel(e.Path)
	inD := filepath.Dir(e.Path) == h.DPath
	switch {
	case e.Broken():
		c.add(Warn, rel, "broken symlink (-> %s): libvirt skips it", e.Link)
		return
	case !e.Executable():
		what := "not executable"
		if e.Target.IsDir() {
			what = "a directory"
		} else if !e.Target.Mode().IsRegular() {
			what = "not a regular file"
		}
		c.add(Warn, rel, "%s: libvirt logs \"Non-executable hook script\" and skips it", what)
		return
	}
	c.checkPerms(e.Path, e.Target, "hook script")
	if e.IsSymlink() {
		c.checkTargetDir(e)
	}
	if inD {
		if why := backupKind(e.Name); why != "" {
			c.add(Warn, rel, "%s that libvirt runs (every executable entry of %s.d runs): remove it or chmod a-x", why, h.Driver)
		}
	}
	c.checkExec(e)
}

// checkTargetDir reports a symlink whose target lives in a directory group or other can write without the
// sticky bit: anyone there can replace the program libvirt runs as root.
func (c *checker) checkTargetDir(e Entry) {
	target, err := filepath.EvalSymlinks(e.Path)
	if err != nil {
		return
	}
	dir := filepath.Dir(target)
	info, err := os.Stat(dir)
	if err != nil {
		return
	}
	if info.Mode().Perm()&0o022 != 0 && info.Mode()&fs.ModeSticky == 0 {
		c.add(Error, c.rel(e.Path), "links to %s, in a directory writable by group or other (mode %04o): anyone there can replace what libvirt runs as root",
			target, info.Mode().Perm())
	}
}

// backupKind names the kind of leftover file name is, or "" when it looks like a real hook.
func backupKind(name string) string {
	switch {
	case strings.HasPrefix(name, "."):
		if strings.HasSuffix(name, ".swp") || strings.HasSuffix(name, ".swo") {
			return "editor swap file"
		}
		return "dotfile"
	case strings.HasSuffix(name, "~"):
		return "editor backup"
	case strings.HasPrefix(name, "#") && strings.HasSuffix(name, "#"):
		return "editor autosave file"
	case strings.Contains(name, ".dpkg-"), strings.Contains(name, ".ucf-"):
		return "package manager leftover"
	case strings.Contains(name, ".hookkit-bak"):
		return "hookkit backup"
	}
	for _, suf := range []string{".bak", ".orig", ".old", ".rej", ".rpmsave", ".rpmnew", ".rpmorig", ".swp", ".tmp", ".save"} {
		if strings.HasSuffix(name, suf) {
			return "backup file (" + suf + ")"
		}
	}
	return ""
}

// checkExec reports an executable that exec cannot start: no "#!" and no ELF header, or a missing interpreter.
func (c *checker) checkExec(e Entry) {
	rel := c.rel(e.Path)
	f, err := os.Open(e.Path)
	if err != nil {
		c.add(Warn, rel, "cannot read it to check its format: %v", err)
		return
	}
	defer f.Close()
	head := make([]byte, 256)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte("\x7fELF")):
		return
	case bytes.HasPrefix(head, []byte("#!")):
		line, _, _ := bytes.Cut(head[2:], []byte("\n"))
		if bytes.IndexByte(line, '\r') >= 0 {
			// The kernel splits the line at spaces and tabs only: "#!/bin/sh\r" names the interpreter
			// "/bin/sh\r", which does not exist.
			c.add(Error, rel, "the #! line ends with a carriage return (Windows line endings): exec looks for an interpreter whose name ends in \\r and fails, so every call of this hook fails; convert the file (dos2unix)")
			return
		}
		fields := strings.Fields(string(line))
		if len(fields) == 0 {
			c.add(Error, rel, "empty #! line: exec fails, so every call of this hook fails")
			return
		}
		interp := fields[0]
		if st, err := os.Stat(interp); err != nil || !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
			c.add(Error, rel, "interpreter %s in the #! line is missing or not executable: exec fails, so every call of this hook fails", interp)
		}
	default:
		c.add(Error, rel, "no #! line and not an ELF binary: libvirt execs hooks directly (no shell), so exec fails with ENOEXEC and every call of this hook fails")
	}
}

// checkOrder shows where numeric-looking names sort differently in byte order than numerically.
func (c *checker) checkOrder(h *Driver) {
	var names []string
	for _, e := range h.Scripts {
		if e.Executable() {
			names = append(names, e.Name)
		}
	}
	width := 0
	for _, n := range names {
		if _, digits, ok := numericPrefix(n); ok {
			width = max(width, digits)
		}
	}
	for j, n := range names {
		nj, _, ok := numericPrefix(n)
		if !ok {
			continue
		}
		var before []string
		for _, m := range names[:j] {
			if ni, _, ok := numericPrefix(m); ok && ni > nj {
				before = append(before, m)
			}
		}
		if len(before) > 3 {
			before = append(before[:3], fmt.Sprintf("and %d more", len(before)-3))
		}
		if len(before) > 0 {
			c.add(Warn, c.rel(filepath.Join(h.DPath, n)), "runs after %s: libvirt sorts in byte order, not numerically; pad the numbers to the same width (e.g. %s)",
				strings.Join(before, ", "), padded(n, width))
		}
	}
}

func numericPrefix(name string) (value uint64, digits int, ok bool) {
	for digits < len(name) && name[digits] >= '0' && name[digits] <= '9' {
		digits++
	}
	if digits == 0 {
		return 0, 0, false
	}
	v, err := strconv.ParseUint(name[:digits], 10, 64)
	return v, digits, err == nil
}

func padded(name string, width int) string {
	_, digits, _ := numericPrefix(name)
	return strings.Repeat("0", max(width-digits, 0)) + name
}

func (c *checker) checkDaemons() {
	if len(c.opts.Daemons) == 0 {
		c.add(OK, "daemons", "no running libvirt daemon found; hooks are read when one starts")
		return
	}
	for _, p := range c.opts.Daemons {
		if p.OtherMountNS {
			c.add(OK, p.String(), "runs in another mount namespace (a container?): it may see another hooks directory; not checked")
		}
	}
	for _, h := range c.dir.Drivers {
		runs := h.Runs()
		if len(runs) == 0 {
			continue
		}
		var oldest, newest time.Time
		var newestPath string
		for _, e := range runs {
			t := e.ModTime()
			if oldest.IsZero() || t.Before(oldest) {
				oldest = t
			}
			if t.After(newest) {
				newest, newestPath = t, e.Path
			}
		}
		for _, p := range daemonproc.Serving(h.Driver, c.opts.Daemons) {
			switch {
			case p.Started.Before(oldest):
				c.add(Warn, p.String(), "started %s, before every %s hook file (oldest written %s): if %s had no hook then, libvirt ignores them until the daemon reloads: %s",
					stamp(p.Started), h.Driver, stamp(oldest), h.Driver, p.ReloadHint())
			case p.Started.Before(newest):
				c.add(OK, p.String(), "started %s, after %s hooks existed; %s changed since (%s) and is picked up on the next call",
					stamp(p.Started), h.Driver, c.rel(newestPath), stamp(newest))
			default:
				c.add(OK, p.String(), "started %s, after every %s hook file was written", stamp(p.Started), h.Driver)
			}
		}
	}
}

func stamp(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") }
