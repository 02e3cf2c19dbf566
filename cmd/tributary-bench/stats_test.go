package main

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	for _, c := range []struct {
		name string
		xs   []float64
		want spread
	}{
		{"none", nil, spread{}},
		{"one", []float64{3}, spread{n: 1, median: 3, min: 3, max: 3}},
		{"odd count, unsorted", []float64{5, 1, 4, 2, 3}, spread{n: 5, median: 3, min: 1, max: 5}},
		{"even count: mean of the middle two", []float64{4, 1, 2, 10}, spread{n: 4, median: 3, min: 1, max: 10}},
		{"two", []float64{1.5, 2.5}, spread{n: 2, median: 2, min: 1.5, max: 2.5}},
		{"outlier moves the range, not the median", []float64{1, 1.1, 0.9, 1.05, 30}, spread{n: 5, median: 1.05, min: 0.9, max: 30}},
		{"repeated values", []float64{2, 2, 2}, spread{n: 3, median: 2, min: 2, max: 2}},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := slices.Clone(c.xs)
			if got := summarize(c.xs); got != c.want {
				t.Errorf("summarize(%v) = %+v, want %+v", in, got, c.want)
			}
			if !slices.Equal(in, c.xs) {
				t.Errorf("summarize reordered its input: %v, was %v", c.xs, in)
			}
		})
	}
}

func TestSeriesCell(t *testing.T) {
	fail := errors.New("failed")
	for _, c := range []struct {
		name string
		add  func(s *series)
		num  func(float64) string
		unit string
		want string
	}{
		{"no runs", func(s *series) {}, numSecs, unitSecs, "error"},
		{"only failures", func(s *series) { s.add(0, fail); s.add(0, fail) }, numSecs, unitSecs, "error"},
		{"one run: no range", func(s *series) { s.addDuration(1150*time.Millisecond, nil) }, numSecs, unitSecs, "1.15 s"},
		{"median and range", func(s *series) {
			for _, ms := range []int{1300, 1100, 1150} {
				s.addDuration(time.Duration(ms)*time.Millisecond, nil)
			}
		}, numSecs, unitSecs, "1.15 s (1.10–1.30)"},
		{"a failed run is counted out", func(s *series) { s.add(2, nil); s.add(0, fail); s.add(4, nil) }, numSecs, unitSecs, "3.00 s (2.00–4.00) [2 of 3 runs]"},
		{"short times get a third decimal", func(s *series) {
			for _, ms := range []int{44, 41, 74} {
				s.addDuration(time.Duration(ms)*time.Millisecond, nil)
			}
		}, numSecs, unitSecs, "0.044 s (0.041–0.074)"},
		{"records a second", func(s *series) { s.add(1156069.4, nil); s.add(1004016, nil); s.add(1284783, nil) }, numCount, unitPerSec,
			"1,156,069 records/s (1,004,016–1,284,783)"},
		{"MiB are 2^20 bytes", func(s *series) { s.add(83<<20, nil); s.add(82.5*(1<<20), nil); s.add(84<<20, nil) }, numMiB, unitMiB, "83.0 MiB (82.5–84.0)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var s series
			c.add(&s)
			if got := s.cell(c.num, c.unit); got != c.want {
				t.Errorf("cell = %q, want %q", got, c.want)
			}
		})
	}
}

func TestRatioOf(t *testing.T) {
	var a, b, empty, zero series
	for _, x := range []float64{1, 2, 9} { // median 2
		a.add(x, nil)
	}
	for _, x := range []float64{4, 8} { // median 6
		b.add(x, nil)
	}
	zero.add(0, nil)
	if x, ok := ratioOf(&a, &b); !ok || x != 2.0/6 {
		t.Errorf("ratioOf = %v, %v; want the ratio of the medians, 1/3", x, ok)
	}
	for _, c := range [][2]*series{{&a, &empty}, {&empty, &a}, {&a, &zero}} {
		if x, ok := ratioOf(c[0], c[1]); ok {
			t.Errorf("ratioOf(%v, %v) = %v, want none", c[0].values, c[1].values, x)
		}
	}
}

func TestFormats(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{count(0), "0"}, {count(999), "999"}, {count(1000), "1,000"}, {count(50000), "50,000"},
		{count(1234567), "1,234,567"}, {count(-1234), "-1,234"},
		{mib(198_000_000), "188.8 MiB"}, {mib(17 << 20), "17.0 MiB"},
		{ms(1234567 * time.Nanosecond), "1.2 ms"}, {ratio(0.3449), "0.34×"},
		{numCount(999.6), "1,000"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
