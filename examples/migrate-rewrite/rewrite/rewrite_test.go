package rewrite

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/hookkit-dev/hookkit/hookkit"
	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/hookkit/hookkittest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func read(t *testing.T, name string) []byte {
	b, err := os.ReadFile("../testdata/" + name)
	require.NoError(t, err)
	return b
}

func loadRules(t *testing.T) *Rules {
	var r Rules
	require.NoError(t, json.Unmarshal(read(t, "rules.json"), &r))
	return &r
}

func TestMap(t *testing.T) {
	r := &Rules{Disks: []DiskRule{
		{"/var/lib/libvirt/images", "/srv/images"},
		{"/var/lib/libvirt/images/base", "/srv/base"},
		{"/mnt/old", "/"},
	}}
	tests := []struct{ in, want string }{
		{"/var/lib/libvirt/images/a.qcow2", "/srv/images/a.qcow2"},
		{"/var/lib/libvirt/images", "/srv/images"},
		{"/var/lib/libvirt/images/base/b.qcow2", "/srv/base/b.qcow2"},
		{"/var/lib/libvirt/images2/c.qcow2", "/var/lib/libvirt/images2/c.qcow2"},
		{"/var/lib/libvirt/imagesX", "/var/lib/libvirt/imagesX"},
		{"/mnt/old/d.img", "/d.img"},
		{"/other/e.img", "/other/e.img"},
	}
	for _, tt := range tests {
		got, _ := r.Map(tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
	root := &Rules{Disks: []DiskRule{{"/", "/srv"}}}
	got, ok := root.Map("/var/x")
	assert.True(t, ok)
	assert.Equal(t, "/srv/var/x", got)
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		rules   Rules
		wantErr string
	}{
		{"ok", *loadRules(t), ""},
		{"relative prefix", Rules{Disks: []DiskRule{{"images", "/srv"}}}, `disks[0].prefix: "images" is not absolute`},
		{"trailing slash", Rules{Disks: []DiskRule{{"/images/", "/srv"}}}, `disks[0].prefix: "/images/" is not clean (want "/images")`},
		{"dot dot", Rules{Disks: []DiskRule{{"/images", "/srv/../etc"}}}, `disks[0].replacement: "/srv/../etc" is not clean`},
		{"control char", Rules{Disks: []DiskRule{{"/images", "/srv\n"}}}, "control character"},
		{"empty", Rules{Disks: []DiskRule{{"", "/srv"}}}, "disks[0].prefix: empty path"},
		{"duplicate", Rules{Disks: []DiskRule{{"/a", "/b"}, {"/a", "/c"}}}, `disks[1].prefix: "/a" is also disks[0].prefix`},
		{"metadata without namespace", Rules{Metadata: &MetadataEdit{XPath: "m:x"}}, "namespace and xpath are required"},
		{"absolute metadata xpath", Rules{Metadata: &MetadataEdit{Namespace: "urn:x", XPath: "/domain/name"}}, "must be relative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.rules.Validate()
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func newRouter(load func() (*Rules, error), logs *bytes.Buffer) *hookkit.Router {
	r := hookkit.New(hookkit.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	Register(r, load)
	return r
}

// changedLines returns the lines of a and b that differ; a and b must have as many lines.
func changedLines(t *testing.T, a, b string) [][2]string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	require.Equal(t, len(al), len(bl), "the filter must not add or remove lines")
	var out [][2]string
	for i := range al {
		if al[i] != bl[i] {
			out = append(out, [2]string{al[i], bl[i]})
		}
	}
	return out
}

// The output differs from the input only in the edited attribute values and the metadata text.
func TestOnlyTheEditedBytesChange(t *testing.T) {
	in, want := read(t, "migrate.xml"), read(t, "migrate.expected.xml")
	// The golden file is the input with exactly these four values replaced, and nothing else.
	assert.Equal(t, [][2]string{
		{`      <site:site>dc1</site:site>`, `      <site:site>dc2</site:site>`},
		{`      <source file='/var/lib/libvirt/images/db1-root.qcow2' index="2"/>`, `      <source file='/srv/nfs/images/db1-root.qcow2' index="2"/>`},
		{`        <source file="/var/lib/libvirt/images/base/debian12.qcow2"/>`, `        <source file="/srv/nfs/base/debian12.qcow2"/>`},
		{`      <source dev='/dev/vg_src/db1-data'/>`, `      <source dev='/dev/vg_dst/db1-data'/>`},
	}, changedLines(t, string(in), string(want)))

	for _, op := range []string{"migrate", "restore"} {
		t.Run(op, func(t *testing.T) {
			var logs bytes.Buffer
			r := newRouter(func() (*Rules, error) { return loadRules(t), nil }, &logs)
			res := hookkittest.Run(r, hookkittest.Event(event.QEMU, op).WithStdin(in).WithObject("db1"))
			require.Equal(t, 0, res.Code, res.Stderr)
			assert.Equal(t, string(want), res.Stdout)

			// Never the XML, nor its secrets, in the logs; the mapped paths are there.
			assert.Contains(t, logs.String(), "disk path mapped")
			for _, secret := range []string{"s3cr", "0a81f5b2", "<domain", "dc1", "r12"} {
				assert.NotContains(t, logs.String(), secret)
			}
		})
	}
}

func TestNothingToChangeWritesNothing(t *testing.T) {
	rules := &Rules{Disks: []DiskRule{{"/nowhere", "/else"}}, Metadata: &MetadataEdit{Namespace: "urn:absent", XPath: "m:x", Value: "1"}}
	var logs bytes.Buffer
	r := newRouter(func() (*Rules, error) { return rules, nil }, &logs)
	res := hookkittest.Run(r, hookkittest.Event(event.QEMU, "migrate").WithStdin(read(t, "migrate.xml")))
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Empty(t, res.Stdout, "no output: libvirt keeps its own XML")
}

func TestNothingWrittenOnError(t *testing.T) {
	in := read(t, "migrate.xml")
	tests := []struct {
		name    string
		load    func() (*Rules, error)
		extra   func(*hookkit.Domain) error
		wantErr string
	}{
		{"rules file unreadable", func() (*Rules, error) {
			return nil, errors.New("config /etc/hookkit/migrate-rewrite.json: unexpected EOF")
		}, nil,
			"migrate-rewrite: config /etc/hookkit/migrate-rewrite.json: unexpected EOF"},
		{"invalid rule", func() (*Rules, error) { return &Rules{Disks: []DiskRule{{"/var/lib/libvirt/images", "srv"}}}, nil }, nil,
			`migrate-rewrite: rules: disks[0].replacement: "srv" is not absolute`},
		{"bad metadata xpath", func() (*Rules, error) {
			return &Rules{Disks: loadRules(t).Disks, Metadata: &MetadataEdit{Namespace: "urn:x", XPath: "m:x[", Value: "1"}}, nil
		}, nil, "migrate-rewrite: metadata:"},
		{"a later handler fails", func() (*Rules, error) { return loadRules(t), nil }, func(*hookkit.Domain) error { return errors.New("policy says no") },
			"policy says no"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			r := newRouter(tt.load, &logs)
			if tt.extra != nil {
				r.OnQEMUMigrate(tt.extra)
			}
			res := hookkittest.Run(r, hookkittest.Event(event.QEMU, "migrate").WithStdin(in))
			require.Equal(t, 1, res.Code)
			assert.Empty(t, res.Stdout, "nothing partial on stdout")
			assert.Contains(t, res.Stderr, tt.wantErr)
			assert.Equal(t, 1, strings.Count(res.Stderr, "\n"))
			assert.NotContains(t, logs.String(), "s3cr")
		})
	}
}

func TestOtherOpsUntouched(t *testing.T) {
	var logs bytes.Buffer
	r := newRouter(func() (*Rules, error) { return nil, errors.New("must not be called") }, &logs)
	for _, op := range []string{"prepare", "start", "release"} {
		res := hookkittest.Run(r, hookkittest.Event(event.QEMU, op))
		require.Equal(t, 0, res.Code, res.Stderr)
		assert.Empty(t, res.Stdout)
	}
}
