package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuantile(t *testing.T) {
	tests := []struct {
		xs   []float64
		q    float64
		want float64
	}{
		{[]float64{3, 1, 2}, 0.5, 2},
		{[]float64{4, 1, 3, 2}, 0.5, 2.5},
		{[]float64{1, 2, 3, 4, 5}, 0.25, 2},
		{[]float64{1, 2, 3, 4, 5}, 0, 1},
		{[]float64{1, 2, 3, 4, 5}, 1, 5},
		{[]float64{7}, 0.75, 7},
	}
	for _, tt := range tests {
		assert.InDelta(t, tt.want, quantile(tt.xs, tt.q), 1e-9, "%v q=%v", tt.xs, tt.q)
	}
}

func TestMergeResults(t *testing.T) {
	a := []result{{Command: "x", Times: []float64{1}}, {Command: "y", Times: []float64{2}}}
	merged, err := mergeResults(nil, a)
	require.NoError(t, err)
	merged, err = mergeResults(merged, []result{{Command: "x", Times: []float64{3}}, {Command: "y", Times: []float64{4}}})
	require.NoError(t, err)
	assert.Equal(t, []float64{1, 3}, merged[0].Times)
	assert.Equal(t, []float64{2, 4}, merged[1].Times)
	assert.Equal(t, [][]float64{{1}, {3}}, merged[0].rounds, "each export is a round")
	assert.Equal(t, []float64{2000, 4000}, rows(merged)[1].roundMedians, "round medians in ms")

	tests := []struct {
		name string
		rs   []result
		msg  string
	}{
		{"fewer commands", []result{{Command: "x"}}, "1 commands"},
		{"other command", []result{{Command: "x"}, {Command: "z"}}, `"z"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mergeResults(merged, tt.rs)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
}

func TestReadExports(t *testing.T) {
	dir := t.TempDir()
	p1 := filepath.Join(dir, "a.1.json")
	p2 := filepath.Join(dir, "a.2.json")
	require.NoError(t, os.WriteFile(p1, []byte(`{"results":[{"command":"floor","times":[0.001,0.003]}]}`), 0o644))
	require.NoError(t, os.WriteFile(p2, []byte(`{"results":[{"command":"floor","times":[0.002]}]}`), 0o644))
	rs, err := readExports([]string{p1, p2})
	require.NoError(t, err)
	require.Len(t, rs, 1)
	assert.InDelta(t, 0.002, median(rs[0].Times), 1e-12)

	require.NoError(t, os.WriteFile(p2, []byte(`{"results":[]}`), 0o644))
	_, err = readExports([]string{p1, p2})
	assert.ErrorContains(t, err, "no results")
}

func TestWriteTable(t *testing.T) {
	rs := []row{
		{name: "shell floor", runs: 3, median: 1, p25: 0.9, p75: 1.1},
		{name: "empty Go", runs: 3, median: 2, p25: 1.9, p75: 2.1},
		{name: "hookkit", runs: 3, median: 2.2, p25: 2.1, p75: 2.3},
	}
	var b bytes.Buffer
	require.NoError(t, writeTable(&b, rs, "shell floor", "empty Go"))
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	require.Len(t, lines, 5)
	assert.Equal(t, "| command | runs | median ms | p25–p75 ms | above floor ms | × empty Go |", lines[0])
	assert.Equal(t, "| hookkit | 3 | 2.20 | 2.10–2.30 | 1.20 | 1.10 |", lines[4])

	assert.ErrorContains(t, writeTable(&b, rs, "", "bash"), `"bash"`)
	assert.ErrorContains(t, writeTable(&b, rs, "nope"), `"nope"`)
}

func TestWritePivot(t *testing.T) {
	rs := []row{
		{name: "empty Go @ 1 KB", median: 2},
		{name: "hookkit @ 1 KB", median: 2.2},
		{name: "empty Go @ 30 KB", median: 2},
		{name: "hookkit @ 30 KB", median: 3},
		{name: "python3 @ 30 KB", median: 20},
	}
	var b bytes.Buffer
	require.NoError(t, writePivot(&b, rs, " @ ", "empty Go"))
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	require.Len(t, lines, 5)
	assert.Equal(t, "| command | 1 KB median ms | × empty Go | 30 KB median ms | × empty Go |", lines[0])
	assert.Equal(t, "| hookkit | 2.20 | 1.10 | 3.00 | 1.50 |", lines[3])
	assert.Equal(t, "| python3 | – | – | 20.00 | 10.00 |", lines[4])

	assert.ErrorContains(t, writePivot(&b, []row{{name: "no separator"}}, " @ ", "x"), "has no")
	assert.ErrorContains(t, writePivot(&b, rs, " @ ", "bash"), `"bash @ 1 KB"`)
}

func TestTarget(t *testing.T) {
	medians := map[string]medianRecord{"prepare: hookkit": {median: 1.8}, "prepare: empty Go": {median: 1.7}, "prepare: bash": {median: 5}}
	tests := []struct {
		spec  string
		ratio float64
		met   bool
		err   string
	}{
		{spec: "prepare: hookkit <= 1.10 * prepare: empty Go", ratio: 1.8 / 1.7, met: true},
		{spec: "prepare: hookkit<=0.3*prepare: bash", ratio: 0.36, met: false},
		{spec: "prepare: hookkit <= 1.1 * nothing", err: `no median for "nothing"`},
		{spec: "prepare: hookkit 1.1 * prepare: bash", err: "expected"},
		{spec: "prepare: hookkit <= 1.1 prepare: bash", err: "expected"},
		{spec: "prepare: hookkit <= x * prepare: bash", err: "bad factor"},
		{spec: " <= 1 * prepare: bash", err: "expected"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			tg, err := parseTarget(tt.spec)
			var ratio float64
			var met bool
			if err == nil {
				ratio, met, err = tg.evaluate(medians)
			}
			if tt.err != "" {
				assert.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.InDelta(t, tt.ratio, ratio, 1e-9)
			assert.Equal(t, tt.met, met)
		})
	}
}

func TestReadMedians(t *testing.T) {
	m, err := readMedians(strings.NewReader("storm: hookkit\t310.5\t300,320\nno tab line\nstorm: empty Go\t300\n"))
	require.NoError(t, err)
	assert.Equal(t, map[string]medianRecord{
		"storm: hookkit":  {median: 310.5, rounds: []float64{300, 320}},
		"storm: empty Go": {median: 300},
	}, m)
	for _, bad := range []string{"x\tnot-a-number\n", "x\t1\t2,y\n"} {
		_, err = readMedians(strings.NewReader(bad))
		assert.Error(t, err, bad)
	}
}

// TestCheckRounds checks the targets table: the ratio of the medians, and its range over the rounds.
func TestCheckRounds(t *testing.T) {
	medians := filepath.Join(t.TempDir(), "medians.tsv")
	require.NoError(t, os.WriteFile(medians, []byte(
		"p: hookkit\t1.10\t1.0,1.2,1.1\n"+
			"p: empty Go\t1.00\t1.0,1.0,1.0\n"+
			"p: bash\t5.00\t5.0,5.0\n"), 0o644))
	var b bytes.Buffer
	require.NoError(t, runCheck([]string{"-medians", medians, "p: hookkit <= 1.1 * p: empty Go", "p: hookkit <= 0.3 * p: bash"}, &b))
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	require.Len(t, lines, 4)
	assert.Equal(t, "| p: hookkit ≤ 1.10× p: empty Go | 1.10× | 1.00–1.20× (3 rounds, 2 met) | met |", lines[2])
	assert.Equal(t, "| p: hookkit ≤ 0.30× p: bash | 0.22× | – | met |", lines[3], "no range when the round counts differ")
}

func TestStormDomain(t *testing.T) {
	tmpl, err := os.ReadFile(filepath.Join("..", "testdata", "domain-1k.xml"))
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, i := range []int{1, 2, 200} {
		dom, err := stormDomain(tmpl, i)
		require.NoError(t, err)
		s := string(dom)
		assert.Equal(t, 1, strings.Count(s, "<name>vm-"), "only the domain's own name changes")
		assert.NotContains(t, s, "hooktest")
		assert.Equal(t, len(tmpl)-len("hooktest")+len("vm-000"), len(dom))
		uuid := s[strings.Index(s, "<uuid>")+6 : strings.Index(s, "</uuid>")]
		assert.Len(t, uuid, 36)
		assert.False(t, seen[uuid], "UUIDs are distinct")
		seen[uuid] = true
	}
	_, err = stormDomain([]byte("<domain><uuid>x</uuid></domain>"), 1)
	assert.ErrorContains(t, err, "no <name>")
	_, err = stormDomain([]byte("<domain><name>x</name></domain>"), 1)
	assert.ErrorContains(t, err, "no <uuid>")
}

func TestGoBench(t *testing.T) {
	in := `goos: linux
pkg: github.com/hookkit-dev/hookkit/hookkit
BenchmarkRoute/domain-5k.xml-2   	   10000	    61234 ns/op	  82.55 MB/s	   23280 B/op	     141 allocs/op
BenchmarkPlain-2   	   10000	    99 ns/op
PASS
pkg: github.com/hookkit-dev/hookkit/hookkit/xmldoc
BenchmarkParse-2 	 100	 5000 ns/op	 10 B/op	 1 allocs/op
ok  	github.com/hookkit-dev/hookkit/hookkit	1.2s
`
	var b bytes.Buffer
	require.NoError(t, runGoBench(strings.NewReader(in), &b))
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	require.Len(t, lines, 5)
	assert.Equal(t, "| hookkit | BenchmarkRoute/domain-5k.xml-2 | 61234 | 82.55 | 23280 | 141 |", lines[2])
	assert.Equal(t, "| hookkit | BenchmarkPlain-2 | 99 | – | – | – |", lines[3])
	assert.Equal(t, "| hookkit/xmldoc | BenchmarkParse-2 | 5000 | – | 10 | 1 |", lines[4])
}

func TestPeakRSS(t *testing.T) {
	cat, err := exec.LookPath("cat")
	if err != nil {
		t.Skip("no cat in PATH")
	}
	in := filepath.Join("..", "testdata", "domain-1k.xml")
	kb, err := peakRSS(in, 2, []string{cat})
	require.NoError(t, err)
	assert.Positive(t, kb)

	f, err := exec.LookPath("false")
	if err != nil {
		t.Skip("no false in PATH")
	}
	_, err = peakRSS(in, 1, []string{f})
	assert.Error(t, err)
}

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ref, ms []float64
		want    pairedSummary
	}{
		{
			name: "itself",
			ref:  []float64{1, 2, 3, 4}, ms: []float64{1, 2, 3, 4},
			want: pairedSummary{Median: 2.5, Ratio: 1},
		},
		{
			// A machine that slows down halfway moves both medians; the per-round difference stays.
			name: "drift cancels within rounds",
			ref:  []float64{1, 1, 3, 3}, ms: []float64{1.5, 1.5, 3.5, 3.5},
			want: pairedSummary{Median: 2.5, Ratio: 1.25, Diff: 0.5, DiffFirst: 0.5, DiffSecond: 0.5},
		},
		{
			name: "halves disagree",
			ref:  []float64{2, 2, 2, 2}, ms: []float64{2.1, 2.1, 2.3, 2.3},
			want: pairedSummary{Median: 2.2, Ratio: 1.1, Diff: 0.2, DiffFirst: 0.1, DiffSecond: 0.3},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := summarize(tc.ref, tc.ms)
			assert.InDelta(t, tc.want.Median, got.Median, 1e-9)
			assert.InDelta(t, tc.want.Ratio, got.Ratio, 1e-9)
			assert.InDelta(t, tc.want.Diff, got.Diff, 1e-9)
			assert.InDelta(t, tc.want.DiffFirst, got.DiffFirst, 1e-9)
			assert.InDelta(t, tc.want.DiffSecond, got.DiffSecond, 1e-9)
		})
	}
}

func TestRunPairs(t *testing.T) {
	in := filepath.Join(t.TempDir(), "in.xml")
	require.NoError(t, os.WriteFile(in, []byte("<domain/>"), 0o644))
	var out bytes.Buffer
	require.NoError(t, runPairs([]string{"-stdin", in, "-n", "4", "-warm", "1", "cat=cat", "sh=sh -c true"}, &out))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 4)
	assert.True(t, strings.HasPrefix(lines[2], "| cat | "), lines[2])
	assert.Contains(t, lines[2], "| 1.000 | +0.000 | +0.000 | +0.000 |")
	assert.True(t, strings.HasPrefix(lines[3], "| sh | "), lines[3])

	err := runPairs([]string{"-stdin", in, "-n", "2", "cat=cat", "bad=false"}, &out)
	assert.ErrorContains(t, err, "bad:")
	assert.Error(t, runPairs([]string{"-stdin", in, "only=cat"}, &out))
	assert.Error(t, runPairs([]string{"-stdin", in, "cat=cat", "noequals"}, &out))
}
