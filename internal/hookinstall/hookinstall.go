// Package hookinstall installs a hook program into a libvirt hooks directory and reverses it.
//
// Installation is atomic per path (temporary file at the top of the hooks directory, fsync, rename), the
// program is mode 0755 and owned by root when running as root, and one copy serves several drivers through
// symlinks (libvirt passes the symlink's path as argv[0], so the hook still knows its driver). It refuses
// directories and files writable by group or other, never follows a symlink planted at a target path (it
// renames over it), and keeps a backup of what it replaces in <dir>/.hookkit-backup (mode 0600, outside every
// <driver>.d, so a backup never runs). A manifest in that directory lets Uninstall restore the previous state.
//
// Planning and applying are separate so that a dry run prints exactly what would be done.
package hookinstall

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/internal/hookdir"
)

// Options says what to install where.
type Options struct {
	// Binary is the hook program.
	Binary string
	// Dir is the hooks directory, e.g. /etc/libvirt/hooks.
	Dir string
	// Drivers receive the hook. The first gets the copy of the program, the others a symlink to it.
	Drivers []event.Driver
	// AsD, when set, installs <driver>.d/<AsD> instead of the main script <driver>.
	AsD string
	// Now gives the time used in backup names; time.Now when nil.
	Now func() time.Time
}

// ActionKind is what an Action does.
type ActionKind int

// The kinds of actions.
const (
	MkDir ActionKind = iota
	BackupFile
	WriteProgram
	MakeSymlink
	Unchanged
	Remove
	Restore
	RemoveDir
)

// Action is one step of a Plan.
type Action struct {
	Kind ActionKind
	// Path is the absolute path acted on.
	Path string
	// Arg is the program copied (WriteProgram), the symlink text (MakeSymlink) or the backup (BackupFile,
	// Restore).
	Arg string
	// Note says what the action replaces or why it is there.
	Note string
}

// String describes the action in one line.
func (a Action) String() string {
	owner := "root:root"
	if os.Geteuid() != 0 {
		owner = fmt.Sprintf("owned by uid %d, not root", os.Geteuid())
	}
	var s string
	switch a.Kind {
	case MkDir:
		s = fmt.Sprintf("create directory %s (0755, %s)", a.Path, owner)
	case BackupFile:
		s = fmt.Sprintf("back up %s to %s (0600)", a.Path, a.Arg)
	case WriteProgram:
		s = fmt.Sprintf("install %s: copy of %s (0755, %s)", a.Path, a.Arg, owner)
	case MakeSymlink:
		s = fmt.Sprintf("symlink %s -> %s", a.Path, a.Arg)
	case Unchanged:
		s = fmt.Sprintf("keep %s", a.Path)
	case Remove:
		s = fmt.Sprintf("remove %s", a.Path)
	case Restore:
		s = fmt.Sprintf("restore %s from %s", a.Path, a.Arg)
	case RemoveDir:
		s = fmt.Sprintf("remove directory %s", a.Path)
	}
	if a.Note != "" {
		s += " (" + a.Note + ")"
	}
	return s
}

// Plan is the list of actions an install or uninstall makes, computed without changing anything.
type Plan struct {
	Dir     string
	Actions []Action
	// NewlyPresent lists the drivers that had no hook before and have one after the plan is applied: libvirt
	// ignores them until the daemon serving them reloads.
	NewlyPresent []event.Driver

	program  []byte
	manifest *Manifest
	entries  []Entry  // entries to record (install) or to remove (uninstall)
	mkdirs   []string // relative paths of directories created
	now      time.Time
}

// PlanInstall checks the program and the hooks directory and computes the installation.
func PlanInstall(o Options) (*Plan, error) {
	if len(o.Drivers) == 0 {
		return nil, errors.New("no driver given")
	}
	for _, d := range o.Drivers {
		if !d.Valid() {
			return nil, fmt.Errorf("unknown driver %q (known: %s)", d, event.Join(event.Drivers, ", "))
		}
	}
	if o.AsD != "" && (strings.ContainsAny(o.AsD, "/\x00") || o.AsD == "." || o.AsD == "..") {
		return nil, fmt.Errorf("invalid --as-d name %q", o.AsD)
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	src, err := filepath.Abs(o.Binary)
	if err != nil {
		return nil, err
	}
	program, err := readProgram(src)
	if err != nil {
		return nil, err
	}
	p := &Plan{Dir: o.Dir, program: program, now: now().UTC()}
	dirExists, err := checkHooksDir(o.Dir)
	if err != nil {
		return nil, err
	}
	if !dirExists {
		p.Actions = append(p.Actions, Action{Kind: MkDir, Path: o.Dir})
	}
	if err := checkBackupDir(o.Dir); err != nil {
		return nil, err
	}
	if p.manifest, err = ReadManifest(o.Dir); err != nil {
		return nil, err
	}
	before, err := hookdir.Scan(o.Dir)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(program)
	hash := hex.EncodeToString(sum[:])
	first := o.Drivers[0]
	for i, d := range o.Drivers {
		rel := string(d)
		want := Entry{Path: rel, Driver: d, AsD: o.AsD}
		if o.AsD != "" {
			rel = filepath.Join(string(d)+".d", o.AsD)
			want.Path = rel
			if err := p.planDDir(d); err != nil {
				return nil, err
			}
		}
		if i == 0 {
			want.Kind, want.SHA256, want.Source = KindFile, hash, src
		} else {
			want.Kind, want.Link = KindSymlink, string(first)
			if o.AsD != "" {
				want.Link = filepath.Join("..", string(first)+".d", o.AsD)
			}
		}
		if err := p.planTarget(want); err != nil {
			return nil, err
		}
		if drv := before.Driver(d); drv == nil || !drv.Present() {
			p.NewlyPresent = append(p.NewlyPresent, d)
		}
	}
	return p, nil
}

// readProgram reads the program and checks that exec can start it.
func readProgram(src string) ([]byte, error) {
	info, err := os.Stat(src)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", src)
	}
	program, err := os.ReadFile(src)
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(program, []byte("\x7fELF")) && !bytes.HasPrefix(program, []byte("#!")) {
		return nil, fmt.Errorf("%s is neither an ELF binary nor a script with a #! line: libvirt could not exec it", src)
	}
	return program, nil
}

