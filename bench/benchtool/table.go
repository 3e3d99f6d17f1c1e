package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// result is one command of a hyperfine JSON export, or of several exports merged.
type result struct {
	Command string      `json:"command"`
	Times   []float64   `json:"times"` // seconds
	rounds  [][]float64 // the times of each merged export, in order (set by mergeResults)
}

// readExport reads the results of a hyperfine --export-json file.
func readExport(r io.Reader) ([]result, error) {
	var doc struct {
		Results []result `json:"results"`
	}
	if err := json.NewDecoder(r).Decode(&doc); err != nil {
		return nil, fmt.Errorf("read hyperfine export: %w", err)
	}
	if len(doc.Results) == 0 {
		return nil, errors.New("hyperfine export holds no results")
	}
	return doc.Results, nil
}

// readExports reads several exports of the same commands (rounds of one table) and merges the times of
// each command, in the order of the first export.
func readExports(paths []string) ([]result, error) {
	var merged []result
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		rs, err := readExport(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		merged, err = mergeResults(merged, rs)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
	}
	return merged, nil
}

// mergeResults appends the times of rs to the commands of the same name in into.
// Each export's times are also kept as a round of their own.
func mergeResults(into, rs []result) ([]result, error) {
	if into == nil {
		for i := range rs {
			rs[i].rounds = [][]float64{slices.Clone(rs[i].Times)}
		}
		return rs, nil
	}
	if len(rs) != len(into) {
		return nil, fmt.Errorf("%d commands, the first export has %d", len(rs), len(into))
	}
	for i, r := range rs {
		if r.Command != into[i].Command {
			return nil, fmt.Errorf("command %d is %q, the first export has %q", i, r.Command, into[i].Command)
		}
		into[i].Times = append(into[i].Times, r.Times...)
		into[i].rounds = append(into[i].rounds, r.Times)
	}
	return into, nil
}

// quantile returns the q-quantile of xs (0 <= q <= 1) by linear interpolation; the median for q = 0.5.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	pos := q * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	return s[lo] + (s[hi]-s[lo])*(pos-float64(lo))
}

// median returns the median of xs.
func median(xs []float64) float64 { return quantile(xs, 0.5) }

// row is one line of a table: a command's name and its median and quartiles in milliseconds, and the
// median of each round.
type row struct {
	name             string
	runs             int
	median, p25, p75 float64
	roundMedians     []float64
}

func rows(rs []result) []row {
	out := make([]row, len(rs))
	for i, r := range rs {
		out[i] = row{
			name:   r.Command,
			runs:   len(r.Times),
			median: 1000 * median(r.Times),
			p25:    1000 * quantile(r.Times, 0.25),
			p75:    1000 * quantile(r.Times, 0.75),
		}
		for _, t := range r.rounds {
			out[i].roundMedians = append(out[i].roundMedians, 1000*median(t))
		}
	}
	return out
}

func find(rs []row, name string) (row, error) {
	for _, r := range rs {
		if r.name == name {
			return r, nil
		}
	}
	return row{}, fmt.Errorf("no command named %q in the export", name)
}

// writeTable writes rs as a Markdown table: median, quartiles, the time above the floor command when floor
// is set, and the ratio of each median to the medians of the reference commands.
func writeTable(w io.Writer, rs []row, floor string, refs ...string) error {
	var fl row
	var err error
	if floor != "" {
		if fl, err = find(rs, floor); err != nil {
			return err
		}
	}
	refRows := make([]row, len(refs))
	for i, ref := range refs {
		if refRows[i], err = find(rs, ref); err != nil {
			return err
		}
	}
	head := "| command | runs | median ms | p25–p75 ms |"
	rule := "|---|--:|--:|--:|"
	if floor != "" {
		head += " above floor ms |"
		rule += "--:|"
	}
	for _, ref := range refs {
		head += " × " + ref + " |"
		rule += "--:|"
	}
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, rule)
	for _, r := range rs {
		line := fmt.Sprintf("| %s | %d | %.2f | %.2f–%.2f |", r.name, r.runs, r.median, r.p25, r.p75)
		if floor != "" {
			line += fmt.Sprintf(" %.2f |", r.median-fl.median)
		}
		for _, ref := range refRows {
			line += fmt.Sprintf(" %.2f |", r.median/ref.median)
		}
		fmt.Fprintln(w, line)
	}
	return nil
}

// writePivot writes rows named "row<sep>column" as one line per row name and, for each column name, the
// median and its ratio to the median of "ref<sep>column", the reference measured on the same column.
func writePivot(w io.Writer, rs []row, sep, ref string) error {
	var rowNames, colNames []string
	cell := map[[2]string]row{}
	for _, r := range rs {
		i := strings.LastIndex(r.name, sep)
		if i < 0 {
			return fmt.Errorf("command %q has no %q", r.name, sep)
		}
		rn, cn := r.name[:i], r.name[i+len(sep):]
		if !slices.Contains(rowNames, rn) {
			rowNames = append(rowNames, rn)
		}
		if !slices.Contains(colNames, cn) {
			colNames = append(colNames, cn)
		}
		cell[[2]string{rn, cn}] = r
	}
	head, rule := "| command |", "|---|"
	for _, c := range colNames {
		if _, ok := cell[[2]string{ref, c}]; !ok {
			return fmt.Errorf("no command named %q", ref+sep+c)
		}
		head += fmt.Sprintf(" %s median ms | × %s |", c, ref)
		rule += "--:|--:|"
	}
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, rule)
	for _, rn := range rowNames {
		line := "| " + rn + " |"
		for _, c := range colNames {
			r, ok := cell[[2]string{rn, c}]
			if !ok {
				line += " – | – |"
				continue
			}
			line += fmt.Sprintf(" %.2f | %.2f |", r.median, r.median/cell[[2]string{ref, c}].median)
		}
		fmt.Fprintln(w, line)
	}
	return nil
}

