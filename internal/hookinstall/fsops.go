package hookinstall

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// tmpPattern names temporary files. They are created at the top of the hooks directory, never inside a
// <driver>.d directory, where libvirt would run anything executable (dotfiles included).
const tmpPattern = ".hookkit-tmp-*"

// readNoFollow reads a file, refusing a symlink at path.
func readNoFollow(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// chownRoot gives path to root:root when the process runs as root (a hook must not be changeable by anyone
// else); otherwise it leaves the owner alone.
func chownRoot(f *os.File) error {
	if os.Geteuid() != 0 {
		return nil
	}
	return f.Chown(0, 0)
}

// writeAtomic writes data to target through a temporary file in tmpDir (same file system): write, chmod,
// chown, fsync, rename over target (which replaces a symlink instead of following it), fsync the directories.
func writeAtomic(tmpDir, target string, data []byte, mode fs.FileMode) (err error) {
	f, err := os.CreateTemp(tmpDir, tmpPattern)
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(mode); err != nil {
		return err
	}
	if err = chownRoot(f); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, target); err != nil {
		return err
	}
	return syncDirs(tmpDir, filepath.Dir(target))
}

// symlinkAtomic points target at link by renaming a fresh symlink over it.
func symlinkAtomic(tmpDir, target, link string) error {
	for i := 0; ; i++ {
		tmp := filepath.Join(tmpDir, fmt.Sprintf(".hookkit-tmp-link-%d-%d", os.Getpid(), i))
		err := os.Symlink(link, tmp)
		if errors.Is(err, fs.ErrExist) && i < 100 {
			continue
		}
		if err != nil {
			return err
		}
		if os.Geteuid() == 0 {
			if err := os.Lchown(tmp, 0, 0); err != nil {
				os.Remove(tmp)
				return err
			}
		}
		if err := os.Rename(tmp, target); err != nil {
			os.Remove(tmp)
			return err
		}
		return syncDirs(tmpDir, filepath.Dir(target))
	}
}

func syncDirs(dirs ...string) error {
	for i, d := range dirs {
		if i > 0 && d == dirs[i-1] {
			continue
		}
		f, err := os.Open(d)
		if err != nil {
			return err
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// mkdirRoot creates a directory with mode 0755 (whatever the umask), owned by root when running as root.
func mkdirRoot(path string, mode fs.FileMode) error {
	if err := os.Mkdir(path, mode); err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Chmod(mode); err != nil {
		return err
	}
	return chownRoot(f)
}

// ensureBackupDir creates <dir>/.hookkit-backup (0700) and refuses anything else planted there.
func ensureBackupDir(dir string) error {
	path := filepath.Join(dir, BackupDir)
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return mkdirRoot(path, 0o700)
	}
	return checkBackupDir(dir)
}

// checkBackupDir refuses a <dir>/.hookkit-backup that is not a private directory; a missing one is fine.
func checkBackupDir(dir string) error {
	path := filepath.Join(dir, BackupDir)
	li, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case !li.IsDir():
		return fmt.Errorf("%s is not a directory (a symlink or a file was planted there)", path)
	case li.Mode().Perm()&0o077 != 0:
		return fmt.Errorf("%s is accessible by group or other (mode %04o); backups may hold secrets: chmod 700 it", path, li.Mode().Perm())
	}
	return nil
}

// copyNoFollow copies the regular file src (not through a symlink) to a new file dst with mode, fsynced.
func copyNoFollow(src, dst string, mode fs.FileMode) (err error) {
	in, err := os.OpenFile(src, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, mode)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(dst)
		}
	}()
	if _, err = io.Copy(out, in); err != nil {
		return err
	}
	if err = out.Chmod(mode); err != nil {
		return err
	}
	if err = chownRoot(out); err != nil {
		return err
	}
	return out.Sync()
}
