package hookkit_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/hookkit-dev/hookkit/hookkit"
)

// benchDomains are a 5 KB and a 30 KB domain from libvirt's tests with a <metadata> element added.
var benchDomains = []string{"domain-5k.xml", "domain-30k.xml"}

type benchCfg struct {
	Owner string `xml:"owner,attr"`
}

// benchPrepare runs a qemu prepare hook whose only handler is handler on each benchmark domain.
func benchPrepare(b *testing.B, handler func(b *testing.B, d *hookkit.Domain) error) {
	for _, name := range benchDomains {
		doc, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			r := quiet()
			r.OnDomainPrepare(func(d *hookkit.Domain) error { return handler(b, d) })
			args := []string{"/etc/libvirt/hooks/qemu", "vm", "prepare", "begin", "-"}
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			for b.Loop() {
				if r.Run(context.Background(), args, bytes.NewReader(doc), io.Discard, io.Discard) != 0 {
					b.Fatal("hook failed")
				}
			}
		})
	}
}

// BenchmarkRoute is the whole in-process cost of a qemu prepare hook that reads the name, the UUID and
// one metadata value: argv parsing, the stdin token pass, routing and the handler.
func BenchmarkRoute(b *testing.B) {
	benchPrepare(b, func(b *testing.B, d *hookkit.Domain) error {
		var cfg benchCfg
		if _, err := d.Metadata("https://hookkit.dev/bench/1", &cfg); err != nil || d.Name() == "" || d.UUID() == "" || cfg.Owner != "alice" {
			b.Fatal("bad parse", err)
		}
		return nil
	})
}

// BenchmarkConfig adds the full libvirtxml parse that Config() does on demand.
func BenchmarkConfig(b *testing.B) {
	benchPrepare(b, func(b *testing.B, d *hookkit.Domain) error {
		cfg, err := d.Config()
		if err != nil || cfg.Name == "" {
			b.Fatal("bad parse", err)
		}
		return nil
	})
}
