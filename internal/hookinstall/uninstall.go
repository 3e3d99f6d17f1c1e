package hookinstall

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/hookkit-dev/hookkit/hookkit/event"
)

// UninstallOptions says what to remove. Only paths recorded in the manifest are touched.
type UninstallOptions struct {
	// Dir is the hooks directory.
	Dir string
	// Drivers restricts the removal to these drivers; nil means every recorded driver.
	Drivers []event.Driver
	// AsD restricts the removal to <driver>.d/<AsD> entries; "" means any.
	AsD string
}

// PlanUninstall computes how to reverse what hookkit installed in o.Dir: remove each recorded path that is
// still what hookkit put there, and restore the backup of what it replaced. It refuses paths changed since
// and removals that would leave a recorded symlink dangling.
func PlanUninstall(o UninstallOptions) (*Plan, error) {
	if err := checkBackupDir(o.Dir); err != nil {
		return nil, err
	}
	m, err := ReadManifest(o.Dir)
	if err != nil {
		return nil, err
	}
	p := &Plan{Dir: o.Dir, manifest: m}
	var keep []Entry
	for _, e := range m.Entries {
		if (len(o.Drivers) == 0 || slices.Contains(o.Drivers, e.Driver)) && (o.AsD == "" || e.AsD == o.AsD) {
			p.entries = append(p.entries, e)
		} else {
			keep = append(keep, e)
		}
	}
	if len(p.entries) == 0 {
		return nil, fmt.Errorf("hookkit installed nothing matching in %s (see %s)", o.Dir, manifestPath(o.Dir))
	}
	for _, e := range p.entries {
		for _, k := range keep {
			if k.Kind == KindSymlink && filepath.Join(filepath.Dir(k.Path), k.Link) == e.Path {
				return nil, fmt.Errorf("%s links to %s: uninstall %s too (--driver %s,%s)", k.Path, e.Path, k.Driver, e.Driver, k.Driver)
			}
		}
	}
	// Symlinks first, so that no link dangles while the program is removed.
	slices.SortStableFunc(p.entries, func(a, b Entry) int {
		return boolInt(a.Kind == KindFile) - boolInt(b.Kind == KindFile)
	})
	removed := map[string]bool{}
	for _, e := range p.entries {
		path := filepath.Join(o.Dir, e.Path)
		li, err := os.Lstat(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if e.Backup == nil {
				p.Actions = append(p.Actions, Action{Kind: Unchanged, Path: path, Note: "already gone"})
				continue
			}
		case err != nil:
			return nil, err
		case !matches(path, li, e) && (e.Backup == nil || !holdsBackup(o.Dir, path, li, e.Backup)):
			// (A path that still holds its backup's content is one an interrupted install recorded but
			// never replaced: restoring it is harmless.)
			return nil, fmt.Errorf("%s changed since hookkit installed it; remove or restore it by hand", path)
		}
		if e.Backup != nil {
			p.Actions = append(p.Actions, Action{Kind: Restore, Path: path, Arg: e.Backup.describe(o.Dir)})
			continue
		}
		p.Actions = append(p.Actions, Action{Kind: Remove, Path: path})
		removed[e.Path] = true
	}
	for _, rel := range m.Dirs {
		if dirEmptiedBy(filepath.Join(o.Dir, rel), rel, removed) {
			p.Actions = append(p.Actions, Action{Kind: RemoveDir, Path: filepath.Join(o.Dir, rel), Note: "hookkit created it"})
			p.mkdirs = append(p.mkdirs, rel)
		}
	}
	return p, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (b *Backup) describe(dir string) string {
	if b.Kind == KindSymlink {
		return "the manifest: symlink -> " + b.Link
	}
	return filepath.Join(dir, b.Path)
}

// dirEmptiedBy reports whether the directory holds nothing but the removed entries.
func dirEmptiedBy(path, rel string, removed map[string]bool) bool {
	entries, err := os.ReadDir(path)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if !removed[filepath.Join(rel, e.Name())] {
			return false
		}
	}
	return true
}

// ApplyUninstall carries out an uninstall plan and updates the manifest.
func (p *Plan) ApplyUninstall() (err error) {
	defer func() {
		if merr := p.manifest.write(p.Dir); err == nil {
			err = merr
		}
	}()
	for _, a := range p.Actions {
		rel, _ := filepath.Rel(p.Dir, a.Path)
		switch a.Kind {
		case Remove:
			if err := os.Remove(a.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			if err := syncDirs(filepath.Dir(a.Path)); err != nil {
				return err
			}
		case Restore:
			if err := p.restore(a.Path, p.entryFor(a.Path).Backup); err != nil {
				return fmt.Errorf("restoring %s: %w", a.Path, err)
			}
		case RemoveDir:
			err := os.Remove(a.Path)
			// ENOTEMPTY/EEXIST: something appeared in it meanwhile; leave it, and forget that hookkit created it.
			if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTEMPTY) && !errors.Is(err, syscall.EEXIST) {
				return err
			}
			p.manifest.Dirs = slices.DeleteFunc(p.manifest.Dirs, func(d string) bool { return d == rel })
			continue
		case Unchanged:
		default:
			return fmt.Errorf("internal error: %v in an uninstall plan", a)
		}
		p.manifest.remove(rel)
	}
	return nil
}

func (p *Plan) restore(target string, b *Backup) error {
	if b.Kind == KindSymlink {
		return symlinkAtomic(p.Dir, target, b.Link)
	}
	src := filepath.Join(p.Dir, b.Path)
	data, err := readNoFollow(src)
	if err != nil {
		return err
	}
	if err := writeAtomic(p.Dir, target, data, b.Mode); err != nil {
		return err
	}
	return os.Remove(src)
}
