package main

import (
	"bytes"
	"context"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestQuick runs every benchmark briefly through the real binary and checks
// that the table has each figure with numbers.
func TestQuick(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go command to build the binary")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	err := run(ctx, []string{"--quick", "--runs", "2", "--lines", "20000", "--records", "20000", "--latency-duration", "1s", "--work", t.TempDir()}, &out, &errb)
	t.Logf("progress:\n%s", errb.String())
	t.Logf("table:\n%s", out.String())
	if err != nil {
		t.Fatal(err)
	}
	_, kcatErr := exec.LookPath("kcat")
	hasKcat := kcatErr == nil
	if !regexp.MustCompile(`(?m)^Machine: .+, \d+ cores, go1\.`).MatchString(out.String()) {
		t.Errorf("no machine line")
	}
	for _, want := range []string{
		"Each figure but latency and idle RSS is the median of 2 runs",
		"Sizes in MiB (2^20 bytes)",
		// The test's environment may set GOGC or GOMEMLIMIT; the worker
		// logs what it sets itself, and the report names a source for each.
		"- connect-standalone (the worker and its bundled broker, one process): GOGC=",
		"- tributary-bench, which hosts kfake (in-memory, same process): GOGC=",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	rows := map[string][]string{}
	for _, line := range strings.Split(out.String(), "\n") {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| figure") || strings.HasPrefix(line, "| ---") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 6 {
			t.Errorf("row %q has %d cells, want 6", line, len(cells))
			continue
		}
		rows[cells[0]] = cells
	}
	digit := regexp.MustCompile(`\d`)
	// A figure of two runs: the median, then the range in brackets.
	twoRuns := regexp.MustCompile(`^[\d,.]+ (s|MiB|records/s) \([\d,.]+–[\d,.]+\)$`)
	want := []struct {
		figure   string
		baseline string // the measured baseline's label, "" for none
		kcat     bool   // the baseline is kcat's
		runs     bool   // measured in each run
	}{
		{"20,000-line drain, file → topic → file (3.8 MiB)", "cat ", false, true},
		{"20,000-line drain vs the kcat pipeline", "kcat -P and kcat -C -c N at once ", true, true},
		{"20,000-line drain, CPU time (user + system) vs the kcat pipeline's", "kcat -P, kcat -C and broker ", true, true},
		{"append → sink latency at 1,000 lines/s", "", false, false},
		{"append → sink latency at 50,000 lines/s", "", false, false},
		{"broker produce, 20,000 × 200 B, acks=all", "kfake (in-memory, same process) ", false, true},
		{"broker consume (consumer-perf-test)", "kfake (in-memory, same process) ", false, true},
		{"consume to file, 20,000 records", "kcat -C -e ", true, true},
		{"peak RSS of the worker during the 20,000-line drain", "", false, true},
		{"idle RSS of the worker", "", false, false},
	}
	for _, w := range want {
		var cells []string
		for fig, c := range rows {
			if strings.HasPrefix(fig, w.figure) {
				cells = c
			}
		}
		if cells == nil {
			t.Errorf("no row %q", w.figure)
			continue
		}
		if !digit.MatchString(cells[1]) {
			t.Errorf("%s: result %q has no number", w.figure, cells[1])
		}
		if w.runs && !twoRuns.MatchString(cells[1]) {
			t.Errorf("%s: result %q is not a median and range", w.figure, cells[1])
		}
		if w.baseline != "" && (!w.kcat || hasKcat) {
			b, ok := strings.CutPrefix(cells[2], w.baseline)
			if !ok || !twoRuns.MatchString(b) || !strings.HasSuffix(cells[3], "×") {
				t.Errorf("%s: baseline %q (want %q and a median and range), ratio %q", w.figure, cells[2], w.baseline, cells[3])
			}
		}
		if w.kcat && !hasKcat && cells[2] != "kcat not used" {
			t.Errorf("%s: baseline %q without kcat", w.figure, cells[2])
		}
		if m := cells[5]; m != "yes" && m != "no" && m != "—" {
			t.Errorf("%s: met? %q", w.figure, m)
		}
	}
}
