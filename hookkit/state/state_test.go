package state_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookkit-dev/hookkit/hookkit/state"
)

const (
	uuid1 = "c7a5fdbd-edaf-9455-926a-d65c16db1809"
	uuid2 = "4dea22b3-1d52-d8f3-2516-782e98ab3fa0"
)

const helperEnv = "HOOKKIT_STATE_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "writer" {
		os.Exit(helperWriter())
	}
	os.Exit(m.Run())
}

// helperWriter increments a shared counter with Update and saves keys of its own,
// as concurrent hooks of one domain would.
func helperWriter() int {
	s := state.Open(state.Options{Dir: os.Getenv("STATE_DIR")})
	me := os.Getenv("WRITER")
	n, _ := strconv.Atoi(os.Getenv("ITER"))
	for i := range n {
		var count int
		if err := s.Update(uuid1, "count", &count, func(bool) error { count++; return nil }); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if err := s.Save(uuid1, "writer-"+me, i); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

type rules struct {
	Bridge string   `json:"bridge"`
	Ports  []int    `json:"ports"`
	Chains []string `json:"chains,omitempty"`
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   any
		out  func() any // fresh destination
	}{
		{"struct", rules{Bridge: "virbr0", Ports: []int{22, 443}}, func() any { return &rules{} }},
		{"string", "br0", func() any { return new(string) }},
		{"int", 42, func() any { return new(int) }},
		{"map", map[string]string{"a": "1"}, func() any { return &map[string]string{} }},
		{"secret-looking text", "line1\nline2\t\"quoted\" <xml/>", func() any { return new(string) }},
	}
	s := state.Open(state.Options{Dir: t.TempDir()})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := strings.ReplaceAll(tt.name, " ", "-")
			require.NoError(t, s.Save(uuid1, key, tt.in))
			got := tt.out()
			found, err := s.Load(uuid1, key, got)
			require.NoError(t, err)
			require.True(t, found)
			assert.Equal(t, tt.in, deref(got))

			// A new Store on the same directory (a later hook process) sees it.
			found, err = state.Open(state.Options{Dir: s.Dir()}).Load(uuid1, key, tt.out())
			require.NoError(t, err)
			assert.True(t, found)
		})
	}
}

func deref(p any) any {
	switch v := p.(type) {
	case *rules:
		return *v
	case *string:
		return *v
	case *int:
		return *v
	case *map[string]string:
		return *v
	}
	panic(fmt.Sprintf("unexpected %T", p))
}

func TestLoadMissing(t *testing.T) {
	s := state.Open(state.Options{Dir: filepath.Join(t.TempDir(), "absent")})
	v := "untouched"
	found, err := s.Load(uuid1, "nothing", &v)
	require.NoError(t, err)
	assert.False(t, found)
	assert.Equal(t, "untouched", v)
	keys, err := s.List(uuid1)
	require.NoError(t, err)
	assert.Empty(t, keys)
	doms, err := s.Domains()
	require.NoError(t, err)
	assert.Empty(t, doms)
}

func TestLayoutAndModes(t *testing.T) {
	dir := t.TempDir()
	s := state.Open(state.Options{Dir: dir})
	require.NoError(t, s.Save(strings.ToUpper(uuid1), "bridge", "virbr0"))

	file := filepath.Join(dir, uuid1, "bridge.json")
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, "\"virbr0\"\n", string(b))
	for path, mode := range map[string]os.FileMode{filepath.Join(dir, uuid1): 0o700 | os.ModeDir, file: 0o600} {
		fi, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, mode, fi.Mode(), path)
	}
	entries, err := os.ReadDir(filepath.Join(dir, uuid1))
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file left behind")
}

