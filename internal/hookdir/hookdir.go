// Package hookdir reads a libvirt hooks directory the way libvirt does (virhook.c, libvirt-hooks.md §2) and
// diagnoses it: which drivers are "present", which scripts a call runs and in which order, and what will
// surprise the user (non-executable scripts, editor backups that run, broken symlinks, numeric names in byte
// order, scripts exec cannot start, files others can write, daemons that have not seen the hooks yet).
package hookdir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/hookkit-dev/hookkit/hookkit/event"
)

// DefaultDir is where libvirt looks for hooks on a packaged system (SYSCONFDIR "/libvirt/hooks").
const DefaultDir = "/etc/libvirt/hooks"

// Entry is one file libvirt may look at: a main script or an entry of a <driver>.d directory.
type Entry struct {
	// Path is the full path libvirt builds and passes as argv[0].
	Path string
	// Name is the base name.
	Name string
	// Lmode is the mode of the entry itself (Lstat): a symlink is reported as one.
	Lmode fs.FileMode
	// LModTime is the modification time of the entry itself.
	LModTime time.Time
	// Link is the symlink's text when the entry is a symlink.
	Link string
	// Target is what stat (following symlinks) sees, nil when the entry is a broken symlink.
	Target fs.FileInfo
}

// IsSymlink reports whether the entry itself is a symbolic link.
func (e Entry) IsSymlink() bool { return e.Lmode&fs.ModeSymlink != 0 }

// Broken reports whether the entry is a symlink whose target does not exist.
func (e Entry) Broken() bool { return e.Target == nil }

// Executable is libvirt's virFileIsExecutable: stat (following symlinks) shows a regular file with any of the
// u/g/o execute bits.
func (e Entry) Executable() bool {
	return e.Target != nil && e.Target.Mode().IsRegular() && e.Target.Mode().Perm()&0o111 != 0
}

// ModTime is the later of the entry's own and its target's modification time.
func (e Entry) ModTime() time.Time {
	if e.Target != nil && e.Target.ModTime().After(e.LModTime) {
		return e.Target.ModTime()
	}
	return e.LModTime
}

// DirState says what the <driver>.d path is.
type DirState int

// The states of a <driver>.d path.
const (
	// DAbsent: there is no <driver>.d.
	DAbsent DirState = iota
	// DDir: <driver>.d is a readable directory (possibly through a symlink).
	DDir
	// DBroken: <driver>.d exists but cannot be read as a directory: libvirt fails every call of the driver.
	DBroken
)

// Driver is what the hooks directory holds for one driver.
type Driver struct {
	Driver event.Driver
	// Main is the main script <dir>/<driver>, nil when nothing exists at that path.
	Main *Entry
	// DPath is <dir>/<driver>.d; DState says what it is and DErr why it cannot be read.
	DPath  string
	DState DirState
	DErr   error
	// DInfo is what stat sees at DPath, nil when absent or broken.
	DInfo fs.FileInfo
	// DDangling: DPath is a symbolic link to nothing. libvirt's opendir then fails with ENOENT, which it
	// takes for "no such directory", so DState is DAbsent.
	DDangling bool
	// Scripts are the entries of <driver>.d in libvirt's order (strcmp of the full path, i.e. byte order).
	Scripts []Entry
}

// Present is libvirt's "present" bit: the main script is executable or <driver>.d holds at least one
// executable entry. libvirt runs no hook for a driver that is not present.
func (d Driver) Present() bool { return len(d.Runs()) > 0 }

// Runs returns the scripts one call of the driver runs, in order: the main script first, then the executable
// .d entries in byte order.
func (d Driver) Runs() []Entry {
	var out []Entry
	if d.Main != nil && d.Main.Executable() {
		out = append(out, *d.Main)
	}
	for _, e := range d.Scripts {
		if e.Executable() {
			out = append(out, e)
		}
	}
	return out
}

// Dir is a scanned hooks directory.
type Dir struct {
	Path string
	// Info is what stat sees at Path, nil when the directory does not exist.
	Info fs.FileInfo
	// Drivers holds one element per driver, in the order of event.Drivers.
	Drivers []Driver
	// Others are the top-level entries that are neither a driver's script nor its .d directory.
	Others []Entry
}

// Driver returns the scan of driver d.
func (d *Dir) Driver(drv event.Driver) *Driver {
	for i := range d.Drivers {
		if d.Drivers[i].Driver == drv {
			return &d.Drivers[i]
		}
	}
	return nil
}

// Present returns the drivers libvirt considers present, in the order of event.Drivers.
func (d *Dir) Present() []event.Driver {
	var out []event.Driver
	for _, drv := range d.Drivers {
		if drv.Present() {
			out = append(out, drv.Driver)
		}
	}
	return out
}

// Scan reads the hooks directory dir. A missing directory is not an error: it yields a Dir with nil Info and
// no driver present, which is what libvirt sees.
func Scan(dir string) (*Dir, error) {
	d := &Dir{Path: dir}
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		for _, drv := range event.Drivers {
			d.Drivers = append(d.Drivers, Driver{Driver: drv, DPath: filepath.Join(dir, string(drv)+".d")})
		}
		return d, nil
	case err != nil:
		return nil, err
	case !info.IsDir():
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	d.Info = info
	known := map[string]bool{}
	for _, drv := range event.Drivers {
		known[string(drv)] = true
		known[string(drv)+".d"] = true
		h := Driver{Driver: drv, DPath: filepath.Join(dir, string(drv)+".d")}
		if e, err := readEntry(filepath.Join(dir, string(drv))); err == nil {
			h.Main = &e
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		scanD(&h)
		d.Drivers = append(d.Drivers, h)
	}
	top, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, de := range top {
		if known[de.Name()] {
			continue
		}
		if e, err := readEntry(filepath.Join(dir, de.Name())); err == nil {
			d.Others = append(d.Others, e)
		}
	}
	return d, nil
}

func scanD(h *Driver) {
	info, err := os.Stat(h.DPath)
	if errors.Is(err, fs.ErrNotExist) {
		if _, lerr := os.Lstat(h.DPath); lerr == nil {
			h.DDangling = true
		}
		return // absent for libvirt, a dangling symlink included
	}
	if err == nil && !info.IsDir() {
		err = errors.New("not a directory")
	}
	if err != nil {
		h.DState, h.DErr = DBroken, err
		return
	}
	names, err := readNames(h.DPath)
	if err != nil {
		h.DState, h.DErr = DBroken, err
		return
	}
	h.DState, h.DInfo = DDir, info
	sort.Strings(names) // strcmp order of "<dir>/<driver>.d/<name>" is the byte order of the names
	for _, n := range names {
		if e, err := readEntry(filepath.Join(h.DPath, n)); err == nil {
			h.Scripts = append(h.Scripts, e)
		}
	}
}

func readNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

func readEntry(path string) (Entry, error) {
	li, err := os.Lstat(path)
	if err != nil {
		return Entry{}, err
	}
	e := Entry{Path: path, Name: filepath.Base(path), Lmode: li.Mode(), LModTime: li.ModTime()}
	if e.IsSymlink() {
		e.Link, _ = os.Readlink(path)
		if ti, err := os.Stat(path); err == nil {
			e.Target = ti
		}
	} else {
		e.Target = li
	}
	return e, nil
}
