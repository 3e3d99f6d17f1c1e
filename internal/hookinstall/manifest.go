package hookinstall

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/hookkit-dev/hookkit/hookkit/event"
)

// BackupDir is the directory, inside the hooks directory, that holds the backups of replaced files and the
// manifest. libvirt only looks at <driver> and <driver>.d, so nothing in it ever runs.
const BackupDir = ".hookkit-backup"

// ManifestName is the name of the manifest file inside BackupDir.
const ManifestName = "manifest.json"

// Kind says whether an installed path is the program itself or a symlink to it.
type Kind string

// The kinds of installed paths and backups.
const (
	KindFile    Kind = "file"
	KindSymlink Kind = "symlink"
)

// Backup is what an installed path replaced.
type Backup struct {
	Kind Kind `json:"kind"`
	// Path is the copy of a replaced regular file, relative to the hooks directory (KindFile).
	Path string `json:"path,omitempty"`
	// Mode is the permission bits the replaced file had (KindFile).
	Mode fs.FileMode `json:"mode,omitempty"`
	// Link is the text of a replaced symlink (KindSymlink).
	Link string `json:"link,omitempty"`
}

// Entry is one path hookkit installed.
type Entry struct {
	// Path is relative to the hooks directory: "qemu" or "qemu.d/10-audit".
	Path   string       `json:"path"`
	Driver event.Driver `json:"driver"`
	// AsD is the name inside <driver>.d, "" for a main script.
	AsD  string `json:"as_d,omitempty"`
	Kind Kind   `json:"kind"`
	// SHA256 is the hash of the installed program (KindFile).
	SHA256 string `json:"sha256,omitempty"`
	// Source is the absolute path the program was copied from (KindFile).
	Source string `json:"source,omitempty"`
	// Link is the symlink's text (KindSymlink).
	Link   string  `json:"link,omitempty"`
	Backup *Backup `json:"backup,omitempty"`
}

// Manifest records what hookkit installed in a hooks directory, so that uninstall can reverse it.
type Manifest struct {
	Entries []Entry `json:"entries"`
	// Dirs are the <driver>.d directories hookkit created, relative to the hooks directory.
	Dirs []string `json:"dirs,omitempty"`
}

func (m *Manifest) find(rel string) *Entry {
	for i := range m.Entries {
		if m.Entries[i].Path == rel {
			return &m.Entries[i]
		}
	}
	return nil
}

func (m *Manifest) put(e Entry) {
	if old := m.find(e.Path); old != nil {
		*old = e
		return
	}
	m.Entries = append(m.Entries, e)
}

func (m *Manifest) remove(rel string) {
	m.Entries = slices.DeleteFunc(m.Entries, func(e Entry) bool { return e.Path == rel })
}

func manifestPath(dir string) string { return filepath.Join(dir, BackupDir, ManifestName) }

// ReadManifest reads the manifest of the hooks directory dir; it returns an empty manifest when there is none.
func ReadManifest(dir string) (*Manifest, error) {
	raw, err := readNoFollow(manifestPath(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return &Manifest{}, nil
	}
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", manifestPath(dir), err)
	}
	return &m, nil
}

// write stores the manifest atomically, or removes it (and an empty backup directory) when it is empty.
func (m *Manifest) write(dir string) error {
	path := manifestPath(dir)
	if len(m.Entries) == 0 && len(m.Dirs) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		_ = os.Remove(filepath.Join(dir, BackupDir)) // only succeeds when empty
		return nil
	}
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := ensureBackupDir(dir); err != nil {
		return err
	}
	return writeAtomic(filepath.Dir(path), path, append(raw, '\n'), 0o600)
}
