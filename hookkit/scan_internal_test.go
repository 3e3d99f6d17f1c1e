package hookkit

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestScanAllocations bounds what the token pass allocates on a 5 KB domain: the index, the element
// stack, the attribute buffer and the identity strings, nothing per element. In a fresh hook process
// every allocation of a new size touches fresh memory, so this is part of every hook's start-up cost.
func TestScanAllocations(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("testdata", "domain-5k.xml"))
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := scanDocument(doc, "domain"); err != nil {
			t.Fatal(err)
		}
	})
	assert.LessOrEqual(t, allocs, 12.0)
}

// BenchmarkScan is the token pass alone on the 5 KB and 30 KB domains.
func BenchmarkScan(b *testing.B) {
	for _, name := range []string{"domain-5k.xml", "domain-30k.xml"} {
		doc, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(b, err)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := scanDocument(doc, "domain"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
