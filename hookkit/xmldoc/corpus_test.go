package xmldoc

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// brokenFile is the one corpus file that is not well-formed XML.
const brokenFile = "qemuxmlconfdata/broken-xml-invalid.xml"

type sample struct {
	name string // path relative to its directory
	data []byte
}

// samples returns every .xml file under dir that is not empty, sorted by name.
func samples(t testing.TB, dir string) []sample {
	t.Helper()
	var out []sample
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(p, ".xml") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil || len(bytes.TrimSpace(b)) == 0 {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, sample{name: rel, data: b})
		return nil
	})
	require.NoError(t, err)
	slices.SortFunc(out, func(a, b sample) int { return strings.Compare(a.name, b.name) })
	return out
}

// roundTrip checks that every sample comes back canonically identical without an edit, counts the
// byte-identical ones, and cross-checks both the inputs and the outputs with xmllint --c14n when it is
// installed (in two processes: xmllint writes the canonical forms one after the other).
func roundTrip(t *testing.T, label string, all []sample) {
	var canonIdentical, byteIdentical, total int
	dir := t.TempDir()
	var inFiles, outFiles []string
	var wantLint bytes.Buffer
	for i, s := range all {
		doc, err := Parse(s.data)
		if s.name == brokenFile {
			require.Error(t, err, s.name)
			continue
		}
		require.NoError(t, err, s.name)
		total++
		out := doc.serialize(doc.top) // the serializer itself, not the shortcut for untouched documents
		if out == string(s.data) {
			byteIdentical++
		}
		cin, err := canonical(s.data)
		require.NoError(t, err, s.name)
		cout, err := canonical([]byte(out))
		require.NoError(t, err, s.name)
		if assert.Equal(t, string(cin), string(cout), s.name) {
			canonIdentical++
		}
		wantLint.Write(cin)
		inFiles = append(inFiles, filepath.Join(dir, fmt.Sprintf("in%04d.xml", i)))
		outFiles = append(outFiles, filepath.Join(dir, fmt.Sprintf("out%04d.xml", i)))
		require.NoError(t, os.WriteFile(inFiles[len(inFiles)-1], s.data, 0o644))
		require.NoError(t, os.WriteFile(outFiles[len(outFiles)-1], []byte(out), 0o644))
	}
	t.Logf("%s, no edit: canonical identical %d/%d, byte-identical %d/%d", label, canonIdentical, total, byteIdentical, total)
	assert.Equal(t, total, canonIdentical)
	assert.Equal(t, total, byteIdentical)

	lintIn, ok := xmllintC14N(t, inFiles)
	if !ok {
		t.Logf("xmllint not installed: the Go canonicaliser alone was used")
		return
	}
	lintOut, _ := xmllintC14N(t, outFiles)
	assert.True(t, bytes.Equal(lintIn, lintOut), "xmllint --c14n of the outputs differs from the inputs'")
	assert.True(t, bytes.Equal(lintIn, wantLint.Bytes()), "the Go canonicaliser differs from xmllint --c14n")
	t.Logf("%s: xmllint --c14n agrees on all %d (inputs = outputs = Go canonicaliser)", label, total)
}

func TestRoundTripCorpus(t *testing.T) {
	roundTrip(t, "corpus", samples(t, sharedDir(t, "corpus")))
}

func TestRoundTripFixtures(t *testing.T) {
	roundTrip(t, "hookstdin fixtures", samples(t, filepath.Join("..", "hookkittest", "testdata", "hookstdin")))
	roundTrip(t, "xmldoc testdata", samples(t, "testdata"))
}

var (
	firstName = regexp.MustCompile(`<name>([^<]*)</name>`)
	pathAttr  = regexp.MustCompile(`\s(?:file|dev)=(?:'([^']*)'|"([^"]*)")`)
)

// oneEdit is an edit made with the package and the same edit made on the text by hand.
type oneEdit struct {
	name string
	// edit applies the edit to doc; ok=false when the sample has nothing to edit.
	edit func(doc *Document) (ok bool, err error)
	// byHand returns the input with the edit made on the text, ok=false when it cannot be located.
	byHand func(in string) (string, bool)
}

var oneEdits = []oneEdit{
	{
		name: "rename",
		edit: func(doc *Document) (bool, error) {
			if ok, _ := doc.Bool("/*/name"); !ok {
				return false, nil
			}
			return true, doc.Set("/*/name", "edited<&>name")
		},
		byHand: func(in string) (string, bool) {
			loc := firstName.FindStringSubmatchIndex(in)
			if loc == nil {
				return "", false
			}
			return in[:loc[2]] + "edited&lt;&amp;&gt;name" + in[loc[3]:], true
		},
	},
	{
		name: "first disk source",
		edit: func(doc *Document) (bool, error) {
			const expr = "/domain/devices/disk[1]/source/@*[name()='file' or name()='dev'][1]"
			if ok, _ := doc.Bool(expr); !ok {
				return false, nil
			}
			return true, doc.Set(expr, "/edited/it's \"new\"\n.qcow2")
		},
		byHand: func(in string) (string, bool) {
			disk := strings.Index(in, "<disk ")
			if disk < 0 {
				return "", false
			}
			src := strings.Index(in[disk:], "<source ")
			if src < 0 {
				return "", false
			}
			tagStart := disk + src
			tagEnd := tagStart + strings.IndexByte(in[tagStart:], '>')
			loc := pathAttr.FindStringSubmatchIndex(in[tagStart:tagEnd])
			if loc == nil {
				return "", false
			}
			vs, ve, quote := loc[2], loc[3], `'`
			if vs < 0 {
				vs, ve, quote = loc[4], loc[5], `"`
			}
			v := strings.ReplaceAll("/edited/it's \"new\"", quote, map[string]string{`'`: "&apos;", `"`: "&quot;"}[quote])
			return in[:tagStart+vs] + v + "&#10;.qcow2" + in[tagStart+ve:], true
		},
	},
}

// TestCorpusOneEdit makes one edit with the package and the same edit on the text by hand: the canonical
// forms of both must be identical, so the edited node is the only difference from the input.
func TestCorpusOneEdit(t *testing.T) {
	all := samples(t, sharedDir(t, "corpus"))
	for _, e := range oneEdits {
		t.Run(e.name, func(t *testing.T) {
			var identical, byteIdentical, total int
			for _, s := range all {
				if s.name == brokenFile {
					continue
				}
				doc, err := Parse(s.data)
				require.NoError(t, err, s.name)
				ok, err := e.edit(doc)
				require.NoError(t, err, s.name)
				if !ok {
					continue
				}
				want, ok := e.byHand(string(s.data))
				require.True(t, ok, "%s: cannot locate the edit by hand", s.name)
				total++
				got := doc.Bytes()
				if string(got) == want {
					byteIdentical++
				}
				cgot, err := canonical(got)
				require.NoError(t, err, s.name)
				cwant, err := canonical([]byte(want))
				require.NoError(t, err, s.name)
				if assert.Equal(t, string(cwant), string(cgot), s.name) {
					identical++
				}
				require.True(t, doc.Changed(), s.name)
			}
			t.Logf("corpus, one edit (%s): canonical identical to the hand edit %d/%d, byte-identical %d/%d", e.name, identical, total, byteIdentical, total)
			assert.Positive(t, total)
		})
	}
}
