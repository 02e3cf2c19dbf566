package connect

import (
	"bytes"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"
)

// TestProgressCatchUp drives the progress loop through a catch-up of a
// 200 MB file at 1M lines (100 MB) a second, sampled every second: the
// REST rate is the last second's, a "catching up" line comes every 5
// samples with the current rate and the time left, and "caught up" once
// at the end; keeping up afterwards logs nothing more for 30 samples.
func TestProgressCatchUp(t *testing.T) {
	var logs bytes.Buffer
	c := &connectorRuntime{spec: &connectorSpec{name: "src", plugin: &Plugin{Type: Source}},
		log: slog.New(slog.NewTextHandler(&logs, nil))}
	task := &taskRuntime{c: c}
	c.tasks = []*taskRuntime{task}
	const size = 200_000_000
	var read int64
	task.setReport(func() Progress { return Progress{ReadBytes: read, SizeBytes: size} })

	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	c.progressTick(t0, time.Second)
	for s := 1; s <= 6; s++ {
		read += 30_000_000 // 30 MB/s: 300k lines of 100 bytes
		task.stats.records.Add(300_000)
		c.progressTick(t0.Add(time.Duration(s)*time.Second), time.Second)
		if got := math.Float64frombits(task.stats.rate.Load()); got != 300_000 {
			t.Fatalf("sample %d: records_per_second %v, want 300000 (the last second's)", s, got)
		}
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "msg=\"catching up\"") ||
		!strings.Contains(lines[0], "lines_per_sec=300000") || !strings.Contains(lines[0], "read_bytes=150000000") ||
		!strings.Contains(lines[0], "read_percent=75.0") || !strings.Contains(lines[0], "time_left=2s") {
		t.Fatalf("after 6 s behind, want one catching-up line at 5 s with rate, bytes and time left; log:\n%s", logs.String())
	}
	read = size
	task.stats.records.Add(10)
	c.progressTick(t0.Add(7*time.Second), time.Second)
	if n := strings.Count(logs.String(), "msg=\"caught up\""); n != 1 || !strings.Contains(logs.String(), "took=7s") {
		t.Fatalf("want one caught-up line that took 7s; log:\n%s", logs.String())
	}
	before := logs.Len()
	for s := 8; s < 8+logSteadyEvery-1; s++ {
		c.progressTick(t0.Add(time.Duration(s)*time.Second), time.Second)
	}
	if logs.Len() != before {
		t.Fatalf("logged while keeping up with no traffic:\n%s", logs.String()[before:])
	}
}

// TestProgressSmallFileCaughtUp: a file read before the first sample is
// said to be caught up once, at the first sample; a connector with nothing
// to read says nothing.
func TestProgressSmallFileCaughtUp(t *testing.T) {
	for _, tc := range []struct {
		recs int64
		want int
	}{{500, 1}, {0, 0}} {
		var logs bytes.Buffer
		c := &connectorRuntime{spec: &connectorSpec{name: "src", plugin: &Plugin{Type: Source}},
			log: slog.New(slog.NewTextHandler(&logs, nil))}
		task := &taskRuntime{c: c}
		c.tasks = []*taskRuntime{task}
		task.setReport(func() Progress { return Progress{ReadBytes: 100 * tc.recs, SizeBytes: 100 * tc.recs} })
		t0 := time.Now()
		task.stats.records.Add(tc.recs) // read before the first sample
		c.progressTick(t0.Add(time.Second), time.Second)
		c.progressTick(t0.Add(2*time.Second), time.Second)
		if n := strings.Count(logs.String(), "caught up"); n != tc.want {
			t.Errorf("%d records: %d caught-up lines, want %d; log:\n%s", tc.recs, n, tc.want, logs.String())
		}
	}
}
