package connect_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// logWriter appends numbered lines to a file at a steady rate and rotates
// it the way log writers and logrotate do.
type logWriter struct {
	t    testing.TB
	path string

	mu      sync.Mutex
	f       *os.File
	next    int
	written []time.Time // when line i was written
	windows [][2]time.Time
}

func newLogWriter(t testing.TB, path string) *logWriter {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	return &logWriter{t: t, path: path, f: f}
}

func (w *logWriter) write(n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b bytes.Buffer
	for range n {
		fmt.Fprintf(&b, "%08d 192.0.2.39 - - \"GET /index.html HTTP/1.1\" 200 %d\n", w.next, w.next*7)
		w.next++
	}
	if _, err := w.f.Write(b.Bytes()); err != nil {
		w.t.Error(err)
	}
	now := time.Now()
	for range n {
		w.written = append(w.written, now)
	}
}

// reopen rotates by rename (or delete) and reopen: a few lines still go to
// the old file after it was moved, as they do until a writer reopens.
func (w *logWriter) reopen(remove bool, gen int) {
	var err error
	if remove {
		err = os.Remove(w.path)
	} else {
		err = os.Rename(w.path, w.path+"."+strconv.Itoa(gen))
	}
	if err != nil {
		w.t.Fatal(err)
	}
	w.write(5)
	w.mu.Lock()
	w.f.Close()
	w.f, err = os.OpenFile(w.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	w.mu.Unlock()
	if err != nil {
		w.t.Fatal(err)
	}
}

// copyTruncate is logrotate's copytruncate, run beside the writer: what
// the writer appends between the copy and the truncation is lost.
func (w *logWriter) copyTruncate(gen int) {
	start := time.Now()
	src, err := os.Open(w.path)
	if err != nil {
		w.t.Fatal(err)
	}
	dst, _ := os.Create(w.path + "." + strconv.Itoa(gen))
	io.Copy(dst, src)
	src.Close()
	dst.Close()
	if err := os.Truncate(w.path, 0); err != nil {
		w.t.Fatal(err)
	}
	w.mu.Lock()
	w.windows = append(w.windows, [2]time.Time{start, time.Now()})
	w.mu.Unlock()
}

func (w *logWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.f.Close()
}

// check reads the sink file's line numbers: strictly increasing (nothing
// twice, order kept), and every line missing was written inside a
// copytruncate window (widened by slack for the reader's lag).
func (w *logWriter) check(t testing.TB, out string, slack time.Duration) (got, missing int) {
	t.Helper()
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	prev := -1
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if line == "" {
			continue
		}
		n, err := strconv.Atoi(line[:8])
		if err != nil {
			t.Fatalf("bad line %q", line)
		}
		if n <= prev {
			t.Fatalf("line %d after line %d: repeated or out of order", n, prev)
		}
		for m := prev + 1; m < n; m++ {
			at := w.written[m]
			allowed := false
			for _, win := range w.windows {
				allowed = allowed || (!at.Before(win[0].Add(-slack)) && !at.After(win[1]))
			}
			if !allowed {
				t.Fatalf("line %d (written %v) is missing outside any copytruncate window %v", m, at.Format(time.StampMicro), w.windows)
			}
			missing++
		}
		prev = n
		got++
	}
	return got, missing
}

func TestRotationUnderLoad(t *testing.T) {
	addr := startKfake(t)
	modes := []string{"rename+create", "delete+recreate", "copytruncate"}
	for i, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			in, out := filepath.Join(dir, "access.log"), filepath.Join(dir, "out.txt")
			topic := fmt.Sprintf("rot%d", i)
			lw := newLogWriter(t, in)
			lw.write(100)
			startWorker(t, workerProps(addr, dir), sourceProps(dir, in, topic), sinkProps(dir, out, topic))
			// 1000 lines a second: 10 every 10 ms, for 3 seconds, rotating
			// after each second.
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			for step := 1; step <= 300; step++ {
				<-tick.C
				lw.write(10)
				if step%100 == 0 && step < 300 {
					switch mode {
					case "rename+create":
						lw.reopen(false, step/100)
					case "delete+recreate":
						lw.reopen(true, step/100)
					case "copytruncate":
						lw.copyTruncate(step / 100)
					}
				}
			}
			lw.close()
			total := lw.next
			waitFor(t, 60*time.Second, "the last line in the sink", func() bool {
				b, _ := os.ReadFile(out)
				return bytes.Contains(b, []byte(fmt.Sprintf("%08d ", total-1)))
			})
			got, missing := lw.check(t, out, 250*time.Millisecond)
			if mode != "copytruncate" && missing > 0 {
				t.Fatalf("%d lines lost", missing)
			}
			t.Logf("%s: %d of %d lines arrived, %d lost inside copytruncate windows", mode, got, total, missing)
		})
	}
}