// checkHooksDir refuses a hooks directory that is not one or that others can write; it reports whether
// the directory exists.
func checkHooksDir(dir string) (bool, error) {
	info, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if _, perr := os.Stat(filepath.Dir(dir)); perr != nil {
			return false, fmt.Errorf("%s does not exist and neither does its parent: %w", dir, perr)
		}
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !info.IsDir() {
		return false, fmt.Errorf("%s is not a directory", dir)
	}
	if err := refuseWritable(dir, info); err != nil {
		return false, err
	}
	return true, nil
}

func refuseWritable(path string, info fs.FileInfo) error {
	if info.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("refusing %s: writable by group or other (mode %04o), anyone there could change what libvirt runs as root; chmod go-w it first",
			path, info.Mode().Perm())
	}
	if st, ok := info.Sys().(*syscall.Stat_t); ok && os.Geteuid() == 0 && st.Uid != 0 {
		return fmt.Errorf("refusing %s: owned by uid %d, not root; chown root it first", path, st.Uid)
	}
	return nil
}

// planDDir checks <driver>.d and plans its creation.
func (p *Plan) planDDir(d event.Driver) error {
	rel := string(d) + ".d"
	path := filepath.Join(p.Dir, rel)
	li, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if !slices.Contains(p.mkdirs, rel) {
			p.mkdirs = append(p.mkdirs, rel)
			p.Actions = append(p.Actions, Action{Kind: MkDir, Path: path})
		}
		return nil
	case err != nil:
		return err
	case li.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("refusing %s: it is a symlink; hookkit does not write through symlinks", path)
	case !li.IsDir():
		return fmt.Errorf("refusing %s: it is not a directory (libvirt fails every %s call while it exists)", path, d)
	}
	return refuseWritable(path, li)
}

// planTarget plans one installed path, with a backup of what it replaces.
func (p *Plan) planTarget(want Entry) error {
	path := filepath.Join(p.Dir, want.Path)
	act := Action{Kind: WriteProgram, Path: path, Arg: want.Source}
	if want.Kind == KindSymlink {
		act = Action{Kind: MakeSymlink, Path: path, Arg: want.Link}
	}
	li, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		p.Actions = append(p.Actions, act)
		p.entries = append(p.entries, want)
		return nil
	}
	if err != nil {
		return err
	}
	if old := p.manifest.find(want.Path); old != nil && matches(path, li, *old) {
		// Ours: replace it without a new backup, or keep it when it is already what we want.
		want.Backup = old.Backup
		if matches(path, li, want) {
			act = Action{Kind: Unchanged, Path: path, Note: "already installed by hookkit"}
		} else {
			act.Note = "replaces what hookkit installed before"
		}
		p.Actions = append(p.Actions, act)
		p.entries = append(p.entries, want)
		return nil
	}
	if old := p.manifest.find(want.Path); old != nil && old.Backup != nil && holdsBackup(p.Dir, path, li, old.Backup) {
		// An install that stopped after recording the path but before replacing it: the path still
		// holds what the recorded backup holds, so that backup stays the original.
		want.Backup = old.Backup
		act.Note = "replaces the file an interrupted install had already backed up"
		p.Actions = append(p.Actions, act)
		p.entries = append(p.entries, want)
		return nil
	}
	switch {
	case li.Mode()&fs.ModeSymlink != 0:
		link, err := os.Readlink(path)
		if err != nil {
			return err
		}
		want.Backup = &Backup{Kind: KindSymlink, Link: link}
		act.Note = fmt.Sprintf("replaces the symlink -> %s, recorded in the manifest", link)
	case li.Mode().IsRegular():
		if err := refuseWritable(path, li); err != nil {
			return err
		}
		backup := filepath.Join(BackupDir, strings.ReplaceAll(want.Path, "/", "__")+".hookkit-bak."+p.now.Format("20060102T150405Z"))
		want.Backup = &Backup{Kind: KindFile, Path: backup, Mode: li.Mode().Perm()}
		p.Actions = append(p.Actions, Action{Kind: BackupFile, Path: path, Arg: filepath.Join(p.Dir, backup)})
		act.Note = "replaces a regular file"
	default:
		return fmt.Errorf("refusing %s: it is a %s, not a file or a symlink", path, kindName(li.Mode()))
	}
	p.Actions = append(p.Actions, act)
	p.entries = append(p.entries, want)
	return nil
}