func TestListDeleteClear(t *testing.T) {
	dir := t.TempDir()
	s := state.Open(state.Options{Dir: dir})
	// "gpu-1" < "gpu" as file names ("gpu-1.json" < "gpu.json") but not as keys.
	for _, k := range []string{"portforward", "bridge", "gpu", "gpu-1"} {
		require.NoError(t, s.Save(uuid1, k, k))
	}
	require.NoError(t, s.Save(uuid2, "bridge", "br1"))
	// A crashed writer's temporary file is not a key.
	require.NoError(t, os.WriteFile(filepath.Join(dir, uuid1, ".gpu.json.tmp-123"), []byte("{"), 0o600))

	keys, err := s.List(uuid1)
	require.NoError(t, err)
	assert.Equal(t, []string{"bridge", "gpu", "gpu-1", "portforward"}, keys)
	doms, err := s.Domains()
	require.NoError(t, err)
	assert.Equal(t, []string{uuid2, uuid1}, doms)

	require.NoError(t, s.Delete(uuid1, "gpu"))
	require.NoError(t, s.Delete(uuid1, "gpu"), "deleting twice is fine")
	keys, err = s.List(uuid1)
	require.NoError(t, err)
	assert.Equal(t, []string{"bridge", "gpu-1", "portforward"}, keys)

	require.NoError(t, s.Clear(uuid1))
	require.NoError(t, s.Clear(uuid1), "clearing twice is fine")
	keys, err = s.List(uuid1)
	require.NoError(t, err)
	assert.Empty(t, keys)
	_, err = os.Stat(filepath.Join(dir, uuid1))
	assert.ErrorIs(t, err, os.ErrNotExist, "domain directory removed, temporary files included")
	_, err = os.Stat(filepath.Join(dir, ".lock", uuid1+".lock"))
	assert.ErrorIs(t, err, os.ErrNotExist, "lock file removed")

	// Deleting the last key of a domain removes its directory too.
	require.NoError(t, s.Delete(uuid2, "bridge"))
	doms, err = s.Domains()
	require.NoError(t, err)
	assert.Empty(t, doms)
	entries, err := os.ReadDir(filepath.Join(dir, ".lock"))
	require.NoError(t, err)
	assert.Empty(t, entries)
}

func TestUpdate(t *testing.T) {
	s := state.Open(state.Options{Dir: t.TempDir()})
	var seen []bool
	for range 3 {
		var ports []int
		require.NoError(t, s.Update(uuid1, "ports", &ports, func(found bool) error {
			seen = append(seen, found)
			ports = append(ports, len(ports))
			return nil
		}))
	}
	assert.Equal(t, []bool{false, true, true}, seen)
	var ports []int
	_, err := s.Load(uuid1, "ports", &ports)
	require.NoError(t, err)
	assert.Equal(t, []int{0, 1, 2}, ports)

	// An error from fn leaves the value alone.
	err = s.Update(uuid1, "ports", &ports, func(bool) error { ports = nil; return fmt.Errorf("iptables failed") })
	assert.EqualError(t, err, "state "+uuid1+" ports: iptables failed")
	_, err = s.Load(uuid1, "ports", &ports)
	require.NoError(t, err)
	assert.Equal(t, []int{0, 1, 2}, ports)
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	s := state.Open(state.Options{Dir: dir})
	var v any
	tests := []struct {
		name string
		op   func() error
		want string
	}{
		{"traversal uuid", func() error { return s.Save("../../etc", "k", 1) }, `state: invalid UUID "../../etc": want 8-4-4-4-12 hex digits`},
		{"short uuid", func() error { _, err := s.Load("c7a5fdbd", "k", &v); return err }, `state: invalid UUID "c7a5fdbd": want 8-4-4-4-12 hex digits`},
		{"non-hex uuid", func() error { return s.Clear("g7a5fdbd-edaf-9455-926a-d65c16db1809") }, `state: invalid UUID "g7a5fdbd-edaf-9455-926a-d65c16db1809": want 8-4-4-4-12 hex digits`},
		{"dashes misplaced", func() error { _, err := s.List("c7a5fdbde-daf-9455-926a-d65c16db1809"); return err }, `state: invalid UUID "c7a5fdbde-daf-9455-926a-d65c16db1809": want 8-4-4-4-12 hex digits`},
		{"empty key", func() error { return s.Save(uuid1, "", 1) }, "state " + uuid1 + ": empty key"},
		{"traversal key", func() error { return s.Save(uuid1, "../x", 1) }, "state " + uuid1 + `: invalid key "../x": want letters, digits, '.', '_' or '-', starting with a letter or digit`},
		{"dotdot key", func() error { return s.Delete(uuid1, "..") }, "state " + uuid1 + `: invalid key "..": want letters, digits, '.', '_' or '-', starting with a letter or digit`},
		{"hidden key", func() error { return s.Save(uuid1, ".lock", 1) }, "state " + uuid1 + `: invalid key ".lock": want letters, digits, '.', '_' or '-', starting with a letter or digit`},
		{"slash key", func() error { return s.Save(uuid1, "a/b", 1) }, "state " + uuid1 + `: invalid key "a/b": want letters, digits, '.', '_' or '-', starting with a letter or digit`},
		{"long key", func() error { return s.Save(uuid1, strings.Repeat("k", 101), 1) }, "state " + uuid1 + ": key too long (101 bytes, at most 100)"},
		{"unencodable", func() error { return s.Save(uuid1, "ch", make(chan int)) }, "state " + uuid1 + " ch: json: unsupported type: chan int"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.EqualError(t, tt.op(), tt.want)
		})
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "rejected input writes nothing")
}

