package hookkit_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookkit-dev/hookkit/hookkit"
	"github.com/hookkit-dev/hookkit/hookkit/event"
	"github.com/hookkit-dev/hookkit/hookkit/internal/stdxml"
)

func addFixtureSeeds(f *testing.F, add func(name string, b []byte)) {
	files, _ := filepath.Glob(filepath.Join("hookkittest", "testdata", "hookstdin", "*.xml"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		add(filepath.Base(p), b)
	}
	add("metadata", []byte(metaDomain))
}

// FuzzDispatch runs the router on arbitrary argv and stdin: it must never panic, must answer with a
// defined exit status, one stderr line on failure, and nothing on stdout unless a filter succeeded.
func FuzzDispatch(f *testing.F) {
	addFixtureSeeds(f, func(name string, b []byte) {
		parts := append(strings.SplitN(strings.TrimSuffix(name, ".xml"), "-", 3), "qemu", "prepare")
		f.Add(parts[0], "hooktest", parts[1], "begin", "-", b)
	})
	f.Add("qemu", "vm", "release", "end", "from snapshot", []byte("<domain/>"))
	f.Add("network", "n", "port-created", "begin", "-", []byte("<hookData><networkport/></hookData>"))
	f.Fuzz(func(t *testing.T, driver, object, op, subop, extra string, stdin []byte) {
		r := quiet(hookkit.WithDriver(event.Driver(driver)))
		r.CatchAll(hookkit.HandlerFunc(func(c *hookkit.Call) error {
			if d, err := c.Domain(); err == nil {
				_, _ = d.Config()
				_, _ = d.Metadata("https://example.com/app/1", new(appCfg))
				if c.Filter() {
					return c.ReplaceXML(c.Input())
				}
			}
			if p, err := c.Port(); err == nil {
				_, _ = p.Config()
			}
			if n, err := c.Network(); err == nil {
				_, _ = n.Config()
			}
			return nil
		}))
		var out, errb bytes.Buffer
		code := r.Run(context.Background(), []string{"/etc/libvirt/hooks/" + driver, object, op, subop, extra}, bytes.NewReader(stdin), &out, &errb)
		switch code {
		case hookkit.ExitOK:
			if errb.Len() != 0 {
				t.Fatalf("exit 0 with stderr %q", errb.String())
			}
		case hookkit.ExitFailure:
			if out.Len() != 0 {
				t.Fatalf("failed call wrote stdout %q", out.String())
			}
			if n := strings.Count(errb.String(), "\n"); n != 1 || !strings.HasSuffix(errb.String(), "\n") {
				t.Fatalf("want one stderr line, got %q", errb.String())
			}
		default:
			t.Fatalf("exit %d", code)
		}
	})
}

// FuzzScan checks that whatever the token pass accepts is well-formed XML for encoding/xml too, and that
// the accessors never panic.
func FuzzScan(f *testing.F) {
	addFixtureSeeds(f, func(_ string, b []byte) { f.Add(b) })
	f.Add([]byte("<domain><metadata><a:x xmlns:a='u'/></metadata></domain>"))
	f.Fuzz(func(t *testing.T, stdin []byte) {
		accepted := false
		r := quiet()
		r.OnDomainPrepare(func(d *hookkit.Domain) error {
			accepted = true
			_, _, _, _ = d.Name(), d.UUID(), d.Type(), d.Domain
			_, _ = d.ID()
			_, _ = d.MetadataXML("u")
			return nil
		})
		var out, errb bytes.Buffer
		r.Run(context.Background(), []string{"/etc/libvirt/hooks/qemu", "vm", "prepare", "begin", "-"}, bytes.NewReader(stdin), &out, &errb)
		if !accepted {
			return
		}
		if err := stdxml.Refusal(stdin); err != nil {
			t.Fatalf("hookkit accepted a document encoding/xml rejects: %v", err)
		}
	})
}