func kindName(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "special file"
}

// matches reports whether the path (with Lstat info li) still is what entry e installed.
func matches(path string, li fs.FileInfo, e Entry) bool {
	return holds(path, li, e.Kind, e.Link, func(raw []byte) bool {
		sum := sha256.Sum256(raw)
		return hex.EncodeToString(sum[:]) == e.SHA256
	})
}

// holdsBackup reports whether the path (with Lstat info li) still holds what backup b recorded.
func holdsBackup(dir, path string, li fs.FileInfo, b *Backup) bool {
	return holds(path, li, b.Kind, b.Link, func(raw []byte) bool {
		saved, err := readNoFollow(filepath.Join(dir, b.Path))
		return err == nil && bytes.Equal(raw, saved)
	})
}

// holds reports whether the path (with Lstat info li) is a symlink to link (KindSymlink), or a regular
// file whose content same accepts (KindFile).
func holds(path string, li fs.FileInfo, kind Kind, link string, same func(raw []byte) bool) bool {
	switch kind {
	case KindSymlink:
		got, err := os.Readlink(path)
		return li.Mode()&fs.ModeSymlink != 0 && err == nil && got == link
	case KindFile:
		if !li.Mode().IsRegular() {
			return false
		}
		raw, err := readNoFollow(path)
		return err == nil && same(raw)
	}
	return false
}

// ApplyInstall carries out an install plan. On failure the manifest still records what was done.
func (p *Plan) ApplyInstall() (err error) {
	changed := false
	defer func() {
		if changed {
			if merr := p.manifest.write(p.Dir); err == nil {
				err = merr
			}
		}
	}()
	for _, a := range p.Actions {
		switch a.Kind {
		case MkDir:
			if err := mkdirRoot(a.Path, 0o755); err != nil {
				return err
			}
			if rel, rerr := filepath.Rel(p.Dir, a.Path); rerr == nil && rel != "." && !slices.Contains(p.manifest.Dirs, rel) {
				p.manifest.Dirs = append(p.manifest.Dirs, rel)
				changed = true
			}
		case BackupFile:
			if err := ensureBackupDir(p.Dir); err != nil {
				return err
			}
			if err := copyNoFollow(a.Path, a.Arg, 0o600); err != nil {
				return fmt.Errorf("backing up %s: %w", a.Path, err)
			}
		case WriteProgram, MakeSymlink:
			// The manifest first: written after the replacement, a crash in between left hookkit's
			// program in place with no record of what it replaced (the backup orphaned), and the next
			// install backed up hookkit's own program as "the original", which uninstall then restored.
			e := p.entryFor(a.Path)
			var prev *Entry
			if e != nil {
				if old := p.manifest.find(e.Path); old != nil {
					prev = new(Entry)
					*prev = *old
				}
				p.manifest.put(*e)
				changed = true
				if err := p.manifest.write(p.Dir); err != nil {
					return fmt.Errorf("recording %s: %w", a.Path, err)
				}
			}
			if beforeReplace != nil {
				beforeReplace(a.Path)
			}
			var err error
			if a.Kind == WriteProgram {
				if err = writeAtomic(p.Dir, a.Path, p.program, 0o755); err != nil {
					err = fmt.Errorf("installing %s: %w", a.Path, err)
				}
			} else if err = symlinkAtomic(p.Dir, a.Path, a.Arg); err != nil {
				err = fmt.Errorf("linking %s: %w", a.Path, err)
			}
			if err != nil {
				if e != nil { // nothing was replaced: the record goes back to what it was
					if prev != nil {
						p.manifest.put(*prev)
					} else {
						p.manifest.remove(e.Path)
					}
				}
				return err
			}
		case Unchanged:
			if e := p.entryFor(a.Path); e != nil {
				p.manifest.put(*e)
				changed = true
			}
		default:
			return fmt.Errorf("internal error: %v in an install plan", a)
		}
	}
	return nil
}

// beforeReplace, when set (by tests), is called between recording a path in the manifest and replacing
// it: a test makes it panic to stand for a crash at that point.
var beforeReplace func(path string)

func (p *Plan) entryFor(path string) *Entry {
	for i := range p.entries {
		if filepath.Join(p.Dir, p.entries[i].Path) == path {
			return &p.entries[i]
		}
	}
	return nil
}