func TestCorruptValue(t *testing.T) {
	dir := t.TempDir()
	s := state.Open(state.Options{Dir: dir})
	require.NoError(t, os.MkdirAll(filepath.Join(dir, uuid1), 0o700))
	file := filepath.Join(dir, uuid1, "bad.json")
	require.NoError(t, os.WriteFile(file, []byte("{"), 0o600))
	var v map[string]any
	found, err := s.Load(uuid1, "bad", &v)
	assert.False(t, found)
	assert.EqualError(t, err, "state "+uuid1+" bad: decode "+file+": unexpected end of JSON input")
}

func TestConcurrentProcesses(t *testing.T) {
	const procs, iter = 5, 30
	dir := t.TempDir()
	cmds := make([]*exec.Cmd, procs)
	for i := range cmds {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), helperEnv+"=writer", "STATE_DIR="+dir, "WRITER="+strconv.Itoa(i), "ITER="+strconv.Itoa(iter))
		cmd.Stderr = os.Stderr
		require.NoError(t, cmd.Start())
		cmds[i] = cmd
	}
	for _, cmd := range cmds {
		require.NoError(t, cmd.Wait())
	}
	s := state.Open(state.Options{Dir: dir})
	var count int
	_, err := s.Load(uuid1, "count", &count)
	require.NoError(t, err)
	assert.Equal(t, procs*iter, count, "no Update lost")
	keys, err := s.List(uuid1)
	require.NoError(t, err)
	assert.Len(t, keys, procs+1)
	for i := range procs {
		var last int
		_, err := s.Load(uuid1, "writer-"+strconv.Itoa(i), &last)
		require.NoError(t, err)
		assert.Equal(t, iter-1, last)
	}
	entries, err := os.ReadDir(filepath.Join(dir, uuid1))
	require.NoError(t, err)
	assert.Len(t, entries, procs+1, "no temporary file left behind")
}

func TestReaderNeverSeesTornValue(t *testing.T) {
	// Large values (far beyond one write or page) rewritten while readers load:
	// every load must decode and be internally consistent.
	s := state.Open(state.Options{Dir: t.TempDir()})
	value := func(gen int) []int {
		v := make([]int, 20000)
		for i := range v {
			v[i] = gen
		}
		return v
	}
	require.NoError(t, s.Save(uuid1, "big", value(0)))

	const gens = 20
	var wg sync.WaitGroup
	wg.Go(func() {
		for gen := 1; gen <= gens; gen++ {
			assert.NoError(t, s.Save(uuid1, "big", value(gen)))
		}
	})
	for range 2 {
		wg.Go(func() {
			for range 60 {
				var v []int
				found, err := s.Load(uuid1, "big", &v)
				if !assert.NoError(t, err) || !assert.True(t, found) {
					return
				}
				if !assert.Len(t, v, 20000) {
					return
				}
				assert.Equal(t, v[0], v[len(v)-1], "a value from one write only")
			}
		})
	}
	wg.Wait()
}

func BenchmarkSave(b *testing.B) {
	s := state.Open(state.Options{Dir: b.TempDir()})
	v := rules{Bridge: "virbr0", Ports: []int{22, 80, 443}}
	for b.Loop() {
		if err := s.Save(uuid1, "portforward", v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoad(b *testing.B) {
	s := state.Open(state.Options{Dir: b.TempDir()})
	if err := s.Save(uuid1, "portforward", rules{Bridge: "virbr0", Ports: []int{22, 80, 443}}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		var v rules
		if _, err := s.Load(uuid1, "portforward", &v); err != nil {
			b.Fatal(err)
		}
	}
}
