package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/hookkit-dev/hookkit/hookkit/lock"
)

// DefaultDir is where state lives when Options.Dir is empty.
const DefaultDir = "/run/hookkit"

// DefaultLockTimeout bounds the wait for a domain's lock when
// Options.LockTimeout is zero.
const DefaultLockTimeout = 10 * time.Second

// lockSubdir holds the per-domain lock files inside the store's directory; it is
// not a UUID, so it never collides with a domain's directory.
const lockSubdir = ".lock"

// Options configures a Store.
type Options struct {
	// Dir is the root of the store; empty means DefaultDir.
	Dir string
	// LockTimeout bounds the wait for a domain's lock in writes; zero means
	// DefaultLockTimeout.
	LockTimeout time.Duration
}

// Store is a per-domain key/value store on disk. It holds no open files and is
// safe for concurrent use by goroutines and processes.
type Store struct {
	dir     string
	timeout time.Duration
}

// Open returns a Store rooted at opts.Dir. Nothing is created until the first
// write, so opening never fails.
func Open(opts Options) *Store {
	s := &Store{dir: opts.Dir, timeout: opts.LockTimeout}
	if s.dir == "" {
		s.dir = DefaultDir
	}
	if s.timeout == 0 {
		s.timeout = DefaultLockTimeout
	}
	return s
}

// Dir returns the store's root directory.
func (s *Store) Dir() string { return s.dir }

// Save stores v, encoded as JSON, under (uuid, key), replacing any previous value
// atomically.
func (s *Store) Save(uuid, key string, v any) error {
	id, err := keyID(uuid, key)
	if err != nil {
		return err
	}
	data, err := encode(v)
	if err != nil {
		return fmt.Errorf("state %s: %w", id, err)
	}
	return s.locked(id, func() error { return s.write(id, data) })
}

// Load decodes the value stored under (uuid, key) into v. found is false, and v
// untouched, when there is no such value.
func (s *Store) Load(uuid, key string, v any) (found bool, err error) {
	id, err := keyID(uuid, key)
	if err != nil {
		return false, err
	}
	return s.read(id, v)
}

// Update runs a read-modify-write of (uuid, key) under the domain's lock: it
// loads the current value into v (found reports whether there was one), calls
// fn, and saves v if fn returns nil. Concurrent Updates of the same domain, from
// any process, never lose a change.
func (s *Store) Update(uuid, key string, v any, fn func(found bool) error) error {
	id, err := keyID(uuid, key)
	if err != nil {
		return err
	}
	return s.locked(id, func() error {
		found, err := s.read(id, v)
		if err != nil {
			return err
		}
		if err := fn(found); err != nil {
			return fmt.Errorf("state %s: %w", id, err)
		}
		data, err := encode(v)
		if err != nil {
			return fmt.Errorf("state %s: %w", id, err)
		}
		return s.write(id, data)
	})
}

// Delete removes the value under (uuid, key); deleting a missing value is not an
// error. When it was the domain's last value, the domain's directory and lock
// file go too.
func (s *Store) Delete(uuid, key string) error {
	id, err := keyID(uuid, key)
	if err != nil {
		return err
	}
	l, err := s.lock(id)
	if err != nil {
		return err
	}
	if err := os.Remove(id.file(s.dir)); err != nil && !errors.Is(err, os.ErrNotExist) {
		l.Release()
		return fmt.Errorf("state %s: %w", id, err)
	}
	if err := os.Remove(id.domainDir(s.dir)); err == nil || errors.Is(err, os.ErrNotExist) {
		return l.Remove()
	}
	return l.Release() // other values remain
}

// Clear removes every value of the domain, its directory and its lock file.
// Call it when the domain's teardown is complete (after release).
func (s *Store) Clear(uuid string) error {
	id, err := domainID(uuid)
	if err != nil {
		return err
	}
	l, err := s.lock(id)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(id.domainDir(s.dir)); err != nil {
		l.Release()
		return fmt.Errorf("state %s: %w", id, err)
	}
	return l.Remove()
}

