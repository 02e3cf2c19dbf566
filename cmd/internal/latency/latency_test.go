package latency

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// copier stands in for a connector: it copies what is appended to src into
// dst as it arrives, polling src, until stopped.
type copier struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	err    error
}

func startCopier(t *testing.T, src, dst string) *copier {
	t.Helper()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &copier{cancel: cancel}
	c.wg.Add(1)
	go func() { // owned by c: stop ends it
		defer c.wg.Done()
		defer out.Close()
		var pos int64
		buf := make([]byte, 1<<16)
		for ctx.Err() == nil {
			in, err := os.Open(src)
			if err != nil {
				c.err = err
				return
			}
			n, err := in.ReadAt(buf, pos)
			in.Close()
			if err != nil && !errors.Is(err, io.EOF) {
				c.err = err
				return
			}
			if _, err := out.Write(buf[:n]); err != nil {
				c.err = err
				return
			}
			pos += int64(n)
			if n == 0 {
				select {
				case <-ctx.Done():
				case <-time.After(100 * time.Microsecond):
				}
			}
		}
	}()
	t.Cleanup(c.stop)
	return c
}

func (c *copier) stop() {
	c.cancel()
	c.wg.Wait()
}

func TestMeasure(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	if err := os.WriteFile(src, []byte("a line before the measurement\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := startCopier(t, src, dst)
	res, err := Measure(context.Background(), Config{Source: src, Sink: dst, Rate: 2000, Duration: 250 * time.Millisecond, Timeout: 30 * time.Second})
	c.stop()
	if err != nil {
		t.Fatal(err)
	}
	if c.err != nil {
		t.Fatal(c.err)
	}
	if res.Lines != 500 {
		t.Errorf("Lines = %d, want 500 (2000 lines/s for 250 ms)", res.Lines)
	}
	if !(0 <= res.P50 && res.P50 <= res.P90 && res.P90 <= res.P99 && res.P99 <= res.Max) {
		t.Errorf("quantiles out of order: %v", res)
	}
	if res.Max > 30*time.Second {
		t.Errorf("Max %v is longer than the run could take", res.Max)
	}
	// The source holds the earlier line, the warm-up line and 500 stamped
	// lines numbered 0 to 499 in order, each padded to an access log line's
	// size.
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 502 || !strings.HasPrefix(lines[1], "warmup ") {
		t.Fatalf("source has %d lines (want 502), the second %q", len(lines), lines[1])
	}
	for i, l := range lines[2:] {
		f := strings.Fields(l)
		if len(f[0]) != stampLen || f[1] != strconv.Itoa(i) || !strings.HasSuffix(l, padding) {
			t.Fatalf("line %d is %q", i, l)
		}
	}
}

func TestMeasureTimesOutWithoutWarmUp(t *testing.T) {
	dir := t.TempDir()
	_, err := Measure(context.Background(), Config{Source: filepath.Join(dir, "src"), Sink: filepath.Join(dir, "dst"), Rate: 10, Duration: time.Second, Timeout: 20 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "warm-up line") {
		t.Fatalf("err = %v, want a time-out waiting for the warm-up line", err)
	}
}

func TestMeasureEndsWithContext(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Measure(ctx, Config{Source: filepath.Join(dir, "src"), Sink: filepath.Join(dir, "dst"), Rate: 10, Duration: time.Second})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestMeasureRefusesBadConfig(t *testing.T) {
	for _, cfg := range []Config{{Rate: 0, Duration: time.Second}, {Rate: 10, Duration: 0}, {Rate: -1, Duration: time.Second}} {
		if _, err := Measure(context.Background(), cfg); err == nil {
			t.Errorf("Measure(%+v) = nil error", cfg)
		}
	}
}

// TestReader: lines before the warm-up line are skipped, unstamped lines
// are not counted, and a partial line waits for its end.
func TestReader(t *testing.T) {
	sink := filepath.Join(t.TempDir(), "sink")
	r := &reader{path: sink, buf: make([]byte, 64)} // small: reads take several rounds
	defer r.close()
	if r.seen([]byte("warmup 1\n")) {
		t.Fatal("seen before the sink file exists")
	}
	stamp := strconv.FormatInt(time.Now().Add(-time.Hour).UnixNano(), 10)
	f, err := os.Create(sink)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	write := func(s string) {
		t.Helper()
		if _, err := f.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}
	write(stamp + " old line, not measured\nwarmup 1\n" + stamp + " 0 first\nno stamp here\n" + stamp[:10])
	if !r.seen([]byte("warmup 1\n")) { // within the first 64 bytes
		t.Fatal("warm-up line not seen")
	}
	var lat []time.Duration
	for {
		n, err := r.lines(&lat)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	if len(lat) != 1 {
		t.Fatalf("%d latencies after the first read, want 1", len(lat))
	}
	write(stamp[10:] + " 1 second\n")
	if n, err := r.lines(&lat); err != nil || n != 1 {
		t.Fatalf("lines = %d, %v; want the completed line", n, err)
	}
	for i, d := range lat {
		if d < time.Hour {
			t.Errorf("latency %d = %v, want at least the hour since its stamp", i, d)
		}
	}
	if len(r.pending) != 0 {
		t.Errorf("pending %q after whole lines", r.pending)
	}
}

func TestWrite(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "src"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	t0 := time.Now()
	if err := write(context.Background(), f, 100_000, 1000); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	if len(lines) != 1000 {
		t.Fatalf("%d lines, want 1000", len(lines))
	}
	var last int64
	for i, l := range lines {
		ns, err := strconv.ParseInt(string(l[:stampLen]), 10, 64)
		if err != nil || ns < t0.UnixNano() || ns < last {
			t.Fatalf("line %d: stamp %q before the start or the line before", i, l[:stampLen])
		}
		last = ns
		if seq := bytes.Fields(l)[1]; string(seq) != strconv.Itoa(i) {
			t.Fatalf("line %d has sequence number %s", i, seq)
		}
	}
}
