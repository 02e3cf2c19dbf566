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
	err := run(ctx, []string{"--quick", "--lines", "20000", "--records", "20000", "--latency-duration", "1s", "--work", t.TempDir()}, &out, &errb)
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
	want := []struct {
		figure   string
		baseline bool // has a measured baseline
		kcat     bool // the baseline is kcat's
	}{
		{"20,000-line drain, file → topic → file", true, false},
		{"20,000-line drain vs the kcat pipeline", true, true},
		{"20,000-line drain, CPU time (user + system) vs the kcat pipeline's", true, true},
		{"append → sink latency at 1,000 lines/s", false, false},
		{"append → sink latency at 50,000 lines/s", false, false},
		{"broker produce, 20,000 × 200 B, acks=all", true, false},
		{"broker consume (consumer-perf-test)", true, false},
		{"consume to file, 20,000 records", true, true},
		{"peak RSS of the worker during the 20,000-line drain", false, false},
		{"idle RSS of the worker", false, false},
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
		if w.baseline && (!w.kcat || hasKcat) {
			if !digit.MatchString(cells[2]) || !strings.HasSuffix(cells[3], "×") {
				t.Errorf("%s: baseline %q, ratio %q", w.figure, cells[2], cells[3])
			}
		}
		if m := cells[5]; m != "yes" && m != "no" && m != "—" {
			t.Errorf("%s: met? %q", w.figure, m)
		}
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 50000: "50,000", 1234567: "1,234,567"} {
		if got := count(n); got != want {
			t.Errorf("count(%d) = %q, want %q", n, got, want)
		}
	}
}