// multiFlag collects a repeated string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

func runTable(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("table", flag.ContinueOnError)
	var refs multiFlag
	fs.Var(&refs, "ref", "name of a reference command for a ratio column (repeatable)")
	floor := fs.String("floor", "", "name of the shell floor command, for the 'above floor' column")
	medians := fs.String("medians", "", "append 'key name<TAB>median ms<TAB>round medians' lines to this file, for check")
	key := fs.String("key", "", "prefix of the names written to the medians file, e.g. 'prepare 5 KB: '")
	pivot := fs.String("pivot", "", "command names are 'row<SEP>column': print one column per column name, with SEP this string")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("table: expected hyperfine JSON exports")
	}
	res, err := readExports(fs.Args())
	if err != nil {
		return err
	}
	rs := rows(res)
	if *pivot != "" {
		if len(refs) != 1 || *floor != "" {
			return errors.New("table: -pivot takes exactly one -ref and no -floor")
		}
		err = writePivot(w, rs, *pivot, refs[0])
	} else {
		err = writeTable(w, rs, *floor, refs...)
	}
	if err != nil {
		return err
	}
	if *medians == "" {
		return nil
	}
	mf, err := os.OpenFile(*medians, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	for _, r := range rs {
		rounds := make([]string, len(r.roundMedians))
		for i, m := range r.roundMedians {
			rounds[i] = strconv.FormatFloat(m, 'f', 6, 64)
		}
		fmt.Fprintf(mf, "%s%s\t%.6f\t%s\n", *key, r.name, r.median, strings.Join(rounds, ","))
	}
	return mf.Close()
}

// medianRecord is a command's median over all its runs and its median in each round, in milliseconds.
type medianRecord struct {
	median float64
	rounds []float64
}

// readMedians reads the 'name<TAB>median<TAB>round,medians' lines written by table -medians (the round
// medians are optional).
func readMedians(r io.Reader) (map[string]medianRecord, error) {
	m := map[string]medianRecord{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			continue
		}
		v, rounds, _ := strings.Cut(v, "\t")
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("medians: %q: %w", sc.Text(), err)
		}
		rec := medianRecord{median: f}
		for _, x := range strings.Split(rounds, ",") {
			if x == "" {
				continue
			}
			f, err := strconv.ParseFloat(x, 64)
			if err != nil {
				return nil, fmt.Errorf("medians: %q: %w", sc.Text(), err)
			}
			rec.rounds = append(rec.rounds, f)
		}
		m[name] = rec
	}
	return m, sc.Err()
}

// target is "A <= X * B": the median of command A at most X times the median of command B.
type target struct {
	a, b string
	max  float64
}

func parseTarget(s string) (target, error) {
	a, rest, ok := strings.Cut(s, "<=")
	if !ok {
		return target{}, fmt.Errorf("target %q: expected 'A <= X * B'", s)
	}
	x, b, ok := strings.Cut(rest, "*")
	if !ok {
		return target{}, fmt.Errorf("target %q: expected 'A <= X * B'", s)
	}
	max, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
	if err != nil {
		return target{}, fmt.Errorf("target %q: bad factor: %w", s, err)
	}
	t := target{a: strings.TrimSpace(a), b: strings.TrimSpace(b), max: max}
	if t.a == "" || t.b == "" {
		return target{}, fmt.Errorf("target %q: expected 'A <= X * B'", s)
	}
	return t, nil
}

// evaluate returns the ratio A/B of the medians and whether it meets the target.
func (t target) evaluate(m map[string]medianRecord) (float64, bool, error) {
	a, ok := m[t.a]
	if !ok {
		return 0, false, fmt.Errorf("no median for %q", t.a)
	}
	b, ok := m[t.b]
	if !ok {
		return 0, false, fmt.Errorf("no median for %q", t.b)
	}
	r := a.median / b.median
	return r, r <= t.max, nil
}

// roundRatios returns the ratio A/B of the medians of each round, when both commands ran in the same
// number of rounds (two or more): how far the figure moves within one benchmark run.
func (t target) roundRatios(m map[string]medianRecord) []float64 {
	a, b := m[t.a].rounds, m[t.b].rounds
	if len(a) < 2 || len(a) != len(b) {
		return nil
	}
	out := make([]float64, len(a))
	for i := range a {
		out[i] = a[i] / b[i]
	}
	return out
}

func runCheck(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	medians := fs.String("medians", "", "file written by table -medians")
	if err := fs.Parse(args); err != nil {
		return err
	}
	f, err := os.Open(*medians)
	if err != nil {
		return err
	}
	defer f.Close()
	m, err := readMedians(f)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "| target | measured | per round (min–max) | result |")
	fmt.Fprintln(w, "|---|--:|--:|---|")
	for _, s := range fs.Args() {
		t, err := parseTarget(s)
		if err != nil {
			return err
		}
		r, ok, err := t.evaluate(m)
		if err != nil {
			return err
		}
		verdict := "**not met**"
		if ok {
			verdict = "met"
		}
		spread := "–"
		if rr := t.roundRatios(m); rr != nil {
			met := 0
			for _, x := range rr {
				if x <= t.max {
					met++
				}
			}
			spread = fmt.Sprintf("%.2f–%.2f× (%d rounds, %d met)", slices.Min(rr), slices.Max(rr), len(rr), met)
		}
		fmt.Fprintf(w, "| %s ≤ %.2f× %s | %.2f× | %s | %s |\n", t.a, t.max, t.b, r, spread, verdict)
	}
	return nil
}
