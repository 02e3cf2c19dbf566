package main

import (
	"fmt"
	"slices"
	"strconv"
	"time"
)

// series is one figure measured in several runs. A run that failed adds
// nothing to the values and counts in failed.
type series struct {
	values []float64
	failed int
}

func (s *series) add(v float64, err error) {
	if err != nil {
		s.failed++
		return
	}
	s.values = append(s.values, v)
}

func (s *series) addDuration(d time.Duration, err error) { s.add(d.Seconds(), err) }

func (s *series) ok() bool { return len(s.values) > 0 }

// spread is the median of a series and its range.
type spread struct {
	n                int
	median, min, max float64
}

// summarize returns the median (the mean of the middle two of an even
// count) and the smallest and largest value; the zero spread for none.
func summarize(xs []float64) spread {
	if len(xs) == 0 {
		return spread{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return spread{n: len(s), median: m, min: s[0], max: s[len(s)-1]}
}

func (s *series) spread() spread { return summarize(s.values) }

// cell writes the series for the table: "1.15 s (1.10–1.30)", the median
// then the range of the runs in the same unit; a single run has no range.
// A series without a value is "error"; one with failed runs says how many
// of them counted.
func (s *series) cell(num func(float64) string, unit string) string {
	if !s.ok() {
		return "error"
	}
	sp := s.spread()
	c := num(sp.median) + unit
	if sp.n > 1 {
		c += " (" + num(sp.min) + "–" + num(sp.max) + ")"
	}
	if s.failed > 0 {
		c += fmt.Sprintf(" [%d of %d runs]", sp.n, sp.n+s.failed)
	}
	return c
}

// ratioOf is the ratio of the medians of a and b, "" when either has no
// value.
func ratioOf(a, b *series) (float64, bool) {
	if !a.ok() || !b.ok() || b.spread().median == 0 {
		return 0, false
	}
	return a.spread().median / b.spread().median, true
}

// Number formats for cells; units are MiB (2^20 bytes) throughout.
// numSecs gives times under 0.1 s a third decimal.
func numSecs(x float64) string {
	if x < 0.1 {
		return strconv.FormatFloat(x, 'f', 3, 64)
	}
	return strconv.FormatFloat(x, 'f', 2, 64)
}

func num1(x float64) string     { return strconv.FormatFloat(x, 'f', 1, 64) }
func numCount(x float64) string { return count(int(x + 0.5)) }
func numMiB(x float64) string   { return num1(x / (1 << 20)) }

const (
	unitSecs   = " s"
	unitMiB    = " MiB"
	unitPerSec = " records/s"
)

func ms(d time.Duration) string { return num1(float64(d)/1e6) + " ms" }
func mib(n int64) string        { return numMiB(float64(n)) + unitMiB }
func ratio(x float64) string    { return strconv.FormatFloat(x, 'f', 2, 64) + "×" }
func yes(ok bool) string        { return map[bool]string{true: "yes", false: "no"}[ok] }

// count writes n with thousands separators.
func count(n int) string {
	s := strconv.Itoa(n)
	var out []byte
	for i := range len(s) {
		if i > 0 && s[i-1] != '-' && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}
