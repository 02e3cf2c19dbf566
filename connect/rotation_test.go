package connect_test

import (
	"bytes"
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
