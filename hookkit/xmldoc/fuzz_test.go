package xmldoc

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hookkit-dev/hookkit/hookkit/internal/stdxml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fuzzSeeds returns the package's testdata documents, the hookstdin fixtures and the fidelity cases.
func fuzzSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	for _, dir := range []string{"testdata", filepath.Join("..", "hookkittest", "testdata", "hookstdin")} {
		for _, s := range samples(f, dir) {
			seeds = append(seeds, s.data)
		}
	}
	for _, tc := range fidelityCases {
		seeds = append(seeds, []byte(tc.in))
	}
	return seeds
}

// FuzzRoundTrip parses, serializes and parses again. Unedited, the output must be the input byte for
// byte; with every node forgotten (so the serializer regenerates each tag, text and attribute, escaping
// as it must), the output must parse to the same canonical form as the input.
func FuzzRoundTrip(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		doc, err := Parse(in)
		if err != nil {
			return
		}
		require.Equal(t, string(in), doc.serialize(doc.top))
		want, err := canonical(in)
		if err != nil {
			return // beyond the test canonicaliser (e.g. a DTD); the byte check above still held
		}
		forget(doc.top)
		out := doc.serialize(doc.top)
		again, err := Parse([]byte(out))
		require.NoError(t, err, "regenerated output does not parse: %q", out)
		got, err := canonical([]byte(again.serialize(again.top)))
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got), "regenerated: %q", out)
	})
}

// FuzzQuery evaluates expressions with a caller's namespace binding over documents: whatever the input,
// queries return a result or an error, never panic, and do not change the document.
func FuzzQuery(f *testing.F) {
	exprs := []string{
		"/domain/name", "count(//disk)", "/domain/qemu:commandline/qemu:arg/@value", "//x:cfg/@*",
		"/hookData/network/bridge/@name", "string(/*/*[2])", "//node()[last()]", "sum(//@port) > 1",
		"/domain/devices/disk[target/@dev='vda']/source/@file", "x:*[1]/text()", "(", "//@*[namespace-uri()='urn:x']",
	}
	for i, s := range fuzzSeeds(f) {
		f.Add(s, exprs[i%len(exprs)], "x", "urn:x")
	}
	doc, err := os.ReadFile("testdata/tricky.xml")
	require.NoError(f, err)
	for _, e := range exprs {
		f.Add(doc, e, "app", "urn:example:app")
	}
	f.Fuzz(func(t *testing.T, in []byte, expr, prefix, uri string) {
		doc, err := Parse(in)
		if err != nil {
			return
		}
		if isNCName(prefix) {
			doc.Bind(prefix, uri)
		}
		_, _ = doc.String(expr)
		_, _ = doc.Int(expr)
		_, _ = doc.Bool(expr)
		nodes, err := doc.Nodes(expr)
		if err == nil {
			for _, n := range nodes {
				_, _, _ = n.Name(), n.Value(), n.XML()
				_, _ = n.String(expr)
			}
		}
		assert.False(t, doc.Changed())
	})
}

// FuzzParseStrictness checks the package's parser against encoding/xml: whatever it accepts,
// encoding/xml's strict decoder accepts too, so the hand-written scanner is never more lenient.
func FuzzParseStrictness(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if _, err := Parse(in); err != nil {
			return
		}
		require.NoError(t, stdxml.Refusal(in), "accepted by xmldoc, refused by encoding/xml: %q", in)
	})
}