// TestRotatedFileFinishedAfterItsSuccessor: a restart finishes the rotated
// file first, and lines written to it after the next file was begun reach
// the topic after some of that file's. The restarts after that one find the
// next file's lines in the topic although they come before the stored
// position's record, and send none of them again; also when the stored
// offset names a record later than the next file's first lines, the next
// file's later lines following it.
func TestRotatedFileFinishedAfterItsSuccessor(t *testing.T) {
	for _, later := range []bool{false, true} {
		name := "stored"
		if later {
			name = "later-record"
		}
		t.Run(name, func(t *testing.T) { testRotatedFinishedLate(t, later) })
	}
}

func testRotatedFinishedLate(t *testing.T, later bool) {
	addr := startKfake(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "app.log"), filepath.Join(dir, "out.txt")
	offsets := filepath.Join(dir, "connect.offsets")
	run := func(want []byte) {
		t.Helper()
		w := startWorker(t, workerProps(addr, dir), sourceProps(dir, in, "lines"), sinkProps(dir, out, "lines"))
		waitForFile(t, out, want)
		if err := w.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}

	want := appendLines(t, in, 0, 100)
	run(want)
	saved, err := os.ReadFile(offsets) // in the first file, at its end
	if err != nil {
		t.Fatal(err)
	}

	if err := os.Rename(in, in+".1"); err != nil {
		t.Fatal(err)
	}
	want = append(want, appendLines(t, in, 1000, 50)...)
	run(want)

	// The second run's offsets are lost, and the writer had still written
	// to the rotated file: the third run reads those lines first.
	if err := os.WriteFile(offsets, saved, 0o644); err != nil {
		t.Fatal(err)
	}
	want = append(want, appendLines(t, in+".1", 100, 20)...)
	n := 170
	if later {
		want = append(want, appendLines(t, in, 1050, 10)...)
		n += 10
	}
	run(want)
	if later {
		// An offset in the rotated file naming a record later than the
		// next file's first lines (its last line's, sent after them).
		last := -1
		for _, r := range consumeAll(t, addr, "lines", n) {
			if strings.HasPrefix(string(r.Value), "line 000119 ") {
				last = int(r.Offset)
			}
		}
		rewriteOffset(t, offsets, func(v map[string]any) {
			v["position"] = 120 * 32
			v["record"].(map[string]any)["offset"] = last
			v["identity"] = savedOffset(t, saved)["identity"]
			delete(v, "proof") // taken on the inode and first line
		})
	}

	want = append(want, appendLines(t, in, 1060, 10)...)
	n += 10
	run(want)
	if recs := consumeAll(t, addr, "lines", n); len(recs) != n {
		t.Fatalf("topic holds %d records, want %d", len(recs), n)
	}
}

// savedOffset returns the value of the one offset in an offsets file.
func savedOffset(t *testing.T, file []byte) map[string]any {
	t.Helper()
	var entries []struct {
		Key   json.RawMessage `json:"key"`
		Value map[string]any  `json:"value"`
	}
	if err := json.Unmarshal(file, &entries); err != nil || len(entries) != 1 {
		t.Fatalf("offsets file %s: %d entries, %v", file, len(entries), err)
	}
	return entries[0].Value
}

// rewriteOffset changes the one offset of the offsets file at path.
func rewriteOffset(t *testing.T, path string, change func(map[string]any)) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var entries []map[string]any
	if err := json.Unmarshal(b, &entries); err != nil || len(entries) != 1 {
		t.Fatalf("offsets file %s: %d entries, %v", b, len(entries), err)
	}
	change(entries[0]["value"].(map[string]any))
	if b, err = json.Marshal(entries); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
