package vfio

import (
	"io/fs"
	"os"
	"path/filepath"
)

// SysFS is the part of /sys the binder uses. Paths are relative to the sysfs root, e.g.
// "bus/pci/devices/0000:01:00.0/driver_override". Tests wrap Dir to simulate the kernel's reaction to
// writes.
type SysFS interface {
	// WriteFile writes data to an existing attribute file.
	WriteFile(name string, data []byte) error
	// Readlink returns the target of a symbolic link, such as a device's "driver".
	Readlink(name string) (string, error)
	// Stat reports whether a file or directory exists.
	Stat(name string) (fs.FileInfo, error)
	// ReadDir returns the names in a directory, such as an IOMMU group's "devices".
	ReadDir(name string) ([]string, error)
	// ReadFile returns the content of an attribute, such as a device's "class".
	ReadFile(name string) ([]byte, error)
}

// Dir is a SysFS rooted at a directory: "/sys" on a host, a temporary tree with the same layout in tests.
type Dir string

// WriteFile opens the existing file name for writing (never creating it: a missing attribute means the
// kernel lacks the feature, or the root is not a sysfs tree) and writes data in one write, as sysfs
// requires.
func (d Dir) WriteFile(name string, data []byte) error {
	f, err := os.OpenFile(filepath.Join(string(d), name), os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Readlink returns the target of the link name.
func (d Dir) Readlink(name string) (string, error) {
	return os.Readlink(filepath.Join(string(d), name))
}

// Stat stats name, following links.
func (d Dir) Stat(name string) (fs.FileInfo, error) { return os.Stat(filepath.Join(string(d), name)) }

// ReadDir returns the names of the entries of the directory name, sorted.
func (d Dir) ReadDir(name string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(string(d), name))
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names, nil
}

// ReadFile reads the file name.
func (d Dir) ReadFile(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join(string(d), name))
}