// List returns the keys stored for the domain, sorted; none is not an error.
func (s *Store) List(uuid string) ([]string, error) {
	id, err := domainID(uuid)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(id.domainDir(s.dir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", id, err)
	}
	var keys []string
	for _, e := range entries {
		key, ok := strings.CutSuffix(e.Name(), ".json")
		if ok && e.Type().IsRegular() && ValidateKey(key) == nil {
			keys = append(keys, key)
		}
	}
	sort.Strings(keys) // file names sort "a-b.json" before "a.json"; the keys themselves are what is sorted
	return keys, nil
}

// Domains returns the UUIDs that have state, sorted; useful to find leftovers of
// domains that no longer exist.
func (s *Store) Domains() ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	var uuids []string
	for _, e := range entries {
		if u, err := NormalizeUUID(e.Name()); err == nil && u == e.Name() && e.IsDir() {
			uuids = append(uuids, u)
		}
	}
	sort.Strings(uuids)
	return uuids, nil
}

// NormalizeUUID checks that uuid is in canonical 8-4-4-4-12 hexadecimal form and
// returns it in lower case, as libvirt prints it.
func NormalizeUUID(uuid string) (string, error) {
	if len(uuid) != 36 {
		return "", fmt.Errorf("invalid UUID %q: want 8-4-4-4-12 hex digits", uuid)
	}
	b := []byte(strings.ToLower(uuid))
	for i, c := range b {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", fmt.Errorf("invalid UUID %q: want 8-4-4-4-12 hex digits", uuid)
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return "", fmt.Errorf("invalid UUID %q: want 8-4-4-4-12 hex digits", uuid)
			}
		}
	}
	return string(b), nil
}

// ValidateKey reports whether key can name a value: 1 to 100 characters from
// [A-Za-z0-9._-], starting with a letter or digit.
func ValidateKey(key string) error {
	if key == "" {
		return errors.New("empty key")
	}
	if len(key) > 100 {
		return fmt.Errorf("key too long (%d bytes, at most 100)", len(key))
	}
	for i, c := range []byte(key) {
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if !alnum && (i == 0 || c != '.' && c != '_' && c != '-') {
			return fmt.Errorf("invalid key %q: want letters, digits, '.', '_' or '-', starting with a letter or digit", key)
		}
	}
	return nil
}

// ident is a validated (uuid, key); key is empty for whole-domain operations.
type ident struct{ uuid, key string }

func (id ident) String() string {
	if id.key == "" {
		return id.uuid
	}
	return id.uuid + " " + id.key
}

func (id ident) domainDir(root string) string { return filepath.Join(root, id.uuid) }
func (id ident) file(root string) string      { return filepath.Join(root, id.uuid, id.key+".json") }

// domainID validates a UUID for whole-domain operations.
func domainID(uuid string) (ident, error) {
	u, err := NormalizeUUID(uuid)
	if err != nil {
		return ident{}, fmt.Errorf("state: %w", err)
	}
	return ident{uuid: u}, nil
}

// keyID validates a UUID and a key.
func keyID(uuid, key string) (ident, error) {
	id, err := domainID(uuid)
	if err != nil {
		return ident{}, err
	}
	u := id.uuid
	if err := ValidateKey(key); err != nil {
		return ident{}, fmt.Errorf("state %s: %w", u, err)
	}
	return ident{uuid: u, key: key}, nil
}

func (s *Store) lock(id ident) (*lock.Lock, error) {
	l, err := lock.Acquire(context.Background(), id.uuid, lock.Options{Dir: filepath.Join(s.dir, lockSubdir), Timeout: s.timeout})
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", id, err)
	}
	return l, nil
}

func (s *Store) locked(id ident, fn func() error) error {
	l, err := s.lock(id)
	if err != nil {
		return err
	}
	err = fn()
	if rerr := l.Release(); err == nil && rerr != nil {
		err = fmt.Errorf("state %s: %w", id, rerr)
	}
	return err
}

func encode(v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

func (s *Store) read(id ident, v any) (bool, error) {
	data, err := os.ReadFile(id.file(s.dir))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("state %s: %w", id, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("state %s: decode %s: %w", id, id.file(s.dir), err)
	}
	return true, nil
}

// write replaces the value file atomically: a hidden temporary file in the same
// directory, fsync, rename over the target, fsync of the directory.
func (s *Store) write(id ident, data []byte) (err error) {
	dir := id.domainDir(s.dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("state %s: %w", id, err)
	}
	tmp, err := os.CreateTemp(dir, "."+id.key+".json.tmp-*") // mode 0600
	if err != nil {
		return fmt.Errorf("state %s: %w", id, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = fmt.Errorf("state %s: %w", id, err)
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), id.file(s.dir)); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
