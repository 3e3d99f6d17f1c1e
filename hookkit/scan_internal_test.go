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

// TestScanStrictness covers rules the fuzzers found the scanner lacking: name characters of XML 1.0 fifth
// edition (as libxml2, and so libvirt), qualified names of Namespaces in XML (as encoding/xml, which Config
// and Metadata use), and character data without "]]>".
func TestScanStrictness(t *testing.T) {
	for _, tc := range []struct {
		doc string
		ok  bool
	}{
		{`<domain><name>a</name></domain>`, true},
		{`<domain><metadata><app:cfg xmlns:app="u" app:x="1"/></metadata></domain>`, true},
		{`<domain><a-b.c_d/></domain>`, true},
		{`<domain><䩐/></domain>`, true},   // CJK Extension A: fifth edition only
		{`<domain><é́/></domain>`, true},  // a combining mark after the first character
		{`<domain><́a/></domain>`, false}, // a combining mark cannot start a name
		{`<domain><1a/></domain>`, false}, // nor a digit
		{`<domain><t ::=""/></domain>`, false},
		{`<domain><t a:=""/></domain>`, false},
		{`<domain><t :a=""/></domain>`, false},
		{`<domain><a:b:c/></domain>`, false},
		{`<domain><a:1/></domain>`, false},
		{`<domain><:a/></domain>`, false},
		{`<domain><input>]]></input></domain>`, false},
		{`<domain><input>]]&gt;</input></domain>`, true},
		// What libxml2 (xmllint --noout) refuses and encoding/xml accepts: an attribute twice, and XML
		// declarations that break the grammar. Each verdict below is xmllint's too.
		{`<domain type='kvm' type='qemu'/>`, false},
		{`<domain><a p:x='1' p:x='2' xmlns:p='u'/></domain>`, false},
		{`<domain><a x='1' p:x='2' xmlns:p='u'/></domain>`, true},
		{`<?xml version='1.0'?><domain/>`, true},
		{`<?xml version="1.0" encoding='UTF-8' standalone='yes' ?><domain/>`, true},
		{`<?xml version = '1.0' ?><domain/>`, true},
		{`<?xml version='1.1'?><domain/>`, true},
		{`<?xml?><domain/>`, false},
		{`<?xml encoding='UTF-8'?><domain/>`, false},
		{`<?xml version='1.0'encoding='UTF-8'?><domain/>`, false},
		{`<?xml version='1.0' standalone='yes' encoding='UTF-8'?><domain/>`, false},
		{`<?xml version='1.0' standalone='maybe'?><domain/>`, false},
		{`<?xml version='2.0'?><domain/>`, false},
		{`<?xml version='1.0' encoding='8bit'?><domain/>`, false},
	} {
		_, err := scanDocument([]byte(tc.doc), "domain")
		if tc.ok {
			assert.NoError(t, err, tc.doc)
		} else {
			assert.Error(t, err, tc.doc)
		}
	}
}

// TestCharClass checks the scanner's byte table against the rules it encodes.
func TestCharClass(t *testing.T) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		letter := b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
		start := letter || b == '_' || b == ':'
		var want byte
		if start {
			want |= classNameStart | classNameChar
		}
		if b >= '0' && b <= '9' || b == '-' || b == '.' {
			want |= classNameChar
		}
		if b >= 0x80 {
			want |= classNonASCII
		}
		if b == '"' || b == '\'' || b == '<' || b == '&' {
			want |= classValueStop
		}
		if b == '<' || b == '&' || b == '>' {
			want |= classTextStop
		}
		assert.Equal(t, want, charClass[c], "byte %#x", c)
	}
}

// TestCheckCharsWords covers the eight-byte path of checkChars: every control character at every
// position of a word, among printable ASCII, must be found at its offset unless it is tab, LF or CR.
func TestCheckCharsWords(t *testing.T) {
	for c := 0; c < 0x20; c++ {
		for at := 0; at < 16; at++ {
			in := []byte("<domain>abcdefghijklmnop</domain>")
			in[8+at] = byte(c)
			s := scanner{in: in}
			err := s.checkChars()
			if c == '\t' || c == '\n' || c == '\r' {
				assert.NoError(t, err, "byte %#x at %d", c, at)
				continue
			}
			var xe *XMLError
			if assert.ErrorAs(t, err, &xe, "byte %#x at %d", c, at) {
				assert.Equal(t, int64(8+at), xe.Offset)
			}
		}
	}
}
