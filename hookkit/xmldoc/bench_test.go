package xmldoc

import (
	"os"
	"testing"
)

// benchEdit is a restore filter's work: parse, change one disk source, serialize.
func benchEdit(b *testing.B, file string) {
	in, err := os.ReadFile(file)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		doc, err := Parse(in)
		if err != nil {
			b.Fatal(err)
		}
		if err := doc.SetDiskSource("vda", "/srv/images/guest.qcow2"); err != nil {
			b.Fatal(err)
		}
		if !doc.Changed() || len(doc.Bytes()) == 0 {
			b.Fatal("no change")
		}
	}
}

// BenchmarkEditDisk5K is parse + edit one disk source + serialize on a 5 KB domain.
func BenchmarkEditDisk5K(b *testing.B) { benchEdit(b, "testdata/domain-5k.xml") }

// BenchmarkEditDisk30K is the same on a 30 KB domain with 60 disks.
func BenchmarkEditDisk30K(b *testing.B) { benchEdit(b, "testdata/domain-30k.xml") }

// BenchmarkParse5K is parsing alone.
func BenchmarkParse5K(b *testing.B) {
	in, err := os.ReadFile("testdata/domain-5k.xml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQuery5K is one XPath query with a predicate on a parsed 5 KB domain.
func BenchmarkQuery5K(b *testing.B) {
	in, err := os.ReadFile("testdata/domain-5k.xml")
	if err != nil {
		b.Fatal(err)
	}
	doc, err := Parse(in)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := doc.String("/domain/devices/disk[target/@dev='vda']/source/@file"); err != nil {
			b.Fatal(err)
		}
	}
}
